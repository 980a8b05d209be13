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

from modemctl import errors
from modemctl.cli.target import NoPortGiven, UnknownLine

DIAL_CHARS_HINT = ("a number may hold only dial digits (0-9 * # A-D, a leading +), "
                   "the modifiers T P W , ! @ and the spacing characters ( ) - and space")


def describe(exc: BaseException) -> list[str]:
    """The lines to print for ``exc``: ``error: ...``, details, then ``hint: ...``."""
    if isinstance(exc, errors.PortBusy):
        return _port_busy(exc)
    if isinstance(exc, errors.PortNotFound):
        return [f"error: {exc}",
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
        got = f" (received: {' | '.join(exc.received)})" if exc.received else ""
        return [f"error: {exc}{got}",
                "hint: is a modem on this port, powered on, at this speed (baudrate in the "
                "config)?"]
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
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return [f"error: {exc.strerror or exc}{where}"]
    if isinstance(exc, KeyboardInterrupt):
        return ["interrupted"]
    return [f"error: {exc}" if str(exc) else f"error: {type(exc).__name__}"]


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
