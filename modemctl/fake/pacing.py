"""Call data at the connect rate: every paced stream served on one shared clock tick.

A real modem does not deliver one byte every 298 µs either: its UART FIFO and
the USB frames of an adapter hand the DTE small bursts (reference
hil-and-serial-transports.md).  So the exchange paces in small batches: one
:class:`PacingTicker` per exchange wakes every :data:`PACE_TICK` protocol
seconds while some stream has data, and each :class:`Pacer` then delivers what
its rate allows since it started.  The rate is exact over any second (credit
is counted from the stream's start, not per tick, so rounding never
accumulates; a stream that runs dry and is refilled within a tick keeps
counting, so a sender that keeps just enough in flight is not slowed down) and
a burst is bounded: at most two ticks' worth, ``2 * rate / 10 * tick`` bytes
(one tick's worth while the stream has data; credit a dry stream did not use
is forfeited).  A hundred calls cost one timer, not a hundred sleeping tasks,
and an idle stream costs nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from modemctl.fake.clock import Clock, TimerHandle

PACE_TICK = 0.01
"""Protocol seconds between deliveries (42 bytes at 33,600 bit/s)."""
BITS_PER_BYTE = 10
"""Asynchronous serial framing: start bit, 8 data bits, stop bit."""


class PacingTicker:
    """The one timer that drives every pacer of an exchange while any has data."""

    def __init__(self, clock: Clock, tick: float = PACE_TICK) -> None:
        if not tick > 0:
            raise ValueError(f"tick must be > 0, not {tick!r}")
        self._clock = clock
        self.tick = tick
        self._active: dict[int, Pacer] = {}
        self._timer: TimerHandle | None = None
        self._epoch = clock.now()

    def now(self) -> float:
        """Protocol time on the ticker's clock."""
        return self._clock.now()

    def activate(self, pacer: Pacer) -> None:
        """``pacer`` has data: serve it from the next tick on."""
        self._active[id(pacer)] = pacer
        if self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        # ticks stay on one grid, so a stream refilled between two ticks is served at
        # the next one, not a whole tick after its refill
        now = self._clock.now()
        due = self._epoch + (math.floor((now - self._epoch) / self.tick + 1e-6) + 1) * self.tick
        self._timer = self._clock.call_later(max(due - now, self.tick / 1000), self._run)

    def deactivate(self, pacer: Pacer) -> None:
        self._active.pop(id(pacer), None)

    @property
    def active(self) -> int:
        """Streams with data waiting (for tests and the benchmark)."""
        return len(self._active)

    def _run(self) -> None:
        self._timer = None
        now = self._clock.now()
        for pacer in list(self._active.values()):
            if not pacer.deliver_due(now):
                self.deactivate(pacer)
        if self._active:
            self._schedule()

    def close(self) -> None:
        """Stop the timer (the exchange is closing)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._active.clear()


class Pacer:
    """One direction of one call: bytes in, delivered no faster than ``rate`` bit/s."""

    def __init__(self, ticker: PacingTicker, rate: int, deliver: Callable[[bytes], None]
                 ) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be > 0, not {rate!r}")
        self._ticker = ticker
        self._bytes_per_s = rate / BITS_PER_BYTE
        self._deliver = deliver
        self._buf = bytearray()
        self._start = 0.0
        self._sent = 0
        self._drained_at = float("-inf")

    @property
    def pending(self) -> int:
        """Bytes accepted but not delivered yet (counted as in flight by flow control)."""
        return len(self._buf)

    def push(self, data: bytes) -> None:
        """Queue ``data``; an idle stream starts its rate count now (no saved-up burst)."""
        if not data:
            return
        if not self._buf:
            now = self._ticker.now()
            if now - self._drained_at > self._ticker.tick:   # idle: start counting afresh
                self._start = now
                self._sent = 0
            self._ticker.activate(self)
        self._buf += data

    def deliver_due(self, now: float) -> bool:
        """Deliver what the rate allows by ``now``; return True while data is left."""
        # the epsilon keeps float error in the tick times from holding back a byte
        due = int((now - self._start) * self._bytes_per_s + 1e-6)
        allowed = due - self._sent
        if allowed > 0:
            chunk = bytes(self._buf[:allowed])
            del self._buf[:allowed]
            self._sent += len(chunk)
            self._deliver(chunk)
        if self._buf:
            return True
        self._sent = max(self._sent, due)     # dry: unused credit is forfeited, no burst later
        self._drained_at = now
        return False

    def cancel(self) -> None:
        """Drop what is queued (the call ended)."""
        self._buf.clear()
        self._ticker.deactivate(self)
