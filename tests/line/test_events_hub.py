"""The line's event fan-out: eager subscription, bounded queues, close."""

from __future__ import annotations

import asyncio

from modemctl.line.events import EventHub, Ring


async def test_subscription_gets_events_published_before_iteration() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    hub.publish(Ring(1))                        # before anyone awaits
    hub.publish(Ring(2))
    hub.close()
    got = [ev async for ev in sub]
    assert got == [Ring(1), Ring(2)]


async def test_slow_subscriber_loses_oldest_and_never_blocks() -> None:
    hub = EventHub(maxsize=3)
    sub = hub.subscribe()
    for n in range(10):
        hub.publish(Ring(n))
    assert sub.dropped == 7
    sub.close()
    assert [ev async for ev in sub] == [Ring(7), Ring(8), Ring(9)]


async def test_close_ends_waiting_iterators_and_later_subscriptions() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    waiter = asyncio.create_task(anext(sub, None))
    await asyncio.sleep(0)
    hub.close()
    async with asyncio.timeout(1):
        assert await waiter is None
    assert [ev async for ev in hub.subscribe()] == []
