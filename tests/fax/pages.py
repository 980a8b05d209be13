"""Real-looking test pages, drawn with Pillow (no binary fixtures)."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from modemctl.fax.page import WIDTH_A4, Page, Resolution

WORDS = ("invoice", "delivery", "patient", "form", "total", "signature", "date", "ref",
         "quantity", "account", "please", "return", "by", "fax", "0123", "4567", "89")


def text_image(height: int, seed: int = 1) -> Image.Image:
    """A page of varied typed text (antialiased, then thresholded), as mode "1"."""
    rnd = random.Random(seed)
    img = Image.new("L", (WIDTH_A4, height), 255)
    draw = ImageDraw.Draw(img)
    for y in range(40, height - 30, 34):
        line = " ".join(rnd.choice(WORDS) for _ in range(14))
        draw.text((60 + rnd.randrange(40), y), line, fill=0, font_size=24 + rnd.randrange(6))
    draw.rectangle((50, 10, WIDTH_A4 - 50, height - 10), outline=0, width=3)
    return img.point(lambda v: 255 if v > 128 else 0).convert("1")


def halftone_image(height: int) -> Image.Image:
    """A dithered photograph stand-in: a gradient with circles, Floyd-Steinberg dithered."""
    img = Image.linear_gradient("L").resize((WIDTH_A4, height))
    draw = ImageDraw.Draw(img)
    for i in range(8):
        draw.ellipse((100 + 180 * i, height // 4, 260 + 180 * i, height // 4 + 160), fill=30 * i)
    return img.convert("1")


def solid_image(height: int, black: bool) -> Image.Image:
    return Image.new("1", (WIDTH_A4, height), 0 if black else 255)


def single_line_image() -> Image.Image:
    """One scan line with runs of every length class (short, make-up, to the edge)."""
    img = Image.new("1", (WIDTH_A4, 1), 255)
    x = 0
    for run in (1, 2, 3, 63, 64, 65, 127, 128, 700, 1):
        img.paste(0, (x, 0, x + run, 1))
        x += 2 * run
    img.paste(0, (WIDTH_A4 - 5, 0, WIDTH_A4, 1))
    return img


def page_set() -> dict[str, Page]:
    """The pages every codec test runs on (short pages: the tests stay fast)."""
    images = {
        "text": text_image(400),
        "halftone": halftone_image(200),
        "all-black": solid_image(50, True),
        "all-white": solid_image(50, False),
        "single-line": single_line_image(),
    }
    return {name: Page.from_image(img, Resolution.FINE) for name, img in images.items()}
