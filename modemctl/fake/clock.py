"""Protocol time for the fake: real time, scaled time, or a hand-driven clock.

Every timer in the fake (S7, S8, S10, S12 guard time, ring cadence, S1 reset,
training) is expressed in *protocol seconds* and goes through a :class:`Clock`.
:class:`LoopClock` maps protocol seconds onto the asyncio loop with a
``time_scale`` (real seconds per protocol second, see design.md "Time
scale"); :class:`ManualClock` is advanced by hand so that the interpreter's
table tests are exact and instantaneous.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class TimerHandle(Protocol):
    """A scheduled callback that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Protocol-time source used by the interpreter and the exchange."""

    def now(self) -> float:
        """Current protocol time in seconds (arbitrary origin, monotonic)."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` after ``delay`` protocol seconds."""
        ...


class LoopClock:
    """Protocol time on an asyncio loop, ``time_scale`` real seconds per protocol second."""

    def __init__(self, time_scale: float = 1.0, loop: asyncio.AbstractEventLoop | None = None
                 ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, not {time_scale!r}")
        self.time_scale = time_scale
        self._loop = loop or asyncio.get_running_loop()

    def now(self) -> float:
        return self._loop.time() / self.time_scale

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        return self._loop.call_later(max(delay, 0.0) * self.time_scale, callback)

    async def sleep(self, delay: float) -> None:
        """Sleep ``delay`` protocol seconds."""
        await asyncio.sleep(max(delay, 0.0) * self.time_scale)


class _ManualTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when :meth:`advance` is called (for exact tests)."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._seq = itertools.count()
        self._heap: list[tuple[float, int, _ManualTimer, Callable[[], None]]] = []

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer()
        heapq.heappush(self._heap, (self._now + max(delay, 0.0), next(self._seq), timer,
                                    callback))
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward, firing due timers in order (timers may schedule timers)."""
        target = self._now + seconds
        while self._heap and self._heap[0][0] <= target:
            when, _, timer, callback = heapq.heappop(self._heap)
            self._now = max(self._now, when)
            if not timer.cancelled:
                callback()
        self._now = target
