"""What ``dial`` and ``answer`` share: opening the line, showing progress, the session.

Both commands end the same way: the call is up, its secure report is shown,
the terminal is connected to it until ``~.`` or the far end hangs up, the
call is dropped, and the exit status follows the disconnect reason: 0 only
when this side ended the call (``~.``, end of input, a script that
finished), because a script must never take a dropped call for a clean one.
State
changes and line events (rings, caller ID, call waiting) are printed as
they happen, each with the time since the command started, so a user sees
where a call hangs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from modemctl.cli.context import Settings
from modemctl.cli.exitcodes import ExitCode, for_reason
from modemctl.cli.failures import describe
from modemctl.cli.render import enum_name, event_text, report_lines, report_summary
from modemctl.cli.script import SessionOptions
from modemctl.cli.target import Target
from modemctl.cli.terminal import (
    SessionEnd,
    json_lines,
    notice,
    raw_terminal,
    run_session,
    std_streams,
)
from modemctl.errors import ModemctlError
from modemctl.line import Call, CallState, Line, Secured, SecureReport, open_line


class Progress:
    """Prints progress lines with the time since the command started."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._start = time.monotonic()

    def __call__(self, message: str) -> None:
        if not self._settings.quiet:
            elapsed = time.monotonic() - self._start
            if json_lines():
                notice(message, event="progress", elapsed=round(elapsed, 3))
            else:
                notice(f"[{elapsed:6.2f}s] {message}")

    def outcome(self, message: str) -> None:
        """A line that says why a call failed: shown with ``-q`` too (not with ``-qq``).

        ``-q`` is for scripts that want only the far end's bytes on stdout, and
        they still need the one-line reason on stderr when there are none.
        """
        if not self._settings.quiet:
            self(message)
        elif self._settings.verbosity >= -1:
            notice(message, event="outcome")


@contextlib.asynccontextmanager
async def opened(settings: Settings, target: Target, location: str | None
                 ) -> AsyncIterator[Line]:
    """Open the line for ``target`` with the settings the user and the config gave."""
    # No location from the user or the config: the line uses the US dialing rules
    # and leaves the modem's country as it is.
    kwargs: dict[str, Any] = {"location": location or target.location,
                              "time_scale": settings.time_scale, "trace": settings.trace,
                              "cancel_code": target.cancel_code,
                              "cancel_code_pulse": target.cancel_code_pulse}
    if target.baudrate is not None:
        kwargs["baudrate"] = target.baudrate
    if target.name is not None:
        kwargs["name"] = target.name
    async with open_line(target.url, **kwargs) as line:
        yield line


@contextlib.asynccontextmanager
async def watching(line: Line, progress: Progress) -> AsyncIterator[None]:
    """Print the line's events (state changes, rings, caller ID...) while the body runs."""

    async def watch() -> None:
        async for event in line.events():
            text = event_text(event)
            if text is not None and not isinstance(event, Secured):    # shown as a report
                progress(text)

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)           # let it subscribe before anything happens
    try:
        yield
    finally:
        await settle()                # let events already queued be printed
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def settle() -> None:
    """Let the event printer catch up, so progress lines come out in order."""
    for _ in range(3):
        await asyncio.sleep(0)


def show_report(report: SecureReport, settings: Settings, progress: Progress) -> None:
    """The secure report: a short summary, or every mechanism with its reason with -v."""
    for line in (report_lines(report) if settings.verbosity > 0 else report_summary(report)):
        progress(line)


async def converse(call: Call, settings: Settings, progress: Progress,
                   options: SessionOptions) -> ExitCode:
    """Connect the terminal to the call that is up, then hang up and pick the exit status."""
    await settle()
    if call.secure_report is not None:
        show_report(call.secure_report, settings, progress)
    if call.state is not CallState.CONNECTED:
        reason = call.disconnect_reason
        progress.outcome(f"call not connected: {enum_name(reason)}")
        return for_reason(reason) if reason is not None else ExitCode.ERROR

    async def secure() -> None:
        progress("securing the call (escape to command mode, apply, ATO)...")
        try:
            report = await call.secure()
        except ModemctlError as exc:    # the session goes on; the user sees why
            for line in describe(exc):
                progress(line)
            return
        show_report(report, settings, progress)

    if options.escape is not None:
        e = chr(options.escape)
        progress(f"connected; type {e}? for help, {e}. to hang up")
    else:
        progress("connected; input is data (no escape), end of input hangs up")
    stdin, stdout = std_streams()
    with raw_terminal(stdin):
        end = (await run_session(call, stdin=stdin, stdout=stdout, secure=secure,
                                 options=options)).end
    if end is not SessionEnd.REMOTE:
        why = end.value if options.escape is None else end.value.replace("~", chr(options.escape))
        progress(f"{why}: hanging up")
        await call.drop()
    await settle()
    reason = call.disconnect_reason
    progress(f"call ended: {enum_name(reason) if reason is not None else 'NORMAL'}")
    if end is SessionEnd.NOT_EXPECTED:
        progress.outcome(f"{end.value} within {options.expect_timeout:g} s")
        return ExitCode.EXPECT_FAILED
    code = for_reason(reason)
    if end is SessionEnd.REMOTE and code is ExitCode.OK:
        # A bare NO CARRIER: the far end hung up, or the line was lost; without
        # DCD or RI the driver cannot tell, and neither is a hang-up we asked for.
        progress.outcome("the far end hung up or the line was lost (this port cannot tell "
                         "which)")
        return ExitCode.ENDED_UNEXPLAINED
    if code is not ExitCode.OK:
        progress.outcome(f"the call was lost: {enum_name(reason)}")
    return code
