"""Scan lines as changing elements, the form both MH and MR code from.

A changing element (T.4 §4.2.1.1) is a pel whose colour differs from the pel
before it; the line starts on an imaginary white pel.  A line is therefore
the ascending tuple of its changing elements' positions: even indices turn
black, odd ones turn white, and the runs are the gaps between them.

Extraction works on the whole row as one integer: ``v ^ (v >> 1)`` has a one
exactly at each change, and ``str.find`` on its binary form walks them in C.
"""

from __future__ import annotations

Changes = tuple[int, ...]


def row_changes(row: bytes, width: int) -> Changes:
    """The changing elements of one packed row (MSB first, 1 = black)."""
    v = int.from_bytes(row, "big") >> (8 * len(row) - width)
    if not v:
        return ()
    bits = format(v ^ (v >> 1), f"0{width}b")
    found: list[int] = []
    i = bits.find("1")
    while i >= 0:
        found.append(i)
        i = bits.find("1", i + 1)
    return tuple(found)


def changes_row(changes: Changes, width: int) -> bytes:
    """The packed row (MSB first, 1 = black) whose changing elements are ``changes``."""
    nbytes = (width + 7) // 8
    if not changes:
        return bytes(nbytes)
    parts: list[str] = []
    pos = 0
    black = False
    for c in changes:
        parts.append(("1" if black else "0") * (c - pos))
        pos = c
        black = not black
    parts.append(("1" if black else "0") * (width - pos))
    parts.append("0" * (8 * nbytes - width))
    return int("".join(parts), 2).to_bytes(nbytes, "big")
