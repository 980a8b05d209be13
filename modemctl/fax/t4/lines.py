"""Scan lines as changing elements, the form both MH and MR code from.

A changing element (T.4 §4.2.1.1) is a pel whose colour differs from the pel
before it; the line starts on an imaginary white pel.  A line is therefore
the ascending tuple of its changing elements' positions: even indices turn
black, odd ones turn white, and the runs are the gaps between them.

Both conversions stay in C-implemented primitives, which is what makes a
pure-Python codec fast enough: the row as one integer, ``v ^ (v >> 1)`` has
a one exactly at each change; splitting its binary form at the ones gives
the gaps, and ``accumulate`` turns them into positions.  Back, the runs are
rebuilt with string repetition and parsed as one integer.
"""

from __future__ import annotations

from itertools import accumulate, count, cycle
from operator import add, mul, sub

Changes = tuple[int, ...]


def row_changes(row: bytes, width: int) -> Changes:
    """The changing elements of one packed row (MSB first, 1 = black)."""
    v = int.from_bytes(row, "big") >> (8 * len(row) - width)
    if not v:
        return ()
    gaps = format(v ^ (v >> 1), f"0{width}b").split("1")
    # Position of the n-th one = length of the gaps before it + n.
    return tuple(map(add, accumulate(map(len, gaps[:-1])), count()))


def changes_row(changes: Changes, width: int) -> bytes:
    """The packed row (MSB first, 1 = black) whose changing elements are ``changes``."""
    nbytes = (width + 7) // 8
    if not changes:
        return bytes(nbytes)
    runs = map(sub, (*changes, width), (0, *changes))
    bits = "".join(map(mul, cycle("01"), runs)) + "0" * (8 * nbytes - width)
    return int(bits, 2).to_bytes(nbytes, "big")
