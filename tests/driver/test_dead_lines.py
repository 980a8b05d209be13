"""Ports whose modem-control lines are dead (issue 8 item 3).

ser2net with ``local`` or in front of a pty, ``?ign_set_control``,
three-wire cables and many USB adapters accept a DTR change and do
nothing, and read DCD constantly low.  Here the scripted DCE is reached
through such a port: DTR "drops" succeed and change nothing, DCD reads low
all the time.  The engine must still hang up for real (the DCE leaves data
mode and gets ``ATH`` as a command), remember that DTR does nothing, and
not cut a call short because DCD "fell".
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from modemctl.at import CarrierLost, ResultCode, RingIndicator
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.errors import TransportError
from modemctl.log import get_logger
from modemctl.transport import ModemLines, Transport, open_transport
from modemctl.transport.linewatch import LineWatch as PortWatch
from tests.driver.conftest import SCALE, wait_until
from tests.driver.responder import ScriptedDCE


def _reports(transport: Transport, cd: bool) -> PortWatch:
    """Make ``transport`` report its lines as an RFC 2217 server would, with
    DCD at ``cd`` and RI low until the test changes them."""
    watch = PortWatch("rfc2217", {"cd": cd, "ri": False, "dsr": True, "cts": True})
    transport._watch = watch                     # type: ignore[attr-defined]
    return watch


async def _engine_on(dce: ScriptedDCE, lines: ModemLines, cd: bool, name: str,
                     set_dtr: Callable[[bool], Awaitable[bool]] | None = None
                     ) -> tuple[Engine, PortWatch]:
    """An engine on ``dce`` through a port with ``lines`` (and, if given, that
    ``set_dtr``), reporting DCD at ``cd``; the port cannot be reopened."""
    transport = await open_transport(dce.port)
    transport.lines = lines
    watch = _reports(transport, cd=cd)
    if set_dtr is not None:
        transport.set_dtr = set_dtr  # type: ignore[method-assign]

    async def no_reopen() -> Transport:
        raise TransportError("no reopen in this test")

    engine = Engine(transport, url=dce.port, time_scale=SCALE, log=get_logger(line=name),
                    reopen=no_reopen, trust=PortTrust())
    dce.echo = False
    return engine, watch


class DeadLines(ModemLines):
    """A port that claims modem lines: DTR is accepted, DCD and RI read low."""

    def __init__(self) -> None:
        super().__init__(None, False)
        self.dtr = True

    @property
    def available(self) -> bool:
        return True

    @property
    def cd(self) -> bool | None:
        return False

    @property
    def ri(self) -> bool | None:
        return False


@pytest.fixture
async def dead(dce: ScriptedDCE) -> AsyncIterator[Engine]:
    drops: list[bool] = []

    async def accepted_and_ignored(value: bool) -> bool:
        drops.append(value)
        return True

    engine, _ = await _engine_on(dce, DeadLines(), False, "dead", accepted_and_ignored)
    engine.dtr_drops = drops          # type: ignore[attr-defined]
    try:
        yield engine
    finally:
        await engine.close()


async def _connect(engine: Engine, dce: ScriptedDCE) -> None:
    assert (await engine.originate("ATD5551234")).final is ResultCode.CONNECT
    assert dce.data_mode


async def test_hangup_with_dead_dtr_falls_back_to_escape_and_remembers(
        dead: Engine, dce: ScriptedDCE) -> None:
    engine = dead
    await _connect(engine, dce)
    async with asyncio.timeout(10):
        await engine.hangup()
    assert not dce.data_mode                     # the modem really left the call
    assert "ATH" in dce.commands                 # ... and took ATH as a command
    assert engine.mode is EngineMode.COMMAND
    assert engine.trust.dtr is False
    drops_before = len(engine.dtr_drops)         # type: ignore[attr-defined]
    await _connect(engine, dce)
    async with asyncio.timeout(10):
        await engine.hangup()                    # the second time DTR is not even tried
    assert len(engine.dtr_drops) == drops_before  # type: ignore[attr-defined]
    assert not dce.data_mode and dce.commands.count("ATH") == 2


async def test_dcd_that_reads_low_throughout_does_not_end_the_call(
        dead: Engine, dce: ScriptedDCE) -> None:
    engine = dead
    engine.carrier_grace = 0.5                   # 25 ms at this scale: many polls
    async with engine.events() as sub:
        await _connect(engine, dce)
        for _ in range(3):                       # a quiet call, then a chatty one
            await asyncio.sleep(0.2)
            await engine.write(b"ping")
            async with asyncio.timeout(2):
                assert await engine.read(4) == b"ping"     # the DCE loops data back
        seen = [await sub.get(1.0) for _ in range(sub.pending())]
    assert not any(isinstance(ev, CarrierLost) for ev in seen)
    assert engine.mode is EngineMode.DATA
    assert engine.trust.dcd is False


class StuckHighDcd(DeadLines):
    """DCD tied high (``&C0``, a cable strapping it), DTR working."""

    @property
    def cd(self) -> bool | None:
        return True


async def test_dcd_stuck_high_does_not_make_a_working_dtr_look_dead(
        dce: ScriptedDCE) -> None:
    """DCD reads high in the call (so it looks alive) and stays high after a
    DTR drop that did hang the modem up: the modem is asked, DTR is learnt
    to work and DCD to be stuck; no escape is needed."""
    async def dtr_hangs_up(value: bool) -> bool:
        if not value and dce.data_mode:
            dce.carrier_drop()                # &D2: on-hook, NO CARRIER
        return True

    engine, _ = await _engine_on(dce, StuckHighDcd(), True, "stuck", dtr_hangs_up)
    try:
        await _connect(engine, dce)
        await wait_until(lambda: engine.trust.dcd is True)   # high in a call: looks alive
        async with asyncio.timeout(10):
            await engine.hangup()
        assert not dce.data_mode and engine.mode is EngineMode.COMMAND
        assert dce.escape_quiet == []                        # DTR did it, no +++ needed
        assert engine.trust.dtr is True
        assert engine.trust.dcd is False
    finally:
        await engine.close()


@pytest.fixture
async def ri_engine(dce: ScriptedDCE) -> AsyncIterator[tuple[Engine, PortWatch]]:
    """An engine on a port whose RI the test drives (a floating or miswired
    RI, or a real one)."""
    engine, watch = await _engine_on(dce, DeadLines(), False, "ri")
    try:
        yield engine, watch
    finally:
        await engine.close()


async def _pulse(watch: PortWatch) -> None:
    watch.update({"ri": True})
    await asyncio.sleep(0.15)
    watch.update({"ri": False})
    await asyncio.sleep(0.15)


async def test_ri_rising_with_no_ring_is_noise_and_is_ignored_in_calls(
        ri_engine: tuple[Engine, PortWatch], dce: ScriptedDCE) -> None:
    engine, watch = ri_engine
    async with engine.events() as sub:
        await _pulse(watch)                      # idle, and no RING follows
        await wait_until(lambda: engine.trust.ri is False)
        await _connect(engine, dce)
        await _pulse(watch)                      # would look like call waiting
        seen = [await sub.get(1.0) for _ in range(sub.pending())]
    assert sum(isinstance(ev, RingIndicator) for ev in seen) == 1   # only the first
    assert engine.mode is EngineMode.DATA


async def test_ri_rising_with_a_ring_is_believed(
        ri_engine: tuple[Engine, PortWatch], dce: ScriptedDCE) -> None:
    engine, watch = ri_engine
    watch.update({"ri": True})
    dce.send_line("RING")
    await wait_until(lambda: engine.trust.ri is True)
    watch.update({"ri": False})
    await asyncio.sleep(0.2)                     # past the check: it stays believed
    assert engine.trust.ri is True
