"""T.4 encoder: one-dimensional MH and two-dimensional MR page streams.

The output is the page as T.4 puts it on the line: an EOL before the first
line, each coded line followed by fill and the next EOL (in MR, with the tag
bit that says how the next line is coded), and RTC at the end.

**Bit order.** The result is bytes whose most significant bit is sent first
(TIFF FillOrder=1, as libtiff writes).  A modem sends each byte least
significant bit first, so the class layer reverses every byte (and doubles
DLE) on the way out; the codec knows nothing of either.

Repeated lines (white space above all) are coded once per page: the code of
a line depends only on the line (MH) or on the line and its reference line
(MR), so both are memoised per call.
"""

from __future__ import annotations

import enum
import functools
import math
from collections.abc import Sequence

from modemctl.errors import PageCodingError
from modemctl.fax.t4.codes import (
    EOL,
    HORIZONTAL,
    MAX_MAKEUP,
    PASS,
    RTC_EOLS,
    VERTICAL,
    makeup_codes,
    terminating_codes,
)
from modemctl.fax.t4.lines import Changes, row_changes


class Coding(enum.Enum):
    """Data compression format, as DIS/DCS name it (T.30 Table 2)."""

    MH = "MH"    # one-dimensional modified Huffman, mandatory
    MR = "MR"    # two-dimensional modified READ, optional


def min_line_bits(bit_rate: int, scan_time_ms: float) -> int:
    """Bits a coded line (data, fill and EOL) must at least take: the negotiated
    minimum scan-line time at the data rate (T.4 §4.1.3), rounded up."""
    if bit_rate < 0 or scan_time_ms < 0:
        raise PageCodingError(f"bit rate and scan time must not be negative "
                              f"({bit_rate}, {scan_time_ms})")
    return math.ceil(bit_rate * scan_time_ms / 1000)


def _run_code_table(black: bool, longest: int) -> list[str]:
    """Full MH code (make-ups, then terminating code) for every run 0..longest."""
    term = terminating_codes(black)
    makeups = makeup_codes(black)
    table = []
    for run in range(longest + 1):
        parts = []
        rest = run
        while rest >= 64:
            step = min(rest - rest % 64, MAX_MAKEUP)
            parts.append(makeups[step])
            rest -= step
        parts.append(term[rest])
        table.append("".join(parts))
    return table


@functools.cache
def _run_codes(width: int) -> tuple[list[str], list[str]]:
    """White and black run codes for every run a ``width``-pel line can have."""
    return _run_code_table(False, width), _run_code_table(True, width)


def _mh_line(changes: Changes, width: int, white: list[str], black: list[str]) -> str:
    parts = []
    pos = 0
    is_black = False
    for c in changes:
        parts.append((black if is_black else white)[c - pos])
        pos = c
        is_black = not is_black
    parts.append((black if is_black else white)[width - pos])
    return "".join(parts)


def _mr_line(cur: Changes, ref: Changes, width: int,
             white: list[str], black: list[str]) -> str:
    """Code ``cur`` against reference line ``ref`` (T.4 §4.2.1.3).

    a0 only moves right, so a1 and b1 are found by pointers that only move
    right too; sentinels at ``width`` stand for "no further change".
    """
    parts: list[str] = []
    put = parts.append
    cur = (*cur, width, width)
    ref = (*ref, width, width, width)
    a0 = -1
    is_black = 0          # colour of a0, i.e. of the run being coded
    i = 0                 # cur[i] is a1, the first change right of a0
    k = 0                 # ref[k] is the first reference change right of a0
    while True:
        a1 = cur[i]
        while ref[k] <= a0:
            k += 1
        # b1 changes to the colour opposite a0's: even indices turn black.
        j = k + 1 if (k & 1) != is_black else k
        b1 = ref[j]
        b2 = ref[j + 1]
        if b2 < a1:
            put(PASS)
            a0 = b2
            continue
        delta = a1 - b1
        if -3 <= delta <= 3:
            put(VERTICAL[delta])
            if a1 >= width:
                break
            a0 = a1
            i += 1
            is_black ^= 1
            continue
        a2 = cur[i + 1]
        first = a1 - a0 if a0 >= 0 else a1
        if is_black:
            put(HORIZONTAL + black[first] + white[a2 - a1])
        else:
            put(HORIZONTAL + white[first] + black[a2 - a1])
        if a2 >= width:
            break
        a0 = a2
        i += 2
    return "".join(parts)


def encode_page(rows: Sequence[bytes], width: int, *, coding: Coding = Coding.MH,
                k: int = 2, min_bits: int = 0, align_eol: bool = False,
                rtc: bool = True) -> bytes:
    """Code one page as a T.4 stream (MSB-first bytes, see the module docstring).

    ``rows`` are packed, MSB first, 1 = black (:class:`~modemctl.fax.page.Page`).
    ``k`` is MR's K (2 standard, 4 fine); ignored for MH.  ``min_bits`` pads
    each coded line with zero fill to the minimum scan-line time
    (:func:`min_line_bits`).  ``align_eol`` adds fill so every EOL ends on a
    byte boundary (TIFF T4Options bit 2, as TIFF Class F stores pages).
    ``rtc=False`` leaves out RTC, as TIFF Class F does.
    """
    if width < 1:
        raise PageCodingError(f"line width must be positive, not {width}")
    if k < 1:
        raise PageCodingError(f"MR's K must be at least 1, not {k}")
    stride = (width + 7) // 8
    white, black = _run_codes(width)
    mr = coding is Coding.MR
    eol_1d, eol_2d = (EOL + "1", EOL + "0") if mr else (EOL, EOL)
    eol_bits = len(eol_1d)
    changes_of: dict[bytes, Changes] = {}
    coded: dict[object, str] = {}
    out: list[str] = []
    length = 0

    def put_eol(fill: int, eol: str) -> None:
        nonlocal length
        if align_eol:
            fill += (-(length + fill + len(EOL))) % 8
        if fill:
            out.append("0" * fill)
        out.append(eol)
        length += fill + eol_bits

    ref: Changes = ()
    prev_row = b""
    code = ""
    for n, row in enumerate(rows):
        if len(row) != stride:
            raise PageCodingError(f"row {n} has {len(row)} bytes; a {width}-pel row has {stride}")
        one_d = not mr or n % k == 0
        # The fill that brings the previous line up to the minimum goes before this EOL.
        put_eol(max(0, min_bits - len(code) - eol_bits) if n else 0, eol_1d if one_d else eol_2d)
        cur = changes_of.get(row)
        if cur is None:
            cur = changes_of[row] = row_changes(row, width)
        key: object = row if one_d else (prev_row, row)
        line = coded.get(key)
        if line is None:
            line = _mh_line(cur, width, white, black) if one_d \
                else _mr_line(cur, ref, width, white, black)
            coded[key] = line
        code = line
        out.append(code)
        length += len(code)
        ref, prev_row = cur, row
    if rows and rtc:
        put_eol(max(0, min_bits - len(code) - eol_bits), eol_1d)
        out.append(eol_1d * (RTC_EOLS - 1))
        length += eol_bits * (RTC_EOLS - 1)
    out.append("0" * (-length % 8))
    bits = "".join(out)
    if not bits:
        return b""
    return int(bits, 2).to_bytes(len(bits) // 8, "big")
