"""T.4 MH/MR codec against libtiff (through Pillow), both directions, plus fill,
RTC, K, and damaged-line tolerance."""

from __future__ import annotations

import io
import itertools

import pytest
from PIL import Image, TiffImagePlugin

from modemctl.errors import PageCodingError
from modemctl.fax.page import Page, Resolution
from modemctl.fax.t4 import Coding, decode_page, encode_page, min_line_bits
from modemctl.fax.t4.codes import EOL
from modemctl.fax.t30 import CopyQuality
from modemctl.fax.tiff import tiff_bytes
from tests.fax.pages import page_set, text_image

PAGES = page_set()
CODINGS = [Coding.MH, Coding.MR]


def libtiff_read(data: bytes) -> bytes:
    """Pel data of the only page of a TIFF, as libtiff decodes it (mode "1", 1 = black)."""
    with Image.open(io.BytesIO(data)) as img:
        img.load()
        assert img.mode == "1"
        return img.tobytes("raw", "1;I")


def libtiff_g3(page: Page, t4options: int) -> bytes:
    """``page`` encoded by libtiff as G3 (min-is-white), and the raw strip it wrote."""
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[262] = 0
    info[292] = t4options
    info[278] = page.height
    buf = io.BytesIO()
    page.to_image().save(buf, "TIFF", compression="group3", tiffinfo=info)
    data = buf.getvalue()
    with Image.open(io.BytesIO(data)) as img:
        return b"".join(data[o:o + n] for o, n in zip(img.tag_v2[273], img.tag_v2[279],
                                                        strict=True))


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
@pytest.mark.parametrize("name", list(PAGES))
def test_our_encoding_read_by_libtiff_is_the_original(name: str, coding: Coding) -> None:
    page = PAGES[name]
    assert libtiff_read(tiff_bytes([page], coding=coding)) == b"".join(page.rows)


@pytest.mark.parametrize("t4options", [0, 1, 4, 5], ids=["1D", "2D", "1D-fill", "2D-fill"])
@pytest.mark.parametrize("name", list(PAGES))
def test_libtiff_encoding_decoded_by_us_is_the_original(name: str, t4options: int) -> None:
    page = PAGES[name]
    coding = Coding.MR if t4options & 1 else Coding.MH
    decoded = decode_page(libtiff_g3(page, t4options), page.width, coding=coding)
    assert decoded.rows == page.rows
    assert (decoded.bad_lines, decoded.longest_bad_run) == (0, 0)
    assert not decoded.rtc            # libtiff writes TIFF Class F without RTC


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
@pytest.mark.parametrize("name", list(PAGES))
def test_wire_stream_round_trips_with_rtc(name: str, coding: Coding) -> None:
    page = PAGES[name]
    data = encode_page(page.rows, page.width, coding=coding, k=4, min_bits=min_line_bits(9600, 20))
    decoded = decode_page(data, page.width, coding=coding)
    assert decoded.rows == page.rows
    assert decoded.rtc and decoded.bad_lines == 0


def _bits(data: bytes) -> str:
    return format(int.from_bytes(data, "big"), f"0{8 * len(data)}b")


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
def test_rtc_is_six_eols_and_every_line_starts_with_eol(coding: Coding) -> None:
    page = PAGES["all-white"]
    bits = _bits(encode_page(page.rows, page.width, coding=coding)).rstrip("0")
    eol = EOL + "1" if coding is Coding.MR else EOL
    assert bits.endswith(eol * 6)
    assert bits.startswith(eol)
    # 50 lines: the leading EOL, one per line boundary, and RTC's six (first ends line 50).
    assert bits.count(EOL) == 1 + 49 + 6


def test_fill_brings_every_line_to_the_minimum_scan_time() -> None:
    page = PAGES["text"]
    minimum = min_line_bits(14400, 20)
    assert minimum == 288
    bits = _bits(encode_page(page.rows, page.width, min_bits=minimum))
    starts = [i for i in range(len(bits)) if bits.startswith(EOL, i)]
    assert len(starts) == page.height + 6
    # Each line unit (data + fill + following EOL) takes at least the minimum.
    for a, b in itertools.pairwise(starts[:page.height + 1]):
        assert b - a >= minimum
    unpadded = encode_page(page.rows, page.width)
    assert len(bits) // 8 > len(unpadded)


def test_min_line_bits_from_rate_and_time() -> None:
    assert min_line_bits(9600, 10) == 96
    assert min_line_bits(4800, 0) == 0
    assert min_line_bits(14400, 5) == 72
    with pytest.raises(PageCodingError):
        min_line_bits(-1, 10)


@pytest.mark.parametrize(("k", "resolution"), [(2, Resolution.STANDARD), (4, Resolution.FINE)])
def test_mr_codes_every_kth_line_one_dimensionally(k: int, resolution: Resolution) -> None:
    assert resolution.k_factor == k
    page = PAGES["text"]
    bits = _bits(encode_page(page.rows, page.width, coding=Coding.MR, k=k, rtc=False))
    tags = [bits[i + len(EOL)] for i in range(len(bits)) if bits.startswith(EOL, i)]
    assert tags == ["1" if n % k == 0 else "0" for n in range(page.height)]


def test_aligned_eols_end_on_a_byte_boundary() -> None:
    page = PAGES["text"]
    bits = _bits(encode_page(page.rows, page.width, align_eol=True))
    ends = [i + len(EOL) for i in range(len(bits)) if bits.startswith(EOL, i)]
    # The EOL before each line and the one after the last; RTC's others follow back to back.
    line_ends = ends[:page.height + 1]
    assert len(line_ends) == page.height + 1 and all(end % 8 == 0 for end in line_ends)


def _damage(data: bytes, at_fraction: float, length: int) -> bytes:
    """Flip ``length`` bytes in the middle of the page data (a burst of line noise)."""
    start = int(len(data) * at_fraction)
    return data[:start] + bytes(b ^ 0x5A for b in data[start:start + length]) \
        + data[start + length:]


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
def test_damaged_lines_are_counted_and_replaced_by_the_line_above(coding: Coding) -> None:
    page = Page.from_image(text_image(300, seed=7), Resolution.FINE)
    data = encode_page(page.rows, page.width, coding=coding, k=4)
    decoded = decode_page(_damage(data, 0.5, 40), page.width, coding=coding)
    assert decoded.rtc
    assert 1 <= decoded.bad_lines <= 60
    assert 1 <= decoded.longest_bad_run <= decoded.bad_lines
    # The decoder resynchronised: lines well before and after the burst are intact.
    assert decoded.rows[:100] == page.rows[:100]
    assert decoded.rows[-60:] == page.rows[-60:]
    # Every replaced line repeats a line of the page (the last good one above).
    assert len(decoded.rows) in range(page.height - 5, page.height + 1)


def test_bad_line_count_without_damage_is_zero_and_two_bursts_give_the_longest_run() -> None:
    page = Page.from_image(text_image(300, seed=3), Resolution.FINE)
    data = encode_page(page.rows, page.width)
    clean = decode_page(data, page.width)
    assert (clean.bad_lines, clean.longest_bad_run) == (0, 0)
    two = decode_page(_damage(_damage(data, 0.3, 3), 0.7, 30), page.width)
    assert two.bad_lines > two.longest_bad_run >= 1


def test_a_first_bad_line_becomes_white() -> None:
    page = PAGES["all-black"]
    data = bytearray(encode_page(page.rows, page.width))
    data[2] ^= 0xFF                                  # inside the first line
    decoded = decode_page(bytes(data), page.width)
    assert decoded.bad_lines >= 1
    assert decoded.rows[0] == bytes(len(page.rows[0]))


def test_data_without_eol_or_rtc() -> None:
    assert decode_page(b"\xff\xff\xff").rows == ()
    page = PAGES["text"]
    cut = encode_page(page.rows, page.width, rtc=False)
    decoded = decode_page(cut, page.width)
    assert decoded.rows == page.rows and not decoded.rtc


def test_bad_parameters_are_typed_errors() -> None:
    with pytest.raises(PageCodingError):
        encode_page([b"\0" * 3], 1728)
    with pytest.raises(PageCodingError):
        encode_page([], 1728, coding=Coding.MR, k=0)
    with pytest.raises(PageCodingError):
        decode_page(b"", 0)


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
def test_a_line_wiped_to_zeros_mid_page_is_a_bad_line_not_the_end(coding: Coding) -> None:
    """A dropout that zeroes one line leaves EOL, fill, EOL: two EOLs in a row, like
    RTC.  But data follows, so it is a damaged line and the page goes on."""
    page = Page.from_image(text_image(120, seed=12), Resolution.FINE)
    bits = _bits(encode_page(page.rows, page.width, coding=coding, k=4))
    eols = [i for i in range(len(bits)) if bits.startswith(EOL, i)]
    start, stop = eols[50] + len(EOL), eols[51]        # line 50's code (MR: tag bit too)
    wiped = bits[:start] + "0" * (stop - start) + bits[stop:]
    decoded = decode_page(int(wiped, 2).to_bytes(len(wiped) // 8, "big"), page.width,
                          coding=coding)
    assert decoded.rtc
    assert len(decoded.rows) == page.height
    assert decoded.rows[50] == page.rows[49]           # replaced by the line above
    assert decoded.rows[60:] == page.rows[60:]
    assert decoded.bad_lines >= 1


@pytest.mark.parametrize(("coding", "lost"), [(Coding.MH, 1), (Coding.MR, 3)])
def test_one_damaged_line_exactly(coding: Coding, lost: int) -> None:
    """MH loses just the damaged line.  MR (K=4) also loses the 2-D lines coded
    against it, up to the next 1-D line: a receiver cannot trust them."""
    page = Page.from_image(text_image(120, seed=21), Resolution.FINE)
    # A 2-D line (n % 4 == 1) that differs from the line above, so the stand-in shows.
    hit = next(n for n in range(21, 100, 4) if page.rows[n] != page.rows[n - 1])
    bits = _bits(encode_page(page.rows, page.width, coding=coding, k=4))
    eols = [i for i in range(len(bits)) if bits.startswith(EOL, i)]
    tag = 1 if coding is Coding.MR else 0
    start, stop = eols[hit] + len(EOL) + tag, eols[hit + 1]
    # An extension code (0000001xxx) where the line's code was: invalid in MH and MR.
    garbage = ("0000001111" * (stop - start))[:stop - start]
    damaged = bits[:start] + garbage + bits[stop:]
    decoded = decode_page(int(damaged, 2).to_bytes(len(damaged) // 8, "big"), page.width,
                          coding=coding)
    assert (decoded.bad_lines, decoded.longest_bad_run) == (lost, lost)
    expected = list(page.rows)
    for n in range(hit, hit + lost):
        expected[n] = expected[hit - 1]              # the last good line stands in
    assert list(decoded.rows) == expected


@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
def test_noise_after_rtc_is_not_page_data(coding: Coding) -> None:
    """As the carrier fades a modem may hand over noise after RTC; the page ended
    at RTC, and the noise must not count as bad lines (which would mean RTN)."""
    page = Page.from_image(text_image(80, seed=13), Resolution.FINE)
    data = encode_page(page.rows, page.width, coding=coding, k=4)
    noise = bytes([0x5B, 0xE2, 0x13, 0x9C, 0xFF, 0x01, 0x80, 0x37] * 8)
    decoded = decode_page(data + noise, page.width, coding=coding)
    assert decoded.rows == page.rows
    assert decoded.rtc and decoded.bad_lines == 0


def eols_garbled(coding: Coding, at: int, count: int, *, seed: int = 7,
                 min_bits: int = 0) -> tuple[Page, bytes]:
    """A 300-line fine text page whose lines ``at`` to ``at + count - 1`` are
    garbled together with the EOLs between them: one stretch of invalid codes
    (extension codes, no run of eleven zeros) from line ``at``'s code to line
    ``at + count``'s EOL, as a burst of noise leaves it."""
    page = Page.from_image(text_image(300, seed=seed), Resolution.FINE)
    bits = _bits(encode_page(page.rows, page.width, coding=coding, k=4, min_bits=min_bits))
    eols = [i for i in range(len(bits)) if bits.startswith(EOL, i)]
    start = eols[at] + len(EOL) + (coding is Coding.MR)
    stop = eols[at + count]
    garbled = bits[:start] + ("0000001111" * (stop - start))[:stop - start] + bits[stop:]
    return page, int(garbled, 2).to_bytes(len(garbled) // 8, "big")


@pytest.mark.parametrize("min_bits", [0, 192], ids=["no-fill", "fill"])
@pytest.mark.parametrize("at", [40, 100, 200])
@pytest.mark.parametrize("coding", CODINGS, ids=lambda c: c.value)
def test_a_burst_that_ate_the_eols_counts_the_lines_it_destroyed(
        coding: Coding, at: int, min_bits: int) -> None:
    """Thirty lines and the EOLs between them garbled into one stretch: not one
    bad line (which let such a page earn MCF) but a run that fails copy
    quality.  The estimate only moves the figures: the image keeps one
    stand-in row for the stretch (MR: and the 2-D lines up to the next 1-D)."""
    lost = 30
    page, data = eols_garbled(coding, at, lost, min_bits=min_bits)
    decoded = decode_page(data, page.width, coding=coding)
    assert decoded.rtc
    judge = CopyQuality()
    assert decoded.longest_bad_run > judge.max_bad_run
    assert not judge.acceptable(decoded.lines, decoded.quality)
    assert decoded.lines >= len(decoded.rows) and decoded.bad_lines <= decoded.lines
    assert page.height - lost + 1 <= len(decoded.rows) <= page.height - lost + 4
    # Resynchronised at the first EOL after the burst: the rest of the page is intact.
    assert decoded.rows[:at] == page.rows[:at]
    assert decoded.rows[-(page.height - at - lost - 4):] == page.rows[at + lost + 4:]
