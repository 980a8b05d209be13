"""Pages and T.4 against efax's own coder (``efix``, shipped in Debian's efax package).

efix reads and writes TIFF Class F and efax's raw "fax" files (a T.4 MH
stream with EOLs and RTC, MSB first), so it checks our codec and TIFF writer
against an implementation nobody here wrote, in both directions.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from modemctl.fax import Page, Resolution, load_document, write_tiff
from modemctl.fax.t4 import Coding, decode_page, encode_page
from tests.fax.pages import text_image
from tests.support import require_program

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def page() -> Page:
    """A full A4 fine page: efix pads anything shorter to 297 mm."""
    return Page.from_image(text_image(2287, seed=4), Resolution.FINE)


def _efix(*args: str | Path) -> None:
    efix = require_program("efix")
    subprocess.run([efix, "-v", "e", *map(str, args)], check=True, timeout=60,
                   capture_output=True)


def _pbm_page(path: Path) -> Page:
    with Image.open(path) as img:
        return Page.from_image(img, Resolution.FINE)


def test_efix_reads_our_tiff_class_f(tmp_path: Path, page: Page) -> None:
    ours = write_tiff(tmp_path / "ours.tif", [page], coding=Coding.MH)
    _efix("-itiffg3", "-opbm", "-n", tmp_path / "back.pbm", ours)
    assert _pbm_page(tmp_path / "back.pbm") == page


def test_we_read_efix_tiff_class_f(tmp_path: Path, page: Page) -> None:
    page.to_image().save(tmp_path / "in.pbm")
    _efix("-ipbm", "-otiffg3", "-n", tmp_path / "efix.tif", tmp_path / "in.pbm")
    assert load_document(tmp_path / "efix.tif", resolution=Resolution.FINE) == [page]


def test_we_decode_efax_raw_fax_data(tmp_path: Path, page: Page) -> None:
    page.to_image().save(tmp_path / "in.pbm")
    _efix("-ipbm", "-ofax", "-n", tmp_path / "efix.fax", tmp_path / "in.pbm")
    decoded = decode_page((tmp_path / "efix.fax").read_bytes(), page.width, coding=Coding.MH)
    assert decoded.rows == page.rows
    assert decoded.rtc and decoded.bad_lines == 0


def test_efix_decodes_our_wire_stream(tmp_path: Path, page: Page) -> None:
    stream = encode_page(page.rows, page.width, coding=Coding.MH, min_bits=96)
    (tmp_path / "ours.fax").write_bytes(stream)
    _efix("-ifax", "-opbm", "-n", tmp_path / "back.pbm", tmp_path / "ours.fax")
    assert _pbm_page(tmp_path / "back.pbm") == page
