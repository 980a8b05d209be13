"""The result format the driver needs, and putting it back when it drifts.

Why a module of its own: a modem's result format can change under the
driver at any time.  ``ATZ`` and a power cycle restore a stored profile
that may say V0, Q1 or E1; another program may have stored one; a
primitive parser can take an unknown extended command for a run of basic
ones and land in V0.  The AT core frames both formats and reports a
contradiction as :class:`~modemctl.at.FormatChanged`; the engine answers it
by re-asserting :data:`DRIVER_FORMAT` once the command in flight is done,
and re-asserts it unasked after every reset it sends (``Z``, ``&F``), after
a reopen and in the recovery ladder's resync.  Quiet (Q1) cannot be seen at
all, only suffered as silence, so the resync rung is its only cure: with
echo off a quiet modem gives nothing else to go on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modemctl.at import FormatChanged, ResultFormat
from modemctl.at.commands import requested_format
from modemctl.driver.timing import FORMAT_TIMEOUT
from modemctl.errors import ModemctlError

if TYPE_CHECKING:
    from modemctl.driver.engine import Engine

#: No echo, result codes on, verbose: answers the line layer's parsers read.
DRIVER_FORMAT = "ATE0Q0V1"


def wanted(format_command: str) -> ResultFormat:
    """The format ``format_command`` sets (what the engine holds the modem to)."""
    asked = requested_format(format_command)
    return ResultFormat(asked.verbose, asked.echo)


def drifted(event: FormatChanged, format_command: str | None) -> bool:
    """Whether a reported change moved the modem away from the engine's format."""
    if format_command is None:
        return False
    want = wanted(format_command)
    return (want.verbose is not None and event.current.verbose != want.verbose) or \
        (want.echo is not None and event.current.echo is not None
         and event.current.echo != want.echo)


def resets_format(command: str) -> bool:
    """Whether ``command`` restores a profile (``Z``, ``&F``) and so may
    bring back any format."""
    return requested_format(command).resets


async def reassert(engine: Engine, reason: str) -> bool:
    """Send the engine's format command under its (held) lock.

    True when the modem answered OK; a timeout, ERROR or failed port is
    logged and leaves the format to the next trigger (the caller's own
    outcome stands either way: a re-assert never replaces its error).
    """
    command = engine.format_command
    if command is None:
        return False
    try:
        response = await engine._exchange(command, engine.scaled(FORMAT_TIMEOUT))
    except ModemctlError as e:
        engine._log.warning("result-format-reassert-failed", reason=reason, error=str(e))
        return False
    engine._log.info("result-format-reasserted", reason=reason, command=command,
                     answer=response.text)
    return response.ok
