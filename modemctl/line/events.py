"""Line events and their fan-out to subscribers.

``Line.events()`` yields these values: call state changes, rings, caller
ID, call waiting seen during a call, message waiting.  Each subscriber has
its own bounded queue, filled from the moment ``events()`` is called; a
subscriber that stops reading loses the oldest events (counted in
``dropped``) rather than stalling the line, because the line must keep
reading the modem whatever a slow consumer does.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from modemctl.line.report import SecureReport
from modemctl.line.states import CallState, DisconnectReason


@dataclass(frozen=True)
class StateChanged:
    """A call moved from one state to another."""

    call_id: str
    old: CallState
    new: CallState
    reason: DisconnectReason | None = None


@dataclass(frozen=True)
class Ring:
    """The line rang (``count`` since the last call or ring timeout)."""

    count: int
    tag: str | None = None


@dataclass(frozen=True)
class CallerId:
    """Caller ID as delivered between the first and second ring."""

    number: str | None
    name: str | None
    date: str | None = None
    time: str | None = None
    withheld: str | None = None


@dataclass(frozen=True)
class CallWaitingSeen:
    """A third party called while a call was up (``source`` says how we know)."""

    call_id: str | None
    source: str


@dataclass(frozen=True)
class MessageWaiting:
    """The exchange signalled voicemail (``state`` as the modem gave it)."""

    state: str | None


@dataclass(frozen=True)
class Secured:
    """A call was secured (at dial, answer or mid-call); the report says how."""

    call_id: str
    report: SecureReport


LineEvent = StateChanged | Ring | CallerId | CallWaitingSeen | MessageWaiting | Secured

class Subscription:
    """One subscriber's events, queued from the moment it was created.

    Registering at creation (not at the first ``__anext__``) means that
    ``events = line.events()`` followed by an action loses nothing the
    action causes.  Iteration ends, after what is queued, when the line
    closes or on :meth:`close`.
    """

    def __init__(self, hub: EventHub, maxsize: int) -> None:
        self._hub = hub
        self._queue: deque[LineEvent] = deque()
        self._maxsize = maxsize
        self._wakeup = asyncio.Event()
        self._closed = False
        self.dropped = 0

    def _put(self, event: LineEvent) -> None:
        if len(self._queue) >= self._maxsize:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(event)
        self._wakeup.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> LineEvent:
        while not self._queue:
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()
        return self._queue.popleft()

    def close(self) -> None:
        """Stop receiving; iteration ends after what is already queued."""
        self._closed = True
        self._hub._remove(self)
        self._wakeup.set()


class EventHub:
    """Fan-out of line events to any number of subscribers, never blocking the line."""

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._subs: list[Subscription] = []
        self._closed = False

    def publish(self, event: LineEvent) -> None:
        """Hand ``event`` to every subscriber (a full queue loses its oldest event)."""
        for sub in self._subs:
            sub._put(event)

    def close(self) -> None:
        """End every subscription (their iterators stop)."""
        self._closed = True
        for sub in list(self._subs):
            sub.close()

    def subscribe(self) -> Subscription:
        """A new subscription; already closed if the line is."""
        sub = Subscription(self, self._maxsize)
        if self._closed:
            sub.close()
        else:
            self._subs.append(sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)
