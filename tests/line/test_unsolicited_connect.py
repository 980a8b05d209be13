"""A CONNECT no Call asked for (issue 7, defect 2): the line is idle again,
the modem on-hook, and that also holds when the line is closed at once."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from modemctl.at import Unsolicited, UnsolicitedKind
from modemctl.driver import EngineMode, EventSubscription
from tests.line.conftest import NEAR, THIRD, PairFactory, wait_until


async def _unsolicited_connect(sub: EventSubscription) -> None:
    """Until the engine has published the CONNECT nobody asked for."""
    async with asyncio.timeout(5):
        while not isinstance(ev := await sub.get(), Unsolicited) \
                or ev.kind is not UnsolicitedKind.CONNECT:
            pass


@pytest.mark.parametrize("rfc2217", [False, True])
async def test_close_right_after_an_auto_answer_leaves_the_modem_on_hook(
        make_pair: PairFactory, rfc2217: bool) -> None:
    """Someone else set S0 and the modem took a call just before close():
    the hang-up the CONNECT started must not be cancelled by the close, and
    what the line changed at open is still put back.  ``&D0``: the modem
    ignores DTR, so letting go of the port (a DTR drop) does not hang it up."""
    pair = await make_pair("conexant-v92", rfc2217=rfc2217)
    s0_at_open = pair.near_fake.registers[0]
    # Behind the line's back, as another program would.
    assert (await pair.near.engine.command("ATS0=1&D0")).ok
    async with pair.near.engine.events() as sub:
        party = await pair.ex.ring_in(NEAR, caller=THIRD)
        async with asyncio.timeout(5):
            assert await party.answered()                       # the modem auto-answered
        await _unsolicited_connect(sub)
    async with asyncio.timeout(10):
        await pair.near.close()
    assert pair.near_fake.state == "command"
    assert not pair.near_fake.dce.off_hook and not pair.near_fake.dce.call_up
    assert pair.near.restore_failures == ()
    assert pair.near_fake.registers[0] == 1 and s0_at_open == 0   # S0 not the line's to undo


NOISE = "\r\nCONNECT 33600\r\n"


@pytest.mark.parametrize(("rfc2217", "dcd_works"), [(False, None), (True, None), (True, True)])
async def test_connect_noise_on_an_idle_line_is_idle_again_within_a_guard_time(
        make_pair: PairFactory, rfc2217: bool, dcd_works: bool | None) -> None:
    """Noise reads as CONNECT with nothing in flight: the core goes ONLINE,
    but the modem is in command mode.  The line finds that out (DCD where it
    is known to work, else AT → OK) instead of escaping: a guarded +++ alone
    takes more than a guard time of silence, and gets no OK from a modem in
    command mode (before: the ladder's resync, 8 s at real time on a pty).
    Nor does it teach the port anything about DTR (before, on RFC 2217: a DTR
    drop "hung up" a modem that was never online, and DTR was believed)."""
    pair = await make_pair("conexant-v92", rfc2217=rfc2217, scale=0.5)
    engine = pair.near.engine
    if dcd_works:
        engine.trust.learn("dcd", True, pair.near.log, "seen high in an earlier call")
    guard = engine.guard_time
    loop = asyncio.get_running_loop()
    with structlog.testing.capture_logs() as logs:
        async with engine.events() as sub:
            started = loop.time()
            pair.near_fake.inject("garbage", data=NOISE)
            await _unsolicited_connect(sub)
        await wait_until(lambda: engine.mode is EngineMode.COMMAND, "the line idle again")
    refuted = [e["by"] for e in logs if e["event"] == "unsolicited-connect-refuted"]
    assert refuted == ["dcd" if dcd_works else "at"]
    assert loop.time() - started < guard          # no escape could fit in that
    assert engine.recoveries == [] and engine.trust.dtr is None
    assert pair.near_fake.state == "command"
    async with asyncio.timeout(10):
        await pair.near.probe()


@pytest.mark.parametrize(("rfc2217", "dcd_works"), [(False, None), (True, None), (True, True)])
async def test_a_call_the_modem_took_by_itself_is_still_hung_up(
        make_pair: PairFactory, rfc2217: bool, dcd_works: bool | None) -> None:
    """The other reading of the same CONNECT: S0 set behind the line's back,
    the modem really online.  The check must not mistake it for noise: the
    modem ends on-hook, in command state, and the line takes calls again."""
    pair = await make_pair("conexant-v92", rfc2217=rfc2217)
    engine = pair.near.engine
    if dcd_works:
        engine.trust.learn("dcd", True, pair.near.log, "seen high in an earlier call")
    assert (await engine.command("ATS0=1")).ok
    async with engine.events() as sub:
        party = await pair.ex.ring_in(NEAR, caller=THIRD)
        async with asyncio.timeout(5):
            assert await party.answered()
        await _unsolicited_connect(sub)
    await wait_until(lambda: engine.mode is EngineMode.COMMAND
                     and pair.near_fake.state == "command" and not pair.near_fake.dce.off_hook,
                     "the unwanted call hung up", within=10)
    heard = bytearray()
    async with asyncio.timeout(5):
        while chunk := await party.read(4096):         # b"": the call is over
            heard += chunk
    # Where DCD is known to work it decides, and nothing is sent; on a pty
    # (no DCD) the check's AT reached the caller as call data, unanswered.
    # (An RFC 2217 port learns in this very call that its DCD works.)
    if dcd_works:
        assert b"AT\r" not in heard
    elif not rfc2217:
        assert b"AT\r" in heard
    assert (await engine.command("ATS0=0")).ok
    call, _ = await pair.connect()
    await call.drop()
