"""Property tests of the T.4 codec: random small pages (any width, any pattern)
round-trip through our coder and through libtiff's; random bytes never crash
the decoder."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from modemctl.fax.page import Page, Resolution, row_bytes
from modemctl.fax.t4 import Coding, decode_page, encode_page
from modemctl.fax.tiff import tiff_bytes

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def pages(draw: st.DrawFn) -> Page:
    """A page of 1..300 pels by 1..8 lines; rows biased towards runs and repeats
    (what makes MR pick pass, vertical and horizontal modes at the edges)."""
    width = draw(st.integers(1, 300))
    height = draw(st.integers(1, 8))
    rows: list[bytes] = []
    for _ in range(height):
        kind = draw(st.sampled_from(["random", "runs", "repeat", "shift"]))
        if kind == "repeat" and rows:
            rows.append(rows[-1])
            continue
        if kind == "shift" and rows:
            v = int.from_bytes(rows[-1], "big") >> (8 * row_bytes(width) - width)
            v = (v >> draw(st.integers(0, 5))) if draw(st.booleans()) \
                else (v << draw(st.integers(0, 5)))
        elif kind == "runs":
            v, pos, black = 0, 0, draw(st.booleans())
            while pos < width:
                run = draw(st.integers(1, 80))
                if black:
                    v |= ((1 << min(run, width - pos)) - 1) << max(0, width - pos - run)
                pos += run
                black = not black
        else:
            v = draw(st.integers(0, (1 << width) - 1))
        v &= (1 << width) - 1
        rows.append((v << (8 * row_bytes(width) - width)).to_bytes(row_bytes(width), "big"))
    return Page(width, tuple(rows), Resolution.FINE)


@SETTINGS
@given(page=pages(), coding=st.sampled_from(Coding), k=st.integers(1, 4),
       min_bits=st.sampled_from([0, 96, 400]))
def test_random_pages_round_trip_through_our_codec(page: Page, coding: Coding, k: int,
                                                    min_bits: int) -> None:
    data = encode_page(page.rows, page.width, coding=coding, k=k, min_bits=min_bits)
    decoded = decode_page(data, page.width, coding=coding)
    assert decoded.rows == page.rows
    assert decoded.rtc and decoded.bad_lines == 0


@SETTINGS
@given(page=pages(), coding=st.sampled_from(Coding))
def test_random_pages_we_encode_are_what_libtiff_decodes(page: Page, coding: Coding) -> None:
    with Image.open(io.BytesIO(tiff_bytes([page], coding=coding))) as img:
        assert img.tobytes("raw", "1;I") == b"".join(page.rows)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400), coding=st.sampled_from(Coding),
       width=st.integers(1, 2000))
def test_random_bytes_never_crash_the_decoder(data: bytes, coding: Coding, width: int) -> None:
    decoded = decode_page(data, width, coding=coding)
    assert all(len(row) == row_bytes(width) for row in decoded.rows)
    assert 0 <= decoded.longest_bad_run <= decoded.bad_lines <= len(decoded.rows)
