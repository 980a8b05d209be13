"""The modem-line watch: DCD and RI as the engine learns them from the transport.

Most tests put a transport-side :class:`~modemctl.transport.linewatch.LineWatch`
of their own under a pty transport (a port that "notifies"), so the test
decides exactly which line changes the engine hears and when; one runs
against the fake exchange's RFC 2217 lines, whose RI pulses are shorter
than any poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
import structlog
from serial import rfc2217

from modemctl.at import CarrierLost, Event, RingIndicator
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.driver.rungs import EngineRungs
from modemctl.errors import TransportError
from modemctl.fake import Exchange
from modemctl.log import get_logger
from modemctl.transport import Transport, open_transport
from modemctl.transport.linewatch import LineWatch as PortWatch
from tests.driver.conftest import SCALE, wait_until
from tests.driver.responder import ScriptedDCE

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")

RINGS = 6


@pytest.fixture
async def watched(dce: ScriptedDCE) -> AsyncIterator[tuple[Engine, PortWatch]]:
    """An engine on a pty whose line changes the test reports itself."""
    transport = await open_transport(dce.port)
    watch = PortWatch("rfc2217", {"cd": False, "ri": False, "dsr": True, "cts": True})
    transport._watch = watch                     # type: ignore[attr-defined]

    async def no_reopen() -> Transport:
        raise TransportError("no reopen in this test")

    # DCD is believed only on a port where it has been seen to work.
    engine = Engine(transport, url=dce.port, time_scale=SCALE, log=get_logger(line="stub"),
                    reopen=no_reopen, trust=PortTrust(dcd=True))
    try:
        yield engine, watch
    finally:
        await engine.close()


async def next_of(sub: AsyncIterator[Event], kind: type[Event], within: float = 3.0) -> Event:
    async with asyncio.timeout(within):
        async for ev in sub:
            if isinstance(ev, kind):
                return ev
    raise AssertionError("subscription ended")


async def test_carrier_gone_before_the_call_came_up_is_declared(
        watched: tuple[Engine, PortWatch]) -> None:
    """DCD (known to work on this port) rose at CONNECT and fell again before
    the engine read the CONNECT (no falling edge in the call to see): the
    carrier is still declared lost once the grace has passed, not left to a
    modem that may never say so."""
    engine, _ = watched
    engine.carrier_grace = 0.5
    async with engine.events() as sub:
        await engine.originate("ATD1")
        assert engine.mode is EngineMode.DATA
        ev = await next_of(sub, CarrierLost)
    assert isinstance(ev, CarrierLost) and ev.source == "dcd"
    assert engine.mode is EngineMode.COMMAND
    async with asyncio.timeout(1):
        assert await engine.read() == b""


async def test_dcd_drop_is_given_the_carrier_grace(watched: tuple[Engine, PortWatch]) -> None:
    """A DCD drop shorter than the grace is ridden out (the modem does the
    same); one that lasts is declared lost, and not before the grace."""
    engine, watch = watched
    engine.carrier_grace = 1.0
    loop = asyncio.get_running_loop()
    watch.update({"cd": True})
    async with engine.events() as sub:
        await engine.originate("ATD1")
        watch.update({"cd": False})                 # a call-waiting tone, say
        await wait_until(lambda: engine._watch._low_since is not None)
        watch.update({"cd": True})
        await wait_until(lambda: engine._watch._low_since is None)
        assert engine._watch._timer is None         # nothing left to declare it lost
        assert engine.mode is EngineMode.DATA
        dropped = loop.time()
        watch.update({"cd": False})
        ev = await next_of(sub, CarrierLost)
        declared = loop.time()
    assert isinstance(ev, CarrierLost) and ev.source == "dcd"
    assert declared - dropped >= 1.0 * SCALE
    assert engine.mode is EngineMode.COMMAND


async def test_a_crashing_line_watch_is_reported_at_once(
        watched: tuple[Engine, PortWatch], monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in the watch ends its task: that is logged when it happens (DCD
    is no longer watched), not found only at close, if at all."""
    engine, watch = watched
    crashed = asyncio.Event()

    def broken_step(cd: bool | None, now: float) -> None:
        crashed.set()
        raise RuntimeError("bug in the line watch")

    with structlog.testing.capture_logs() as logs:
        monkeypatch.setattr(engine._watch, "_step", broken_step)
        watch.update({"cd": True})
        async with asyncio.timeout(2):
            await crashed.wait()
        await engine.command("AT")          # a round trip: the task's end has been handled
    failed = [e for e in logs if e["event"] == "background-task-failed"]
    assert failed and "bug in the line watch" in failed[0]["error"]


@pytest.fixture
def line_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every read of an RFC 2217 client's DCD or RI property, by name."""
    reads: list[str] = []
    for name in ("cd", "ri"):
        original = getattr(rfc2217.Serial, name)

        def counted(self: rfc2217.Serial, _name: str = name,
                    _get: property = original) -> bool:
            reads.append(_name)
            return bool(_get.fget(self))             # type: ignore[misc]

        monkeypatch.setattr(rfc2217.Serial, name, property(counted))
    yield reads


async def test_every_short_ri_pulse_is_an_event_and_idle_lines_are_not_read(
        line_reads: list[str]) -> None:
    """RI on for 4 ms, off for 8 ms (time scale 0.002), far below the 50 ms
    a poller samples at: each pulse still reaches ``events()`` as one
    RingIndicator, and the watch never samples the lines (the server
    notifies, so an idle line costs nothing)."""
    async with Exchange(time_scale=0.002) as ex:
        line = await ex.add_line("5551002", personality="agere-v92", rfc2217=True)
        assert line.url is not None
        engine = await Engine.open(line.url, time_scale=0.002)
        try:
            async with engine.events() as sub:
                await ex.ring_in("5551002", max_rings=RINGS)
                for _ in range(RINGS):
                    ev = await next_of(sub, RingIndicator, within=5.0)
                    assert isinstance(ev, RingIndicator) and ev.state
                # Every RING line went with its pulse, none counted twice.
                state = engine._transport.line_state
                assert state.ri_edges.rises == RINGS
        finally:
            await engine.close()
    assert line_reads == []


async def test_after_a_reopen_the_watch_follows_the_new_port() -> None:
    """The ladder's reopen replaces the transport: the watch starts again
    from the new port's line state and still reports every short pulse."""
    async with Exchange(time_scale=0.002) as ex:
        line = await ex.add_line("5551002", personality="agere-v92", rfc2217=True)
        assert line.url is not None
        engine = await Engine.open(line.url, time_scale=0.002)
        try:
            old = engine._transport
            async with engine._lock:
                await EngineRungs(engine).rung_action("reopen")
            assert engine._transport is not old and old.closed
            async with engine.events() as sub:
                await ex.ring_in("5551002", max_rings=2)
                for _ in range(2):
                    ev = await next_of(sub, RingIndicator, within=5.0)
                    assert isinstance(ev, RingIndicator) and ev.state
            assert (await engine.command("AT")).ok
        finally:
            await engine.close()
