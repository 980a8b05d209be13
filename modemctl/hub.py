"""Fan-out of events to any number of subscribers: bounded, drop-oldest, never blocking.

The engine's reader and the line both publish from code that must never wait
for a consumer, or one slow subscriber would stall command responses (or the
line's reading of the modem) for everybody.  So each subscriber has its own
bounded queue and, when it is full, the *oldest* event is dropped and counted
in :attr:`Subscription.dropped`: the newest state (a RING, a carrier loss) is
what a late consumer most needs.

A subscription is registered when it is created, not at its first
``__anext__``, so ``events = hub.subscribe()`` followed by an action loses
nothing the action causes.  One generic hub serves both the engine's events
(:mod:`modemctl.driver.subscription`) and the line's
(:mod:`modemctl.line.events`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType
from typing import Generic, TypeVar

DEFAULT_MAXSIZE = 256

T = TypeVar("T")


class Subscription(Generic[T]):
    """One subscriber's view: an async iterator over the hub's events.

    Iteration ends, after what is queued, when the subscription or the hub is
    closed.  Use it as an async context manager (or call :meth:`close`) to
    unsubscribe.
    """

    def __init__(self, hub: Hub[T], maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._hub = hub
        self._queue: deque[T] = deque()
        self._maxsize = maxsize
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self.dropped = 0

    def _put(self, event: T) -> None:
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

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._queue.popleft()

    async def get(self, timeout: float | None = None) -> T:  # noqa: ASYNC109
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

    async def __aenter__(self) -> Subscription[T]:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


class Hub(Generic[T]):
    """The live subscriptions of one publisher."""

    def __init__(self, maxsize: int = DEFAULT_MAXSIZE) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self._maxsize = maxsize
        self._subs: list[Subscription[T]] = []
        self._closed = False

    def subscribe(self, maxsize: int | None = None) -> Subscription[T]:
        """A subscriber that sees every event published from now on (queue of
        ``maxsize``, default the hub's); already ended if the hub is closed."""
        sub = Subscription(self, self._maxsize if maxsize is None else maxsize)
        if self._closed:
            sub.close()
        else:
            self._subs.append(sub)
        return sub

    def publish(self, event: T) -> None:
        """Give ``event`` to every subscriber without ever waiting."""
        for sub in tuple(self._subs):
            sub._put(event)

    def _remove(self, sub: Subscription[T]) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def close(self) -> None:
        """End every subscription (the publisher is closing)."""
        self._closed = True
        for sub in tuple(self._subs):
            sub.close()
