"""The engine's rungs of the recovery ladder (the order and bookkeeping are in
:mod:`modemctl.driver.recovery`).

Why apart from the engine: each rung is a small procedure of its own that
reaches under the command layer (resync the core, escape by force, drop DTR,
reset, reopen the port), and they are only ever run by the ladder, with the
engine's command lock held.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from modemctl.at import CarrierLost, ProtocolMode, Response
from modemctl.driver.escape import guarded_escape
from modemctl.driver.lastbytes import last_call_bytes, quiet_input
from modemctl.driver.recovery import RungAction
from modemctl.driver.resultformat import reassert
from modemctl.driver.timing import DEFAULT_TIMEOUT, REOPEN_POLL, REOPEN_WAIT
from modemctl.errors import CommandTimeout, ModemctlError, PortClosed, TransportError
from modemctl.transport import Transport

if TYPE_CHECKING:
    from modemctl.driver.engine import Engine


async def _to_command_state(engine: Engine, *, quiet: bool = False) -> None:
    """Move the core to command state on no word from the modem, where the
    next thing sent is a command (lock held).

    The rungs do this with no evidence the call is over (the modem may still
    be online, or may have just hung up), and call data still queued would
    then be read as lines and answer the next command (``0\\r``, ``OK``): the
    call's last bytes are read first (:mod:`.lastbytes`), as data where the
    core was in data mode, else (``quiet``) as lines with no command in flight.
    """
    if engine._core.mode is not ProtocolMode.COMMAND:
        await last_call_bytes(engine)
    elif quiet:
        await quiet_input(engine)
    engine._core.carrier_lost()


class EngineRungs:
    """One engine's rungs, as the ladder's :class:`~modemctl.driver.recovery.LadderOps`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def rung_action(self, action: RungAction) -> str:
        """One rung of the ladder (see :mod:`modemctl.driver.recovery`)."""
        engine = self._engine
        if action != "reopen" and not engine._reading:
            # Nothing is reading the port (it failed): only a reopen can help.
            raise TransportError("the port is not being read (closed or failed)")
        if action == "resync":
            engine._core.abort_command()
            # The engine has lost track of the modem: speak command mode; if the
            # modem is in fact online the next rung (escape) finds out.
            await _to_command_state(engine)
            await engine._send(b"\r")
            # A modem restored into Q1 with echo off answers nothing at all:
            # the format command is the one thing that makes it speak again.
            if await reassert(engine, "resync"):
                return f"CR, {engine.format_command} answered, then AT"
            return "CR, then AT"
        if action == "escape":
            result = await guarded_escape(engine, force=True)
            if isinstance(result, Response):
                engine._call_active = True
                return "+++ answered OK: the modem was online"
            if isinstance(result, CarrierLost):
                engine._call_active = False
            await _to_command_state(engine)
            return "+++ sent with guard times"
        if action == "dtr-drop":
            if not await engine.drop_dtr():
                raise TransportError("the port has no DTR line")
            # The drop may have ended a call the core already took for over
            # (moved by the rungs before): its last bytes come first.
            await _to_command_state(engine, quiet=True)
            engine._call_active = False
            await reassert(engine, "dtr-drop")      # under &D3 the drop was a reset
            return f"DTR low for {engine._dtr_hold():.3g}s"
        if action == "reset":
            engine._core.carrier_lost()
            try:
                answer = (await engine._exchange("ATZ", engine.scaled(DEFAULT_TIMEOUT))).text
            except CommandTimeout:
                answer = "nothing (a quiet profile?)"
            engine._call_active = False
            await reassert(engine, "reset")
            return f"ATZ -> {answer}"
        if action == "reopen":
            await engine._stop_tasks()
            await engine._transport.close()
            engine._fail_waiter(PortClosed("reopening"))
            engine._transport = await self._reopen_patiently()
            engine._core.reset()
            engine._call_active = False
            engine._stream.wake()
            engine._start_tasks()
            # A modem still in a call may go on sending it on the new port.
            await quiet_input(engine)
            await reassert(engine, "reopen")
            return "port closed and reopened"
        raise ValueError(f"unknown recovery action {action!r}")

    async def _reopen_patiently(self) -> Transport:
        """Reopen, retrying for up to REOPEN_WAIT (a USB modem re-enumerating
        takes a moment to reappear)."""
        engine = self._engine
        loop = asyncio.get_running_loop()
        deadline = loop.time() + engine.scaled(REOPEN_WAIT)
        while True:
            try:
                return await engine._reopen()
            except TransportError:
                if loop.time() >= deadline:
                    raise
            await asyncio.sleep(REOPEN_POLL)

    async def rung_probe(self) -> bool:
        """``AT`` → ``OK``, tried twice (a reset modem may swallow the first)."""
        engine = self._engine
        for _ in range(2):
            try:
                response = await engine._exchange("AT", engine.scaled(2.0))
            except CommandTimeout:
                continue
            except ModemctlError:
                return False
            if response.ok:
                return True
        return False

