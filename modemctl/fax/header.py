"""The header line a sending fax prints along the top of each page.

Fax machines identify every page they send with a line of small text (date,
sender, page number) in the top margin; T.30 leaves its content to the
sender.  It is off by default in modemctl so that received pages can be
compared with sent ones pel for pel; when asked for, it overwrites the top
4 mm of the page, as efax and HylaFAX do, rather than pushing the page down.

The text is drawn with Pillow's built-in font at the horizontal 204 dpi and
then squeezed to the page's vertical resolution, so it has the same size on
paper at standard and fine resolution.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFont

from modemctl.fax.page import HORIZONTAL_DPI, Page

HEADER_MM = 4.0
"""Height of the header band (the top margin a fax page leaves blank)."""
_FONT_PX = 24          # about 3 mm capital height at 204 dpi
_LEFT_PX = 40


def stamp_header(page: Page, text: str) -> Page:
    """``page`` with ``text`` in its top margin (the band is cleared first)."""
    square_rows = round(HEADER_MM / 25.4 * HORIZONTAL_DPI)
    band = Image.new("L", (page.width, square_rows), 255)
    font = ImageFont.load_default(_FONT_PX)
    ImageDraw.Draw(band).text((_LEFT_PX, square_rows // 2), text, fill=0, font=font,
                              anchor="lm")
    rows = round(HEADER_MM * page.resolution.lines_per_mm)
    band = band.resize((page.width, rows), Image.Resampling.BOX)
    bilevel = band.point(lambda v: 255 if v >= 128 else 0).convert("1")
    stamped = Page.from_image(bilevel, page.resolution)
    keep = min(rows, page.height)
    return Page(page.width, stamped.rows[:keep] + page.rows[keep:], page.resolution)
