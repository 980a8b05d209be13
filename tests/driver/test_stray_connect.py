"""A CONNECT while a command that cannot connect is in flight (issue 7, soak).

Two things look alike on the wire: noise that reads as ``CONNECT 33600``
while ``ATS0?`` is in flight (its real answer follows), and a modem that
answered a call as the command went out (it took the command for call data,
so no answer ever comes).  The engine must stay in command mode for the
first and end up online, with an unsolicited CONNECT, for the second.
"""

from __future__ import annotations

import asyncio

import pytest

from modemctl.at import Noise, ResultCode, Unsolicited, UnsolicitedKind
from modemctl.driver import Engine, EngineMode
from modemctl.errors import CommandTimeout
from modemctl.line import open_line
from tests.driver.conftest import SCALE
from tests.driver.responder import ScriptedDCE
from tests.support import wait_until


def _answers_a_call(dce: ScriptedDCE, command: str) -> None:
    """Once: the modem auto-answers as ``command`` arrives, so it prints
    CONNECT and takes the command (and everything after) for call data."""
    def answer(_cmd: str) -> list[str]:
        del dce.replies[command]
        dce.data_mode = True
        dce.data_echo = False
        return [dce.connect_text]

    dce.replies[command] = answer


async def test_connect_noise_leaves_the_command_its_own_answer(engine: Engine,
                                                               dce: ScriptedDCE) -> None:
    dce.replies["ATS0?"] = ["000", "OK"]
    dce.before_final = ["CONNECT 33600"]
    async with engine.events() as sub:
        r = await engine.command("ATS0?")
        assert (r.final, r.info) == (ResultCode.OK, ("000",))
        ev = await sub.get(2.0)
    assert isinstance(ev, Noise) and ev.text == "CONNECT 33600"
    assert engine.mode is EngineMode.COMMAND
    dce.before_final = []
    assert (await engine.command("AT")).ok


async def test_a_call_answered_as_the_command_went_out_ends_online(engine: Engine,
                                                                   dce: ScriptedDCE) -> None:
    _answers_a_call(dce, "ATS0?")
    async with engine.events() as sub:
        with pytest.raises(CommandTimeout):
            await engine.command("ATS0?", timeout=1.0)
        kinds = []
        while not (kinds and isinstance(kinds[-1], Unsolicited)):
            kinds.append(await sub.get(2.0))
    assert kinds[-1].kind is UnsolicitedKind.CONNECT
    assert engine.mode is EngineMode.DATA
    # Explained, not a modem gone silent: no ladder, no timeout counted.
    assert engine.consecutive_timeouts == 0 and engine.recoveries == []
    async with asyncio.timeout(10):
        await engine.hangup()
    assert engine.mode is EngineMode.COMMAND and not dce.data_mode


async def test_line_hangs_up_a_call_answered_as_a_command_went_out() -> None:
    dce = ScriptedDCE(guard=50 * 0.02 * SCALE)
    try:
        dce.echo = False
        async with open_line(dce.port, "US", SCALE, profile="generic-hayes") as line:
            _answers_a_call(dce, "ATS0?")
            with pytest.raises(CommandTimeout):
                await line.engine.command("ATS0?", timeout=1.0)
            await wait_until(lambda: line.engine.mode is EngineMode.COMMAND
                             and not dce.data_mode, "the line hung the call up", within=10)
            assert dce.commands[-1] == "ATH"
            async with asyncio.timeout(10):
                await line.probe()
    finally:
        dce.close()
