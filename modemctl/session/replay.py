"""A sliding replay window over explicit 64-bit message numbers.

With explicit nonces a lost message costs only itself, so the receiver must
remember which numbers it has already accepted: a bitmap of the last
``size`` numbers below the highest one seen (RFC 6479's idea, kept simple
because a modem line carries a few hundred messages a second at most).
"""

from __future__ import annotations

from typing import Literal

Verdict = Literal["new", "replay", "too-old"]


class ReplayWindow:
    """Which message numbers were accepted, for the last ``size`` of them."""

    def __init__(self, size: int = 64) -> None:
        if size < 1:
            raise ValueError("a replay window needs at least one slot")
        self.size = size
        self.highest = -1          # nothing accepted yet
        self._seen = 0             # bit i: highest - i was accepted

    def judge(self, seq: int) -> Verdict:
        """Whether ``seq`` may still be accepted (does not change the window)."""
        if seq > self.highest:
            return "new"
        offset = self.highest - seq
        if offset >= self.size:
            return "too-old"
        return "replay" if self._seen >> offset & 1 else "new"

    def accept(self, seq: int) -> None:
        """Record ``seq`` as accepted (call only after it authenticated)."""
        if seq > self.highest:
            shift = seq - self.highest
            self._seen = (self._seen << shift | 1) & ((1 << self.size) - 1) \
                if shift < self.size else 1
            self.highest = seq
        else:
            self._seen |= 1 << (self.highest - seq)
