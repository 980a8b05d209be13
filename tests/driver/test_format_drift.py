"""A modem whose result format changes underneath the driver (issue 8 item 1).

``ATZ`` and a power cycle restore a stored profile that may say V0, Q1 or
E1 (the fake's ``stored-profile`` fault, as another program's ``AT&W``
would leave it).  The engine must re-assert the format it needs
(``ATE0Q0V1``) and go on, never climb to ``ModemUnresponsive`` while the
modem is in fact answering.  The invariants are read on the fake's side:
its live settings, and answers that come back verbose.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from modemctl.at import FormatChanged, ResultCode
from modemctl.driver import Engine
from modemctl.errors import CommandTimeout
from modemctl.fake import Exchange
from modemctl.fake.line import FakeLine
from tests.driver.responder import ScriptedDCE

SCALE = 0.05


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


async def open_pair(ex: Exchange) -> tuple[FakeLine, Engine]:
    line = await ex.add_line("5551001", personality="conexant-v92")
    engine = await Engine.open(line.port, time_scale=SCALE)
    assert (await engine.command("ATE0Q0V1")).ok       # what the line layer sets at probe
    return line, engine


def driver_format(line: FakeLine) -> tuple[int, int, int]:
    s = line.dce.settings
    return s.echo, s.quiet, s.verbose


async def test_atz_restoring_v0_e1_is_answered_by_a_reassert(exchange: Exchange) -> None:
    line, engine = await open_pair(exchange)
    try:
        line.inject("stored-profile", v=0, e=1)
        async with engine.events() as sub:
            r = await engine.command("ATZ")
            assert r.ok and r.numeric                    # ATZ answers in the restored V0
            async with asyncio.timeout(2):
                while not isinstance(ev := await sub.get(), FormatChanged):
                    pass
        assert ev.current.verbose is False
        assert driver_format(line) == (0, 0, 1)         # E0 Q0 V1 again at the modem
        r = await engine.command("ATS0?")
        assert r.ok and not r.numeric and r.info == ("000",)
    finally:
        await engine.close()


async def test_quiet_profile_restored_by_atz_leaves_the_line_usable(exchange: Exchange) -> None:
    line, engine = await open_pair(exchange)
    try:
        line.inject("stored-profile", q=1)
        with pytest.raises(CommandTimeout):
            await engine.command("ATZ")                  # Q1: the reset says nothing
        assert driver_format(line) == (0, 0, 1)
        assert engine.consecutive_timeouts == 0          # the modem answered the re-assert
        assert (await engine.command("AT")).ok
        assert engine.recoveries == []
    finally:
        await engine.close()


async def test_power_cycle_into_quiet_echo_is_seen_by_its_echo(exchange: Exchange) -> None:
    line, engine = await open_pair(exchange)
    try:
        line.inject("stored-profile", q=1, v=0, e=1, reboot=True)   # behind our back
        with pytest.raises(CommandTimeout):
            await engine.command("AT")          # echoed (a FormatChanged), never answered
        r = await engine.command("ATS0?")       # the re-assert goes first
        assert r.ok and not r.numeric
        assert driver_format(line) == (0, 0, 1)
        assert engine.recoveries == []
    finally:
        await engine.close()


async def test_power_cycle_into_quiet_without_echo_recovers_after_one_silence(
        exchange: Exchange) -> None:
    line, engine = await open_pair(exchange)
    try:
        line.inject("stored-profile", q=1, v=0, e=0, reboot=True)   # nothing to see
        with pytest.raises(CommandTimeout):
            await engine.command("AT")          # silence; the format command follows it
        assert engine.consecutive_timeouts == 0
        assert driver_format(line) == (0, 0, 1)
        r = await engine.command("ATS0?")
        assert r.ok and not r.numeric
        assert engine.recoveries == []
    finally:
        await engine.close()


async def test_ladder_resync_reasserts_the_format(exchange: Exchange) -> None:
    """A modem that stays silent through the first re-assert (stalled), then
    comes back quiet: the ladder's resync rung is what makes it speak."""
    line, engine = await open_pair(exchange)
    try:
        line.inject("stored-profile", q=1, v=0, e=0, reboot=True)
        line.inject("stall", duration=8.0)                 # 0.4 s real: two silences
        for _ in range(2):
            with pytest.raises(CommandTimeout):
                await engine.command("AT")
        assert engine.recoveries and engine.recoveries[-1][-1].succeeded
        assert driver_format(line) == (0, 0, 1)
        assert not (await engine.command("ATS0?")).numeric
    finally:
        await engine.close()


async def test_modem_switching_to_numeric_mid_session_gets_v1_back() -> None:
    """A primitive parser that took an unknown command for V0: the scripted
    DCE goes numeric at a point of its own; the engine frames the numeric
    answer and re-asserts before the next command."""
    dce = ScriptedDCE(echo=False, guard=50 * 0.02 * SCALE)

    def goes_numeric(_cmd: str) -> list[str]:
        dce.verbose = False
        return ["OK"]

    dce.replies["AT+XYZ"] = goes_numeric
    engine = await Engine.open(dce.port, time_scale=SCALE)
    try:
        assert not (await engine.command("AT")).numeric     # the core now believes V1
        r = await engine.command("AT+XYZ")
        assert r.final is ResultCode.OK and r.numeric
        assert dce.verbose                                 # V1 re-asserted by the engine
        assert "ATE0Q0V1" in dce.commands
        assert not (await engine.command("AT")).numeric
    finally:
        await engine.close()
        dce.close()
