"""The modem-line watch: DCD and RI as the engine's poller sees them.

A stub :class:`ModemLines` stands in for the port's status lines, so the
test decides exactly what each poll reads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
import structlog

from modemctl.at import CarrierLost
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.errors import TransportError
from modemctl.log import get_logger
from modemctl.transport import ModemLines, Transport, open_transport
from tests.driver.conftest import SCALE
from tests.driver.responder import ScriptedDCE


class StubLines(ModemLines):
    """Status lines the test sets; DCD low and RI off until told otherwise."""

    def __init__(self) -> None:
        super().__init__(None, False)
        self.dtr = True
        self.dcd = False

    @property
    def available(self) -> bool:
        return True

    @property
    def cd(self) -> bool | None:
        return self.dcd

    @property
    def ri(self) -> bool | None:
        return False


@pytest.fixture
async def watched(dce: ScriptedDCE) -> AsyncIterator[tuple[Engine, StubLines]]:
    transport = await open_transport(dce.port)
    lines = StubLines()
    transport.lines = lines

    async def no_reopen() -> Transport:
        raise TransportError("no reopen in this test")

    # DCD is believed only on a port where it has been seen to work.
    engine = Engine(transport, url=dce.port, time_scale=SCALE, log=get_logger(line="stub"),
                    reopen=no_reopen, trust=PortTrust(dcd=True))
    try:
        yield engine, lines
    finally:
        await engine.close()


async def test_carrier_gone_before_the_first_poll_is_declared(
        watched: tuple[Engine, StubLines]) -> None:
    """DCD (known to work on this port) rose at CONNECT and fell again
    before the poller ever saw it high (no falling edge to see): the
    carrier is still declared lost once the grace has passed, not left to
    a modem that may never say so."""
    engine, _ = watched
    engine.carrier_grace = 0.5
    async with engine.events() as sub:
        await engine.originate("ATD1")
        assert engine.mode is EngineMode.DATA
        async with asyncio.timeout(3):
            while not isinstance(ev := await sub.get(), CarrierLost):
                pass
    assert ev.source == "dcd"
    assert engine.mode is EngineMode.COMMAND
    async with asyncio.timeout(1):
        assert await engine.read() == b""



class RoundTripLines(StubLines):
    """Lines whose every read is a network round trip (pyserial's
    ``rfc2217://...?poll_modem``): records the thread each read runs in."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reads_wanted: int) -> None:
        super().__init__()
        self.threads: list[threading.Thread] = []
        self._loop = loop
        self._wanted = reads_wanted
        self.enough = asyncio.Event()

    @property
    def cd(self) -> bool | None:
        self.threads.append(threading.current_thread())
        if len(self.threads) == self._wanted:
            self._loop.call_soon_threadsafe(self.enough.set)
        return self.dcd


async def test_poll_modem_lines_are_read_off_the_loop(dce: ScriptedDCE) -> None:
    """A status read that asks the RFC 2217 server can take seconds: the
    watch must never make it in the event loop's thread."""
    transport = await open_transport(dce.port)
    lines = RoundTripLines(asyncio.get_running_loop(), reads_wanted=3)
    transport.lines = lines

    async def no_reopen() -> Transport:
        raise TransportError("no reopen in this test")

    engine = Engine(transport, url="rfc2217://127.0.0.1:1?poll_modem", time_scale=SCALE,
                    log=get_logger(line="stub"), reopen=no_reopen)
    try:
        async with asyncio.timeout(3):
            await lines.enough.wait()
    finally:
        await engine.close()
    assert threading.main_thread() not in lines.threads


async def test_a_crashing_line_watch_is_reported_at_once(
        watched: tuple[Engine, StubLines], monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the watch ends its task: that is logged when it happens (DCD
    is no longer watched), not found only at close, if at all."""
    engine, _ = watched
    crashed = asyncio.Event()

    def broken_step(cd: bool | None, now: float) -> None:
        crashed.set()
        raise RuntimeError("bug in the line watch")

    with structlog.testing.capture_logs() as logs:
        monkeypatch.setattr(engine._watch, "_step", broken_step)
        async with asyncio.timeout(2):
            await crashed.wait()
        await engine.command("AT")          # a round trip: the task's end has been handled
    failed = [e for e in logs if e["event"] == "background-task-failed"]
    assert failed and "bug in the line watch" in failed[0]["error"]
