"""A CONNECT no Call asked for (issue 7, defect 2): the line is idle again,
the modem on-hook, and that also holds when the line is closed at once."""

from __future__ import annotations

import asyncio

import pytest

from modemctl.at import Unsolicited, UnsolicitedKind
from modemctl.driver import EventSubscription
from tests.line.conftest import NEAR, THIRD, PairFactory


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
