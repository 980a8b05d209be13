"""Short, actionable error messages: one place that turns exceptions into text.

A user who meets an error at the command line needs to know what happened
and what to do next, not where in the code it happened.  Each error class
gets a message (its own ``str``, which the typed errors make precise) plus,
where there is one, a concrete next step: who holds a busy port, which
character of a number is wrong, what the recovery ladder tried.  Tracebacks
are for ``-v``; :mod:`modemctl.cli.main` decides that.
"""

from __future__ import annotations

import errno
import re

from modemctl import errors
from modemctl.cli.target import NoPortGiven, UnknownLine

DIAL_CHARS_HINT = ("a number may hold only dial digits (0-9 * # A-D, a leading +), "
                   "the modifiers T P W , ! @ and the spacing characters ( ) - and space")


_ERRNO_TUPLE = re.compile(r"\(\s*\d+\s*,\s*'([^']*)'\s*\)")
_ERRNO_TAG = re.compile(r"\[Errno -?\d+\]\s*")
_PYSERIAL_WRAP = re.compile(r"(?i)could not (open|configure) port(\s+\S+)?:\s+")
_QUOTED_TAIL = re.compile(r":\s*'[^']*'$")
NOT_A_TTY = "Inappropriate ioctl for device"


def plain(text: str) -> str:
    """Library error text as a sentence: no errno tuples, no ``[Errno N]``, no repeats.

    pyserial nests the OS error inside its own (``could not open port X:
    [Errno 2] could not open port X: [Errno 2] No such file...: 'X'``); the
    user needs the OS's words once.
    """
    text = _ERRNO_TUPLE.sub(r"\1", text)
    text = _ERRNO_TAG.sub("", text)
    text = _PYSERIAL_WRAP.sub("", text)
    text = _QUOTED_TAIL.sub("", text)
    parts: list[str] = []
    for part in text.split(": "):
        if part and (not parts or part.lower() != parts[-1].lower()):
            parts.append(part)
    return ": ".join(parts)


def describe(exc: BaseException) -> list[str]:
    """The lines to print for ``exc``: ``error: ...``, details, then ``hint: ...``."""
    if isinstance(exc, errors.PortBusy):
        return _port_busy(exc)
    if isinstance(exc, errors.PortNotFound):
        return [f"error: {plain(str(exc))}",
                "hint: `modemctl ports` lists the serial ports here (and running fake lines)"]
    if isinstance(exc, errors.InvalidAddress):
        return _invalid_address(exc)
    if isinstance(exc, errors.ModemUnresponsive):
        lines = ["error: the modem does not respond; tried, in order:"]
        lines += [f"  {step.action}: {'ok' if step.succeeded else 'failed'}"
                  + (f" ({step.detail})" if step.detail else "") for step in exc.attempts]
        if not exc.attempts:
            lines.append("  (nothing could be tried)")
        lines.append("hint: check the modem's power and cable, then "
                     "`modemctl at PORT AT` should answer OK")
        return lines
    if isinstance(exc, errors.CommandTimeout):
        answered = [r for r in exc.received if r.strip() and r.strip() != exc.command]
        if exc.received and not answered:
            return [f"error: {exc}; only the command came back (echoed as sent)",
                    "hint: a modem still busy with it needs longer (--timeout, "
                    "--dial-timeout); a port that only echoes (a loopback) has no modem"]
        if answered:
            # Something answered, so there is a device: it is the conversation that fails.
            return [f"error: {exc}; the port answered {' | '.join(answered)!r} instead",
                    "hint: a wrong speed garbles replies (try -s 9600 or -s 19200), or the "
                    "device is not a modem in command mode (a login or another program's "
                    "session on it?)"]
        return [f"error: {exc}",
                "hint: is a modem on this port, powered on, at this speed (-s, or baudrate "
                "in the config)?"]
    if isinstance(exc, errors.CommandError):
        info = "".join(f"\n  {line}" for line in exc.info)
        return [f"error: the modem answered {exc.result} to {exc.command!r}{info}"]
    if isinstance(exc, errors.OperationUnavailable):
        return _secure_unavailable(exc)
    if isinstance(exc, UnknownLine):
        return [f"error: {exc.reason}",
                f"hint: give a device path (/dev/ttyUSB0) or URL, or add [line.{exc.name}] "
                f"with port = \"...\" to {exc.source}"]
    if isinstance(exc, NoPortGiven):
        return [f"error: {exc.reason}",
                "hint: give a port or line name, or export MODEMCTL_LINE=<line name>"]
    if isinstance(exc, errors.ConfigError):
        return [f"error: config {exc.source}: {exc.reason}"]
    if isinstance(exc, PermissionError):
        return _permission(exc)
    if isinstance(exc, errors.TransportError):
        text = plain(str(exc))
        lines = [f"error: {text}"]
        if NOT_A_TTY in text:
            lines.append("hint: that is not a serial port; `modemctl ports` lists the serial "
                         "ports here (and running fake lines)")
        return lines
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return [f"error: {plain(exc.strerror or str(exc))}{where}"]
    if isinstance(exc, KeyboardInterrupt):
        return ["error: interrupted"]
    return [f"error: {plain(str(exc))}" if str(exc) else f"error: {type(exc).__name__}"]


def _port_busy(exc: errors.PortBusy) -> list[str]:
    # The transport names the holder (PID and /proc command name) in the error.
    hint = (f"hint: quit {exc.holder_name or 'that program'} or stop it with "
            f"`kill {exc.holder_pid}`, then retry" if exc.holder_pid is not None
            else "hint: close the program using the port (minicom, ModemManager...), then retry")
    return [f"error: {exc}", hint]


def _invalid_address(exc: errors.InvalidAddress) -> list[str]:
    lines = [f"error: {exc}"]
    if exc.position is not None and 0 <= exc.position < len(exc.address):
        shown = exc.address.encode("unicode_escape").decode("ascii")
        prefix = exc.address[:exc.position].encode("unicode_escape").decode("ascii")
        lines += [f"  {shown}", f"  {' ' * len(prefix)}^"]
    lines.append(f"hint: {DIAL_CHARS_HINT}")
    return lines


def _secure_unavailable(exc: errors.OperationUnavailable) -> list[str]:
    # Imported here: the error handler must not pull the line layer into every run.
    from modemctl.cli.render import report_lines

    lines = [f"error: {exc}"]
    if exc.report is not None:
        lines += [f"  {line}" for line in report_lines(exc.report)]
    lines.append("hint: --best-effort applies what this line can, --no-secure dials without; "
                 "`modemctl probe PORT` shows why")
    return lines


def _permission(exc: PermissionError) -> list[str]:
    target = exc.filename or "the port"
    lines = [f"error: permission denied opening {target}"]
    if exc.errno == errno.EACCES and str(target).startswith("/dev/"):
        lines.append("hint: add your user to the group that owns the device "
                     f"(`ls -l {target}`; usually: sudo usermod -aG dialout $USER), "
                     "then log in again")
    return lines
