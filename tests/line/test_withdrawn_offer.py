"""An offered call whose caller gives up is withdrawn, and no ring is lost meanwhile.

Found by the fault-injection soak (issue 7): a caller that hung up before the
line answered left the call OFFERING for good - the modem just stops sending
RING - so probe, make_call and wait_for_call refused until the user dropped
it.  Like TAPI, the line now ends such an offer (DISCONNECTED, NOANSWER) once
the rings stop, and is idle again.
"""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, DisconnectReason, InvalidCallState
from modemctl.line import CallerId, LineEvent, Ring, StateChanged, Subscription
from modemctl.line.events import EventHub
from modemctl.line.rings import RingWatch
from tests.line.conftest import NEAR, PairFactory


async def _next_event(events: Subscription, kind: type[LineEvent]) -> LineEvent:
    async for ev in events:
        if isinstance(ev, kind):
            return ev
    raise AssertionError(f"the line's events ended before a {kind.__name__}")


async def test_an_offer_whose_caller_hangs_up_is_withdrawn(make_pair: PairFactory) -> None:
    pair = await make_pair("conexant-v92")
    events = pair.near.events()
    party = await pair.ex.ring_in(NEAR, caller="5553333", name="ALICE")
    async with asyncio.timeout(10):
        offered = await pair.near.wait_for_call()
    assert offered.state is CallState.OFFERING
    await party.hangup()                       # the caller gives up before an answer
    async with asyncio.timeout(10):
        reason = await offered.wait_disconnected()
        assert reason is DisconnectReason.NOANSWER
        while True:                            # and the change was published
            ev = await _next_event(events, StateChanged)
            assert isinstance(ev, StateChanged)
            if ev.call_id == offered.call_id and ev.new is CallState.DISCONNECTED:
                break
    assert (ev.old, ev.reason) == (CallState.OFFERING, DisconnectReason.NOANSWER)
    with pytest.raises(InvalidCallState):      # a withdrawn offer cannot be answered
        await offered.answer()
    # The line is idle again: it probes, and takes the next call.
    async with asyncio.timeout(10):
        await pair.near.probe()
        second = await pair.ex.ring_in(NEAR, caller="5554444")
        again = await pair.near.wait_for_call()
        assert again.caller_id is not None and again.caller_id.number == "5554444"
        await again.answer()
        assert again.state is CallState.CONNECTED
        assert await second.answered()
        await again.drop()


async def test_an_offer_still_ringing_is_not_withdrawn(make_pair: PairFactory) -> None:
    pair = await make_pair("usr-v90")
    events = pair.near.events()
    party = await pair.ex.ring_in(NEAR, caller="5553333")
    async with asyncio.timeout(10):
        offered = await pair.near.wait_for_call()
        # Let it ring on for more than two ring periods after the offer.
        while True:
            ring = await _next_event(events, Ring)
            assert isinstance(ring, Ring)
            if ring.count >= 5:
                break
        assert offered.state is CallState.OFFERING
        await offered.answer()
        assert offered.state is CallState.CONNECTED
        assert await party.answered()
        await offered.drop()


async def test_a_ring_during_the_caller_id_wait_is_not_lost() -> None:
    """The ring that ends the caller-ID wait stays queued for the next offer.

    next_offer used to watch for the next ring by reading the ring queue in a
    task it cancelled once caller ID came; a read that had already taken a
    ring then lost it.
    """
    watch = RingWatch(EventHub(), time_scale=1.0)   # rings stay current for 12 s
    watch.on_ring(None)
    first = asyncio.create_task(watch.next_offer(expect_caller_id=True))
    await asyncio.sleep(0)           # next_offer takes the ring, waits for caller ID
    watch.on_caller_id({"field": "NMBR", "value": "5553333"})
    watch.on_caller_id({"field": "NAME", "value": "ALICE"})
    watch.on_ring(None)              # the second ring, in the same step
    async with asyncio.timeout(2):
        assert await first == CallerId(number="5553333", name="ALICE")
        # The second ring is a ring of a current call: an offer is there at once.
        assert await watch.next_offer(expect_caller_id=True) == CallerId(
            number="5553333", name="ALICE")
