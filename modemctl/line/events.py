"""Line events and their fan-out to subscribers.

``Line.events()`` yields these values: call state changes, rings, caller
ID, call waiting seen during a call, message waiting.  Each subscriber has
its own bounded queue; a subscriber that stops reading loses the oldest
events (counted in ``dropped``) rather than stalling the line, because the
line must keep reading the modem whatever a slow consumer does.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import cast

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

_CLOSED = object()


class EventHub:
    """Fan-out of line events to any number of async-iterating subscribers."""

    def __init__(self, maxsize: int = 256) -> None:
        self._maxsize = maxsize
        self._queues: list[asyncio.Queue[object]] = []
        self._closed = False
        self.dropped = 0

    def publish(self, event: LineEvent) -> None:
        """Hand ``event`` to every subscriber without ever blocking."""
        for q in self._queues:
            if q.full():
                q.get_nowait()
                self.dropped += 1
            q.put_nowait(event)

    def close(self) -> None:
        """End every subscription (their iterators stop)."""
        self._closed = True
        for q in self._queues:
            if q.full():
                q.get_nowait()
            q.put_nowait(_CLOSED)

    async def subscribe(self) -> AsyncIterator[LineEvent]:
        """Yield events from now on until the line closes."""
        if self._closed:
            return
        q: asyncio.Queue[object] = asyncio.Queue(self._maxsize)
        self._queues.append(q)
        try:
            while True:
                item = await q.get()
                if item is _CLOSED:
                    return
                yield cast(LineEvent, item)
        finally:
            self._queues.remove(q)
