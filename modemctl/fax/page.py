"""A fax page as the codec sees it: 1-bit rows at a fax resolution.

Rows are packed bytes, most significant bit first, **1 = black** (the fax
convention, photometric min-is-white), each ``ceil(width / 8)`` bytes with
the unused low bits of the last byte zero.  Keeping this one representation
from document reading through T.4 coding to TIFF writing is what avoids the
two Pillow traps (reference A2): nothing here depends on how Pillow stores or
inverts mode "1" pixels, because images enter and leave through
``Image.tobytes("raw", "1;I")`` / ``frombytes``, whose packer treats every
non-zero pixel as white.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PIL import Image

from modemctl.errors import PageCodingError

WIDTH_A4 = 1728
"""Pels per line on an ISO A4 fax (T.4 §2.2: 1728 pels over 215 mm)."""
HORIZONTAL_DPI = 204
"""Horizontal resolution every T.4 page has (8 pels/mm, 203.2 dpi, written 204 in TIFF-F)."""


class Resolution(enum.Enum):
    """Vertical resolution (T.4 §2.1): the value is lines per inch as TIFF Class F writes it."""

    STANDARD = 98    # 3.85 lines/mm
    FINE = 196       # 7.7 lines/mm

    @property
    def lines_per_mm(self) -> float:
        return 3.85 if self is Resolution.STANDARD else 7.7

    @property
    def k_factor(self) -> int:
        """MR's K parameter: a 1-D line at least every K lines (T.4 §4.2.1)."""
        return 2 if self is Resolution.STANDARD else 4


class PaperSize(enum.Enum):
    """Page length for scaled documents; the value is the length in mm."""

    A4 = 297.0
    LETTER = 279.4

    def lines(self, resolution: Resolution) -> int:
        """Scan lines of a full page: A4 is 1143 standard / 2287 fine."""
        return round(self.value * resolution.lines_per_mm)


def row_bytes(width: int) -> int:
    """Bytes in one packed row of ``width`` pels."""
    return (width + 7) // 8


@dataclass(frozen=True)
class PageQuality:
    """What a receiver saw of a page: lines it had to regenerate.

    T.30 judges copy quality from these two figures (MCF or RTN), and TIFF
    Class F keeps them with the page (BadFaxLines, ConsecutiveBadFaxLines).
    """

    bad_lines: int = 0
    longest_bad_run: int = 0


@dataclass(frozen=True)
class Page:
    """One fax page: ``rows`` of packed 1-bit pels (1 = black), at ``resolution``."""

    width: int
    rows: tuple[bytes, ...]
    resolution: Resolution

    def __post_init__(self) -> None:
        if self.width < 1:
            raise PageCodingError(f"page width must be positive, not {self.width}")
        stride = row_bytes(self.width)
        for i, row in enumerate(self.rows):
            if len(row) != stride:
                raise PageCodingError(
                    f"row {i} has {len(row)} bytes; a {self.width}-pel row has {stride}")

    @property
    def height(self) -> int:
        return len(self.rows)

    def to_image(self) -> Image.Image:
        """A Pillow mode "1" image (0 = black, 255 = white) of the page."""
        return Image.frombytes("1", (self.width, self.height), b"".join(self.rows), "raw", "1;I")

    @classmethod
    def from_image(cls, image: Image.Image, resolution: Resolution) -> Page:
        """Take a bilevel image as it is (no scaling); any non-zero pixel is white."""
        bilevel = image if image.mode == "1" else image.convert("1", dither=Image.Dither.NONE)
        width, height = bilevel.size
        data = bilevel.tobytes("raw", "1;I")
        stride = row_bytes(width)
        rows = tuple(data[i * stride:(i + 1) * stride] for i in range(height))
        return cls(width, rows, resolution)
