"""T.4 coding speed (MH and MR, pages per second, A4 fine), and a fax call's
wall time on the fake exchange against its floor.

``python -m bench.fax_bench [--quick] [--call-scale S]``

The codec is pure Python, so its speed is what bounds how soon a page can
go out after it is read (the sender codes ahead of the modem) and how soon a
received page is checked for copy quality (T.30 must answer MCF or RTN
within seconds).  A page at 14400 bit/s takes at least several seconds on
the line, so coding must stay far below that; the "line time" column shows
the ratio against the time the coded page needs at 14400 bit/s.

Pages are 1728 x 2287 (A4 fine), drawn with Pillow: a page of varied typed
text (the common case) and a dithered halftone (the worst realistic case:
short runs everywhere).  Each figure is the median of several runs.

The call: ``fax.send`` of two pages of typed text (A4 standard, 1143 lines)
from one fake line to ``fax.receive`` on another, at real-time scale.  Its
floor is the time the line carries signals (CED, V.21 preambles and frames,
trainings, TCF, page data and turn-offs), taken from the fake's wire; the
ratio is the time from CED to the last carrier's end over that floor.  The
excess is every turnaround: the hosts' reaction and the 80 ms ``+FTS``
silences T.30 asks for.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from PIL import Image, ImageDraw

from bench.support import machine, table
from modemctl import fax
from modemctl.fake import Exchange
from modemctl.fake.faxwire import CED, CarrierOff, CarrierOn
from modemctl.fax.page import WIDTH_A4, Page, PaperSize, Resolution
from modemctl.fax.t4 import Coding, decode_page, encode_page
from modemctl.line import open_line

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


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


async def fax_call(scale: float) -> list[object]:
    """One two-page call; returns a table row."""
    pages = [Page.from_image(image, Resolution.STANDARD).to_image()
             for image in (_text_image(1143, 3), _text_image(1143, 4))]
    on_air: list[tuple[float, float]] = []
    ced_start: list[float] = []
    opened: dict[int, float] = {}
    async with Exchange(time_scale=scale) as ex:
        relay = ex.fax_send

        def tap(line: Any, signal: object) -> None:
            if isinstance(signal, CarrierOn):
                opened[id(line)] = signal.start
                if signal.kind is CED:
                    ced_start.append(signal.start)
            elif isinstance(signal, CarrierOff) and id(line) in opened:
                on_air.append((opened.pop(id(line)), signal.end))
            relay(line, signal)

        ex.fax_send = tap  # type: ignore[method-assign]
        a = await ex.add_line("5551001", personality="conexant-v92")
        b = await ex.add_line("5551002", personality="agere-v92")
        with tempfile.TemporaryDirectory() as out:
            async with open_line(a.port, "US", scale) as near, \
                    open_line(b.port, "US", scale) as far:
                receiving = asyncio.create_task(fax.receive(far, out))
                started = time.perf_counter()
                sent = await fax.send(near, "5551002", pages, resolution=Resolution.STANDARD)
                wall = time.perf_counter() - started
                await receiving
    assert sent.ok and sent.params is not None, sent.hangup.text
    span = max(end for _, end in on_air) - ced_start[0]
    floor = _union([(s, e) for s, e in on_air if s >= ced_start[0]])
    return [f"{scale:g}", f"{sent.params.modulation.rate}", f"{wall:.1f} s",
            f"{span:.1f} s", f"{floor:.1f} s", f"{span / floor:.2f}"]


def _text_image(height: int, seed: int) -> Image.Image:
    rnd = random.Random(seed)
    image = Image.new("L", (WIDTH_A4, height), 255)
    draw = ImageDraw.Draw(image)
    for y in range(60, height - 60, 19):
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randrange(6, 15)))
        draw.text((120, y), line, fill=0, font_size=13 + rnd.randrange(4))
    return image.point(lambda v: 255 if v > 128 else 0).convert("1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fax_bench",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--call-scale", type=float, default=1.0, metavar="S",
                        help="time scale of the fax call (1.0: real time, ~40 s)")
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    table(f"T.4 coding, A4 fine pages ({WIDTH_A4} x {LINES}), pure Python",
          ["page", "coding", "coded size", "encode pages/s", "encode", "decode pages/s",
           "decode", "line time at 14400", "worst / line time"],
          measure(args.quick))
    table("Two-page fax call (A4 standard text, MR) on the fake, CED to last carrier",
          ["scale", "bit/s", "fax.send wall", "CED to end (protocol)", "floor (signals)",
           "ratio"],
          [asyncio.run(fax_call(args.call_scale))])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
