"""TIFF Class F and PDF output, read back by libtiff (Pillow) and PDFium."""

from __future__ import annotations

import os
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageSequence

from modemctl.errors import FaxError
from modemctl.fax import PageQuality, Resolution, write_pdf, write_tiff
from modemctl.fax.page import Page
from modemctl.fax.t4 import Coding, decode_page, encode_page
from tests.fax.pages import halftone_image, text_image


def _pages() -> list[Page]:
    return [Page.from_image(text_image(300, seed=5), Resolution.FINE),
            Page.from_image(halftone_image(120), Resolution.STANDARD)]


@pytest.mark.parametrize(("coding", "t4options"), [(Coding.MH, 4), (Coding.MR, 5)])
def test_multi_page_tiff_class_f_reads_back_through_libtiff(
        tmp_path: Path, coding: Coding, t4options: int) -> None:
    pages = _pages()
    path = write_tiff(tmp_path / "fax.tif", pages, coding=coding, description="+44 20 7946 0000",
                      quality=[PageQuality(), PageQuality(bad_lines=7, longest_bad_run=3)])
    seen = []
    with Image.open(path) as img:
        # The iterator moves one image object from frame to frame: check each in turn.
        for number, (frame, page) in enumerate(zip(ImageSequence.Iterator(img), pages,
                                                   strict=True)):
            frame.load()
            tags = frame.tag_v2
            assert frame.mode == "1"
            assert frame.tobytes("raw", "1;I") == b"".join(page.rows)
            assert tags[259] == 3                     # G3
            assert tags[262] == 0                     # min-is-white (trap 1)
            assert tags[266] == 1                     # FillOrder MSB first, as encoded
            assert tags[292] == t4options
            assert frame.info["dpi"] == (204.0, float(page.resolution.value))
            assert tags[296] == 2
            assert tags[297] == (number, 2)
            assert tags[270] == "+44 20 7946 0000"
            seen.append((tags[326], tags[327], tags[328]))
        assert img.n_frames == 2
    assert seen == [(0, 0, 0), (7, 1, 3)]             # BadFaxLines, CleanFaxData, Consecutive


def test_white_paper_is_white_in_the_file(tmp_path: Path) -> None:
    """Trap 1: an all-white page must not come out as black runs (a negative)."""
    page = Page(1728, (bytes(216),) * 10, Resolution.STANDARD)
    path = write_tiff(tmp_path / "w.tif", [page])
    with Image.open(path) as img:
        assert img.convert("L").getextrema() == (255, 255)
        raw = path.read_bytes()[img.tag_v2[273][0]:][:4]
    # EOL then white-1728 make-up (010011011): white paper coded as a white run.
    bits = format(int.from_bytes(raw, "big"), "032b")
    assert bits[bits.index("000000000001") + 12:].startswith("010011011")


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "fax.tif"
    with pytest.raises(FaxError, match="cannot write"):
        write_tiff(target, _pages())
    assert not target.parent.exists()
    with pytest.raises(FaxError):
        write_tiff(tmp_path / "none.tif", [])
    assert os.listdir(tmp_path) == []


def test_pdf_on_request_has_every_page_at_true_size(tmp_path: Path) -> None:
    pages = _pages()
    path = write_pdf(tmp_path / "fax.pdf", pages[:1] * 3)
    pdf = pdfium.PdfDocument(str(path))
    try:
        assert len(pdf) == 3
        width_pt, height_pt = pdf[0].get_size()
        assert width_pt == pytest.approx(1728 / 204 * 72, abs=0.5)     # 215 mm line
        assert height_pt == pytest.approx(300 / 196 * 72, abs=0.5)
        image = pdf[0].render(scale=204 / 72).to_pil().convert("1")
    finally:
        pdf.close()
    # Rendered back at 204 dpi, the page has ink where ours does (not a blank or a negative).
    black = image.histogram()[0] / (image.width * image.height)
    ours = sum(bin(b).count("1") for row in pages[0].rows for b in row) / (1728 * 300)
    assert black == pytest.approx(ours, rel=0.35)


def test_a_damaged_received_page_is_stored_as_regenerated(tmp_path: Path) -> None:
    """The receive path: wire data with a noise burst -> decode -> TIFF-F with its bad lines."""
    sent = Page.from_image(text_image(240, seed=8), Resolution.FINE)
    wire = bytearray(encode_page(sent.rows, sent.width, coding=Coding.MR, k=4))
    middle = len(wire) // 2
    wire[middle:middle + 20] = bytes(20)                  # carrier dropout: zeros
    decoded = decode_page(bytes(wire), sent.width, coding=Coding.MR)
    assert decoded.bad_lines > 0 and decoded.quality.bad_lines == decoded.bad_lines
    received = decoded.page(Resolution.FINE)
    path = write_tiff(tmp_path / "rx.tif", [received], coding=Coding.MR,
                      quality=[decoded.quality])
    with Image.open(path) as img:
        assert img.tobytes("raw", "1;I") == b"".join(received.rows)
        assert img.tag_v2[326] == decoded.bad_lines
        assert img.tag_v2[328] == decoded.longest_bad_run
        assert img.tag_v2[327] == 1


def test_output_files_get_ordinary_permissions(tmp_path: Path) -> None:
    """Not the 0600 of the temporary file they are written through."""
    old = os.umask(0o022)
    try:
        tif = write_tiff(tmp_path / "fax.tif", _pages())
        pdf = write_pdf(tmp_path / "fax.pdf", _pages())
    finally:
        os.umask(old)
    assert tif.stat().st_mode & 0o777 == 0o644
    assert pdf.stat().st_mode & 0o777 == 0o644


def test_bad_line_tags_never_exceed_the_image_height(tmp_path: Path) -> None:
    # Copy quality counts lines estimated lost, which the stored image does not hold.
    page = _pages()[1]
    path = write_tiff(tmp_path / "fax.tif", [page],
                      quality=[PageQuality(bad_lines=page.height + 40,
                                           longest_bad_run=page.height + 40)])
    with Image.open(path) as img:
        assert img.tag_v2[257] == page.height
        assert img.tag_v2[326] == page.height and img.tag_v2[328] == page.height
        assert img.tag_v2[327] == 1
