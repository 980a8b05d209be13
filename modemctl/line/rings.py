"""Rings and caller ID of calls offered to a line.

The modem reports an incoming call as a series of ``RING`` lines with the
caller-ID burst (``DATE``/``TIME``/``NMBR``/``NAME``) between the first and
second ring.  :class:`RingWatch` groups those lines into offers: a RING more
than two ring periods after the last one starts a new offer, and
:meth:`RingWatch.next_offer` returns once an offer is complete enough to
answer - its caller ID has arrived, or the next ring came without one.
:meth:`RingWatch.wait_rings_stop` returns once a ringing call has gone
quiet for two ring periods: its caller gave up before anyone answered, which
a modem reports in no other way (it simply stops sending ``RING``, and
resets its S1 ring count).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping

from modemctl.line.events import CallerId, EventHub, Ring

#: Protocol seconds between rings (US cadence: 2 s on, 4 s off).
RING_PERIOD = 6.0


class RingWatch:
    """Turns RING and caller-ID lines into :class:`Ring`/:class:`CallerId` events."""

    def __init__(self, hub: EventHub, time_scale: float) -> None:
        self._hub = hub
        self._time_scale = time_scale
        self._rings: asyncio.Queue[float] = asyncio.Queue(64)
        self._count = 0
        self._last_ring_at = -1e9
        self._fields: dict[str, str] = {}
        self._caller_id: CallerId | None = None
        self._cid_ready = asyncio.Event()
        #: Futures of waiters for the next ring: resolved on it, never consuming it.
        self._ring_waiters: list[asyncio.Future[None]] = []

    @property
    def ring_gap(self) -> float:
        """Real seconds after which a RING belongs to a new call (two ring periods)."""
        return max(2 * RING_PERIOD * self._time_scale, 0.5)

    def on_ring(self, tag: str | None) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._last_ring_at > self.ring_gap:
            self._count = 0                   # a new call, not the next ring of this one
            self._caller_id = None
            self._cid_ready.clear()
        self._count += 1
        self._last_ring_at = now
        if self._fields:
            self._flush()                     # a burst without NAME ends at the next ring
        if self._rings.full():
            self._rings.get_nowait()
        self._rings.put_nowait(now)
        for waiter in self._ring_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._ring_waiters.clear()
        self._hub.publish(Ring(self._count, tag))

    def on_caller_id(self, fields: Mapping[str, str]) -> None:
        name = fields.get("field", "")
        self._fields[name] = fields.get("value", "")
        if "withheld" in fields:
            self._fields["WITHHELD"] = fields["withheld"]
        if name == "NAME":                    # Bellcore order: DATE TIME NMBR NAME
            self._flush()

    def _flush(self) -> None:
        f = self._fields
        self._caller_id = CallerId(number=f.get("NMBR"), name=f.get("NAME"),
                                   date=f.get("DATE"), time=f.get("TIME"),
                                   withheld=f.get("WITHHELD"))
        self._fields = {}
        self._cid_ready.set()
        self._hub.publish(self._caller_id)

    def forget(self) -> None:
        """Drop the rings heard so far (the line's call ended: they were its own)."""
        while not self._rings.empty():
            self._rings.get_nowait()

    async def next_offer(self, expect_caller_id: bool) -> CallerId | None:
        """Wait for a ring of a current call; then (bounded) for its caller ID."""
        while True:                           # skip rings of calls long gone
            at = await self._rings.get()
            if asyncio.get_running_loop().time() - at <= self.ring_gap:
                break
        if expect_caller_id and not self._cid_ready.is_set():
            wait = max(RING_PERIOD * self._time_scale * 1.5, 0.5)
            # The next ring is watched through a future of its own, not by
            # taking it off the queue: a queue read cancelled just after it
            # took a ring would lose that ring.
            next_ring = asyncio.get_running_loop().create_future()
            self._ring_waiters.append(next_ring)
            cid = asyncio.ensure_future(self._cid_ready.wait())
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await asyncio.wait({next_ring, cid},
                                           return_when=asyncio.FIRST_COMPLETED)
            finally:
                next_ring.cancel()
                cid.cancel()
                if next_ring in self._ring_waiters:
                    self._ring_waiters.remove(next_ring)
        return self._caller_id

    def rings_stopped(self) -> bool:
        """No ring has come for :attr:`ring_gap`: a call that was ringing is gone."""
        return asyncio.get_running_loop().time() - self._last_ring_at > self.ring_gap

    async def wait_rings_stop(self) -> None:
        """Return once no ring has come for :attr:`ring_gap` (the caller gave up).

        Rings of a call come every ring period; a gap of two means the
        caller hung up before an answer (real modems reset their S1 ring
        count after a similar silence).  Bound the wait with the call's life:
        the line stops watching once the offer is answered or dropped.
        """
        loop = asyncio.get_running_loop()
        while True:
            if self.rings_stopped():
                return
            # A ring during the sleep moves the deadline on: check again.
            await asyncio.sleep(self._last_ring_at + self.ring_gap - loop.time() + 0.001)
