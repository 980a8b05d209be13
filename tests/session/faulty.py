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
        if self._replay_after is not None and self._seen >= self._replay_after \
                and not self.replayed:
            if self._kept is None:
                self._kept = whole_frame(data)        # remember one record...
            elif self._seen >= self._replay_after + 3:
                self.replayed = True
                data = data + self._kept              # ...and send it again, later
        if self._reorder_after is not None and self._seen >= self._reorder_after \
                and not self.reordered:
            frame = whole_frame(data)
            if frame is not None:
                # Hold one frame back and deliver it after the next chunk.
                at = data.index(frame)
                rest = data[:at] + data[at + len(frame):]
                later = await self.call.read(n)
                self.reordered = True
                data = rest + later + frame
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


def whole_frame(chunk: bytes, least: int = 100) -> bytes | None:
    """The first complete data frame (flag, at least ``least`` bytes, flag) in ``chunk``."""
    start = chunk.find(b"\x7e")
    while start != -1:
        end = chunk.find(b"\x7e", start + 1)
        if end == -1:
            return None
        if end - start > least:
            return chunk[start:end + 1]
        start = end
    return None
