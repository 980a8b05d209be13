"""A call wrapper that damages what one side reads: the data path between the modems.

The fake exchange delivers bytes faithfully, as V.42 would; to test what the
session does on a line without error correction, this wraps a real
:class:`~modemctl.line.Call` and corrupts, drops, replays or reorders what
its ``read`` returns.  Everything else passes straight through.
"""

from __future__ import annotations

import random
from typing import Any

from modemctl.line import Call


class FaultyCall:
    """``call`` as seen through a damaged line (faults on the bytes it reads)."""

    def __init__(self, call: Call, seed: int, flip: float = 0.0, drop: float = 0.0,
                 replay_after: int | None = None, reorder_after: int | None = None) -> None:
        self.call = call
        self.log: Any = call.log
        self._rng = random.Random(seed)
        self.flip_rate, self.drop_rate = flip, drop
        self._replay_after, self._reorder_after = replay_after, reorder_after
        self._seen = 0
        self._kept: bytes | None = None
        self.flipped = self.dropped = 0
        self.replayed = self.reordered = False
        self.wire: list[bytes] = []           # what the peer really wrote, as received

    @property
    def rate(self) -> int | None:
        return self.call.rate

    async def write(self, data: bytes) -> None:
        await self.call.write(data)

    async def drop(self) -> None:
        await self.call.drop()

    async def disable_escape(self) -> None:
        await self.call.disable_escape()

    async def read(self, n: int = 4096) -> bytes:
        data = await self.call.read(n)
        if not data:
            return data
        self.wire.append(data)
        self._seen += 1
        if self._replay_after is not None and self._seen == self._replay_after:
            self._kept = data
        if self._replay_after is not None and self._seen == self._replay_after + 3 \
                and self._kept is not None:
            self.replayed = True
            data = data + self._kept                      # an old chunk, again
        if self._reorder_after is not None and self._seen == self._reorder_after:
            self._kept = data
            data = await self.call.read(n)              # deliver the next chunk first...
            self.reordered = True
            data = data + self._kept                     # ...then the held one
        out = bytearray()
        for b in data:
            r = self._rng.random()
            if r < self.drop_rate:
                self.dropped += 1
                continue
            if r < self.drop_rate + self.flip_rate:
                self.flipped += 1
                b ^= 1 << self._rng.randrange(8)
            out.append(b)
        return bytes(out)
