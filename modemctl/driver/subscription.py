"""Fan-out of engine events to any number of subscribers.

The reader task must never wait for a subscriber, or one slow consumer
would stall command responses for everybody.  So each subscriber has its
own bounded queue and, when it is full, the *oldest* event is dropped and
counted in :attr:`EventSubscription.dropped` (the newest state — a RING, a
carrier loss — is what a late consumer most needs).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from modemctl.at.events import Event

DEFAULT_MAXSIZE = 256


class EventSubscription:
    """One subscriber's view: an async iterator over engine events.

    Iteration ends when the subscription or the engine is closed.  Use it as
    an async context manager (or call :meth:`close`) to unsubscribe.
    """

    def __init__(self, hub: EventHub, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._queue: deque[Event] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0

    def _put(self, event: Event) -> None:
        if self._closed:
            return
        if len(self._queue) >= self._maxsize:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(event)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def __aiter__(self) -> EventSubscription:
        return self

    async def __anext__(self) -> Event:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    async def get(self, timeout: float | None = None) -> Event:  # noqa: ASYNC109
        """The next event; raises TimeoutError after ``timeout`` real seconds,
        StopAsyncIteration once closed and empty."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    def pending(self) -> int:
        """Events queued and not yet consumed."""
        return len(self._queue)

    def close(self) -> None:
        """Unsubscribe; queued events can still be drained, then iteration ends."""
        if not self._closed:
            self._closed = True
            self._hub._remove(self)
            self._wake()

    async def __aenter__(self) -> EventSubscription:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class EventHub:
    """The set of live subscriptions of one engine."""

    def __init__(self) -> None:
        self._subs: list[EventSubscription] = []

    def subscribe(self, maxsize: int = DEFAULT_MAXSIZE) -> EventSubscription:
        """Add a subscriber that sees every event published from now on."""
        sub = EventSubscription(self, maxsize)
        self._subs.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Give ``event`` to every subscriber without ever waiting."""
        for sub in tuple(self._subs):
            sub._put(event)

    def _remove(self, sub: EventSubscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def close(self) -> None:
        """End every subscription (the engine is closing)."""
        for sub in tuple(self._subs):
            sub.close()
