"""The optional header line on sent pages."""

from __future__ import annotations

import pytest

from modemctl.fax import Page, Resolution
from modemctl.fax.header import stamp_header
from tests.fax.pages import text_image


def _ink_rows(page: Page) -> list[int]:
    return [i for i, row in enumerate(page.rows) if any(row)]


@pytest.mark.parametrize(("resolution", "band"), [(Resolution.STANDARD, 15),
                                                  (Resolution.FINE, 31)])
def test_header_is_text_in_the_top_4_mm_and_leaves_the_rest(resolution: Resolution,
                                                             band: int) -> None:
    page = Page.from_image(text_image(400, seed=6), resolution)
    stamped = stamp_header(page, "2026-11-30 06:10  +44 20 7946 0000  p. 1/2")
    assert stamped.height == page.height
    assert stamped.rows[band:] == page.rows[band:]
    ink = _ink_rows(Page(page.width, stamped.rows[:band], resolution))
    assert ink, "no text drawn"
    # Same size on paper at either resolution: about 3 mm of the 4 mm band.
    tall_mm = (ink[-1] - ink[0] + 1) / resolution.lines_per_mm
    assert 1.5 < tall_mm < 4.0
    # Text, not a bar: the band's ink is a small share of its pels, across the line.
    black = sum(bin(b).count("1") for row in stamped.rows[:band] for b in row)
    assert 0.01 < black / (band * page.width) < 0.3


def test_header_over_a_page_shorter_than_the_band() -> None:
    page = Page(1728, (bytes(216),) * 5, Resolution.FINE)
    stamped = stamp_header(page, "HEADER")
    assert stamped.height == 5
