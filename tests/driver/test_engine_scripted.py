"""Engine behaviour against the scripted pty DCE."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from modemctl.at import CarrierLost, ResultCode, Unsolicited, UnsolicitedKind
from modemctl.driver import Engine, EngineMode
from modemctl.errors import CommandError, CommandTimeout, InvalidCallState
from tests.driver.responder import ScriptedDCE
from tests.support import read_exactly


async def test_command_returns_info_and_final(engine: Engine, dce: ScriptedDCE) -> None:
    dce.replies["ATI0"] = ["56000", "OK"]
    r = await engine.command("ATI0")
    assert r.final is ResultCode.OK
    assert r.info == ("56000",)
    assert r.command == "ATI0"


async def test_unsolicited_lines_go_to_events_not_response(engine: Engine,
                                                           dce: ScriptedDCE) -> None:
    dce.replies["ATI3"] = ["CX81801-V90", "OK"]
    dce.before_final = ["RING", "NMBR = 5551234", "CALL WAITING DETECTED"]
    async with engine.events() as sub:
        r = await engine.command("ATI3")
        assert r.info == ("CX81801-V90",)
        kinds = [(await sub.get(2.0)) for _ in range(3)]
    assert [e.kind for e in kinds if isinstance(e, Unsolicited)] == [
        UnsolicitedKind.RING, UnsolicitedKind.CALLER_ID, UnsolicitedKind.CALL_WAITING]


async def test_error_raises_command_error(engine: Engine, dce: ScriptedDCE) -> None:
    dce.replies["AT+PCW=2"] = ["ERROR"]
    with pytest.raises(CommandError) as exc:
        await engine.command("AT+PCW=2")
    assert exc.value.result == "ERROR"


async def test_dial_data_escape_resume_hangup(engine: Engine, dce: ScriptedDCE) -> None:
    r = await engine.originate("ATDT5551234")
    assert r.final is ResultCode.CONNECT and r.rate == 33600
    assert engine.mode is EngineMode.DATA
    with pytest.raises(InvalidCallState):
        await engine.command("ATI0")
    await engine.write(b"hello\r\nworld")
    assert await read_exactly(engine, 12, within=2) == b"hello\r\nworld"
    await engine.escape()
    assert engine.mode is EngineMode.ONLINE_COMMAND
    assert (await engine.command("ATS0?")).ok
    r = await engine.resume()
    assert r.final is ResultCode.CONNECT and engine.mode is EngineMode.DATA
    await engine.hangup()
    assert engine.mode is EngineMode.COMMAND
    assert dce.commands[-1] == "ATH"


async def test_remote_hangup_ends_reads(engine: Engine, dce: ScriptedDCE) -> None:
    await engine.originate("ATD5551234")
    async with engine.events() as sub:
        dce.carrier_drop()
        assert await engine.read(10) == b""
        ev = await sub.get(2.0)
    assert isinstance(ev, CarrierLost)
    assert engine.mode is EngineMode.COMMAND


async def test_timeout_is_absolute_despite_unsolicited(engine: Engine,
                                                       dce: ScriptedDCE) -> None:
    dce.silent = True
    loop = asyncio.get_running_loop()

    async def rings() -> None:          # 2 s of RINGs, far past the deadline
        for _ in range(100):
            dce.send_line("RING")
            await asyncio.sleep(0.02)

    t0 = loop.time()
    task = asyncio.create_task(rings())
    with pytest.raises(CommandTimeout):
        await engine.command("AT", timeout=1.0)      # 1.0 * 0.05 -> floor 0.25 s
    elapsed = loop.time() - t0
    task.cancel()
    # A timer reset by each RING would run until the RINGs stop (>2 s).
    assert 0.24 <= elapsed < 1.5


async def test_each_command_keeps_its_own_deadline(engine: Engine, dce: ScriptedDCE) -> None:
    """One deadline timer serves every command: one armed for an earlier,
    shorter deadline must not fail a later, longer one, and one armed for a
    longer deadline must not delay a later, shorter one."""
    loop = asyncio.get_running_loop()
    late: list[asyncio.TimerHandle] = []

    def answer_after(seconds: float) -> Callable[[str], list[str]]:
        def reply(_cmd: str) -> list[str]:
            late.append(loop.call_later(seconds, dce.final, "OK", 0))
            return []
        return reply

    try:
        assert (await engine.command("AT", timeout=5.0)).ok        # 0.25 s real deadline
        dce.replies["ATI4"] = answer_after(0.5)
        t0 = loop.time()
        assert (await engine.command("ATI4", timeout=100.0)).ok    # 5 s real, answered at 0.5
        assert loop.time() - t0 >= 0.45
        dce.replies["ATI5"] = answer_after(3.0)
        t0 = loop.time()
        with pytest.raises(CommandTimeout):
            await engine.command("ATI5", timeout=5.0)              # 0.25 s real
        assert 0.24 <= loop.time() - t0 < 2.0
    finally:
        for handle in late:
            handle.cancel()
