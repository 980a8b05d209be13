"""T.4 coding speed: MH and MR encode and decode, pages per second, A4 fine.

``python -m bench.fax_bench [--quick]``

The codec is pure Python, so its speed is what bounds how soon a page can
go out after it is read (the sender codes ahead of the modem) and how soon a
received page is checked for copy quality (T.30 must answer MCF or RTN
within seconds).  A page at 14400 bit/s takes at least several seconds on
the line, so coding must stay far below that; the "line time" column shows
the ratio against the time the coded page needs at 14400 bit/s.

Pages are 1728 x 2287 (A4 fine), drawn with Pillow: a page of varied typed
text (the common case) and a dithered halftone (the worst realistic case:
short runs everywhere).  Each figure is the median of several runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from functools import partial

from PIL import Image, ImageDraw

from bench.support import machine, table
from modemctl.fax.page import WIDTH_A4, Page, PaperSize, Resolution
from modemctl.fax.t4 import Coding, decode_page, encode_page

LINES = PaperSize.A4.lines(Resolution.FINE)
WORDS = ("invoice", "delivery", "patient", "form", "total", "signature", "date", "ref",
         "quantity", "account", "please", "return", "by", "fax", "0123", "4567", "89")


def text_page() -> Page:
    rnd = random.Random(9)
    image = Image.new("L", (WIDTH_A4, LINES), 255)
    draw = ImageDraw.Draw(image)
    for y in range(100, LINES - 100, 38):
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(6, 15)))
        draw.text((120, y), line, fill=0, font_size=26 + rnd.randrange(8))
    return Page.from_image(image.point(lambda v: 255 if v > 128 else 0), Resolution.FINE)


def halftone_page() -> Page:
    image = Image.linear_gradient("L").resize((WIDTH_A4, LINES))
    draw = ImageDraw.Draw(image)
    for i in range(9):
        draw.ellipse((80 + 180 * i, 400, 240 + 180 * i, 900 + 100 * i), fill=28 * i)
    return Page.from_image(image.convert("1"), Resolution.FINE)


def _median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def measure(quick: bool) -> list[list[object]]:
    repeat = 3 if quick else 7
    rows: list[list[object]] = []
    for name, page in (("text", text_page()), ("halftone", halftone_page())):
        for coding in (Coding.MH, Coding.MR):
            k = page.resolution.k_factor
            data = encode_page(page.rows, page.width, coding=coding, k=k)
            assert decode_page(data, page.width, coding=coding).rows == page.rows
            enc = _median_seconds(
                partial(encode_page, page.rows, page.width, coding=coding, k=k), repeat)
            dec = _median_seconds(partial(decode_page, data, page.width, coding=coding), repeat)
            line_time = 8 * len(data) / 14400
            rows.append([name, coding.value, f"{len(data) / 1024:.0f} KiB",
                         f"{1 / enc:.1f}", f"{enc * 1000:.0f} ms",
                         f"{1 / dec:.1f}", f"{dec * 1000:.0f} ms",
                         f"{line_time:.1f} s", f"{max(enc, dec) / line_time:.3f}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fax_bench",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    table(f"T.4 coding, A4 fine pages ({WIDTH_A4} x {LINES}), pure Python",
          ["page", "coding", "coded size", "encode pages/s", "encode", "decode pages/s",
           "decode", "line time at 14400", "worst / line time"],
          measure(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
