"""T.4 decoder for received MH and MR pages, tolerant of damaged lines.

Input is the page stream in the codec's bit order (MSB first, see
``encode``), as the class layer hands it over after undoing DLE stuffing and
the modem's LSB-first order.  The decoder starts at the first EOL and reads
line by line until RTC or the end of the data.  Three EOLs in a row are RTC
(part of it may be damaged), and so are two with nothing but fill after
them; two with page data after them enclose a line lost to a dropout
(see ``_at_rtc``).

A line is **bad** when its codes are invalid, its runs do not add up to the
width, or anything but fill stands between it and the next EOL.  As a
receiving fax does, the decoder then resynchronises at the next EOL and
substitutes the previous line (white for the first).  In MR a 2-D line is
coded against the line above, so after a bad line every 2-D line is bad as
well until a 1-D line decodes cleanly.  The bad-line count and the longest
run of consecutive bad lines are what T.30's copy-quality check judges.

Damage that destroys EOLs merges the lines it hit into one stretch between
two surviving EOLs, which taken as one bad line let a page missing dozens
of lines earn MCF.  The receiver cannot know how many lines were there
(T.4 codes no line numbers, and DCS gives the page length only as
A4/B4/unlimited, T.30 Table 2), but it knows how many bits the lines of
*this* page take from EOL to EOL.  So a stretch of consecutive bad lines
counts as ``bits // typical`` bad lines (never fewer than the EOLs it kept
apart), ``typical`` being the average of the two good lines it sits between:
the lost lines are taken to be like their neighbours, and where the content
changes inside the stretch (blank to text) the average of both ends is the
straight-line guess.  A single damaged line, its EOLs intact, stays one line
unless it took twice the bits of its neighbours' average.  The rule errs towards RTN
where the stretch hit content denser than both ends (text between blank
lines), on purpose: a needless RTN costs one retransmission, a wrong MCF
loses the lines for good.  spandsp's decoder (``t4_t6_decode.c``,
``put_decoded_row``) counts one bad row per EOL pair, the weakness
described.  The estimate moves the copy-quality figures only (``bad_lines``,
``longest_bad_run``, ``lines``); the image keeps one stand-in row per bad
segment, so a wrong estimate never distorts the page.

Decoding is table driven: a code is found by one dictionary lookup of the
next 12 (white), 13 (black) or 7 (mode) bits, with every code expanded to
all its completions when the module loads.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.errors import PageCodingError
from modemctl.fax.page import Page, PageQuality, Resolution
from modemctl.fax.t4.codes import EOL, HORIZONTAL, PASS, VERTICAL, makeup_codes, terminating_codes
from modemctl.fax.t4.encode import Coding
from modemctl.fax.t4.lines import Changes, changes_row

_WHITE_PEEK, _BLACK_PEEK, _MODE_PEEK = 12, 13, 7
_PASS_MODE, _HORIZONTAL_MODE = 100, 101     # mode markers beside the vertical deltas -3..3


def _expand(codes: dict[str, int], width: int) -> dict[str, tuple[int, int]]:
    """Map every ``width``-bit string that starts with a code to (value, code length)."""
    table: dict[str, tuple[int, int]] = {}
    for code, value in codes.items():
        free = width - len(code)
        for tail in range(1 << free):
            key = code + (format(tail, f"0{free}b") if free else "")
            if key in table:
                raise AssertionError(f"T.4 code table is not prefix-free at {code}")
            table[key] = (value, len(code))
    return table


def _run_table(black: bool, peek: int) -> dict[str, tuple[int, int]]:
    codes = {code: run for run, code in enumerate(terminating_codes(black))}
    codes.update({code: run for run, code in makeup_codes(black).items()})
    return _expand(codes, peek)


_WHITE = _run_table(False, _WHITE_PEEK)
_BLACK = _run_table(True, _BLACK_PEEK)
_WHITE13 = _run_table(False, _BLACK_PEEK)
"""White codes looked up by 13 bits, so both colours of a horizontal pair peek alike."""
_MODES = _expand({PASS: _PASS_MODE, HORIZONTAL: _HORIZONTAL_MODE,
                  **{code: delta for delta, code in VERTICAL.items()}}, _MODE_PEEK)


class _BadLine(Exception):
    """Internal: the line being decoded is damaged."""


@dataclass(frozen=True)
class DecodedPage:
    """A received page and how damaged it was."""

    width: int
    rows: tuple[bytes, ...]
    bad_lines: int
    """Lines that could not be decoded (replaced by the line above), plus those
    estimated lost where damage ate EOLs (module doc)."""
    longest_bad_run: int
    """Most consecutive bad lines (T.30 copy quality looks at both figures)."""
    rtc: bool
    """RTC ended the page; False when the data just stopped."""
    lines: int
    """Scan lines the page had as the receiver judges it: the rows, plus the
    lines estimated lost where damage ate EOLs (what copy quality divides by)."""

    @property
    def quality(self) -> PageQuality:
        """The bad-line figures, as T.30 judges them and TIFF Class F records them."""
        return PageQuality(self.bad_lines, self.longest_bad_run)

    def page(self, resolution: Resolution) -> Page:
        """The page at the resolution DCS announced."""
        return Page(self.width, self.rows, resolution)


def _decode_1d(bits: str, pos: int, width: int) -> tuple[list[int], int]:
    """One MH line from ``pos``: its changing elements and where its codes end.

    The hot loop of decoding, so written for CPython: a white and a black run
    per pass with the lookups inlined, an unknown code surfacing as the
    table's KeyError (free until raised), make-up codes off the common path.
    """
    changes: list[int] = []
    append = changes.append
    white, black = _WHITE.__getitem__, _BLACK.__getitem__
    a = 0
    try:
        while True:
            run, n = white(bits[pos:pos + _WHITE_PEEK])
            pos += n
            if run > 63:
                run, pos = _run(bits, pos, 0, run)
            a += run
            if a >= width:
                break
            if run or not changes:
                append(a)
            else:                       # a zero run mid-line: two changes cancel
                changes.pop()
            run, n = black(bits[pos:pos + _BLACK_PEEK])
            pos += n
            if run > 63:
                run, pos = _run(bits, pos, 1, run)
            a += run
            if a >= width:
                break
            if run:
                append(a)
            else:
                changes.pop()
    except KeyError:
        raise _BadLine from None
    if a > width:
        raise _BadLine
    return changes, pos


def _run(bits: str, pos: int, black: int, run: int) -> tuple[int, int]:
    """The rest of a run that began with make-up code(s) worth ``run``."""
    table, peek = (_BLACK, _BLACK_PEEK) if black else (_WHITE, _WHITE_PEEK)
    while True:
        value, n = table[bits[pos:pos + peek]]
        pos += n
        run += value
        if value < 64:
            return run, pos


def _decode_2d(bits: str, pos: int, width: int, ref: Changes) -> tuple[list[int], int]:
    """One MR 2-D line against ``ref``.  As in the encoder, a0 only moves
    right, so b1 is found by a pointer into ``ref``, which ends in sentinels
    at ``width``."""
    changes: list[int] = []
    append = changes.append
    ref = (*ref, width, width, width)
    modes = _MODES.__getitem__
    white_code, black_code = _WHITE13.__getitem__, _BLACK.__getitem__
    a0 = -1
    black = 0
    k = 0
    try:
        while a0 < width:
            mode, n = modes(bits[pos:pos + _MODE_PEEK])
            pos += n
            while ref[k] <= a0:
                k += 1
            j = k + 1 if (k & 1) != black else k
            if mode == _HORIZONTAL_MODE:
                # Two runs, a0's colour first; usually one terminating code each.
                first, n = (black_code if black else white_code)(bits[pos:pos + _BLACK_PEEK])
                pos += n
                if first > 63:
                    first, pos = _run(bits, pos, black, first)
                second, n = (white_code if black else black_code)(bits[pos:pos + _BLACK_PEEK])
                pos += n
                if second > 63:
                    second, pos = _run(bits, pos, not black, second)
                a1 = (a0 if a0 >= 0 else 0) + first
                a2 = a1 + second
                if a2 > width:
                    raise _BadLine
                for a in (a1, a2):
                    if a < width:
                        if changes and changes[-1] == a:
                            changes.pop()
                        else:
                            append(a)
                a0 = a2
            elif mode == _PASS_MODE:
                a0 = ref[j + 1]
                if a0 >= width:
                    raise _BadLine
            else:
                a1 = ref[j] + mode
                if a1 > width or a1 < a0 or (a1 == a0 and a0 >= 0) or a1 < 0:
                    raise _BadLine
                if a1 < width:
                    append(a1)
                a0 = a1
                black ^= 1
    except KeyError:
        raise _BadLine from None
    return changes, pos


def _at_rtc(bits: str, eol: int, nbits: int, eol_bits: int) -> bool:
    """Whether the empty line ending at the EOL at ``eol`` starts RTC.

    A dropout is one stretch of zeros, so it leaves at most two EOLs in a
    row (the one before it, and one its last zeros form with the next one
    bit): a line lost mid-page.  Three or more in a row can only be the
    sender's RTC (six, some possibly damaged), whatever noise follows as the
    carrier fades; two are RTC too when nothing but fill follows them.
    """
    in_a_row = 2
    pos = eol + eol_bits
    while in_a_row < 3:
        nxt = bits.find(EOL, pos)
        if not 0 <= nxt < nbits or bits.find("1", pos, nxt) >= 0:
            return bits.find("1", pos, nbits) < 0
        in_a_row += 1
        pos = nxt + eol_bits
    return True


def decode_page(data: bytes, width: int = 1728, *, coding: Coding = Coding.MH) -> DecodedPage:
    """Decode one received page (MSB-first T.4 data, with or without RTC).

    ``coding`` is what DCS announced: with MR every EOL carries a tag bit.
    Never raises on damaged data; a stream without any EOL decodes to no
    rows.  Raises :class:`PageCodingError` only for an impossible ``width``.
    """
    if width < 1:
        raise PageCodingError(f"line width must be positive, not {width}")
    mr = coding is Coding.MR
    nbits = 8 * len(data)
    # 16 zero bits past the end keep every fixed-width peek full length.
    bits = (format(int.from_bytes(data, "big"), f"0{nbits}b") if data else "") + "0" * 16
    lines: list[Changes] = []
    spans: list[int] = []           # a line's bits from its EOL to the next; -1: good
    ref_ok = True
    rtc = False
    eol_bits = len(EOL) + mr
    pos = bits.find(EOL)
    while 0 <= pos < nbits:
        start = pos
        pos += eol_bits
        one_d = not mr or bits[pos - 1] == "1"
        nxt = bits.find(EOL, pos)
        end = nxt if 0 <= nxt < nbits else nbits
        if bits.find("1", pos, end) < 0:
            if end == nbits:            # nothing after the last EOL but fill
                break
            if _at_rtc(bits, nxt, nbits, eol_bits):
                rtc = True
                break
            # EOL, fill, EOL with page data after it: a line lost to a dropout.
        try:
            if one_d:
                changes, stop = _decode_1d(bits, pos, width)
            else:
                changes, stop = _decode_2d(bits, pos, width, lines[-1] if lines else ())
            if stop > end or bits.find("1", stop, end) >= 0 or (not one_d and not ref_ok):
                raise _BadLine
            lines.append(tuple(changes))
            spans.append(-(end - start))
            ref_ok = True
        except _BadLine:
            lines.append(lines[-1] if lines else ())
            spans.append(end - start)
            ref_ok = False
        pos = nxt if nxt < nbits else -1
    return _page(lines, spans, width, rtc)


def _page(lines: list[Changes], spans: list[int], width: int, rtc: bool) -> DecodedPage:
    """The decoded page, each damaged stretch counted as the lines it held (module doc).

    ``spans`` holds, per decoded line, its bits from its EOL to the next:
    negated when the line was good, as is when it was bad.
    """
    rows_of: dict[Changes, bytes] = {}
    rows = []
    for line in lines:
        row = rows_of.get(line)
        if row is None:
            row = rows_of[line] = changes_row(line, width)
        rows.append(row)
    bad = longest = lost = 0
    n = 0
    while n < len(spans):
        if spans[n] < 0:
            n += 1
            continue
        first = n
        while n < len(spans) and spans[n] >= 0:
            n += 1
        # Bad lines first..n-1: one stretch between two good lines (or the page's ends).
        stretch, segments = sum(spans[first:n]), n - first
        bounds = [-spans[i] for i in (first - 1, n) if 0 <= i < len(spans)]
        typical = sum(bounds) // len(bounds) if bounds else 0
        held = max(segments, stretch // typical if typical else 0)
        bad += held
        lost += held - segments
        longest = max(longest, held)
    return DecodedPage(width, tuple(rows), bad, longest, rtc, len(rows) + lost)
