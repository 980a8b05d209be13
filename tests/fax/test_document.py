"""Reading documents into fax pages: every input format, scaling, rotation,
the two Pillow traps, and bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, TiffImagePlugin

from modemctl.errors import DocumentError, MissingExtra
from modemctl.fax import Page, PaperSize, Resolution, load_document
from tests.fax.pages import halftone_image, text_image

A4_FINE, A4_STANDARD, LETTER_FINE = 2287, 1143, 2151


def _black_fraction(page: Page) -> float:
    return sum(bin(b).count("1") for row in page.rows for b in row) / (page.width * page.height)


def _fax_tiff(path: Path, images: list[Image.Image], compression: str | None,
              t4options: int | None = None, fill_order: int = 1, ydpi: int = 196,
              photometric: int = 0) -> Path:
    """A multi-page TIFF Class F written by libtiff, the way HylaFAX/efax files look."""
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[262] = photometric
    info[266] = fill_order
    if t4options is not None:
        info[292] = t4options
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:], tiffinfo=info,
                   compression=compression, dpi=(204, ydpi))
    return path


def _native_pages() -> list[Page]:
    return [Page.from_image(text_image(260, seed=11), Resolution.FINE),
            Page.from_image(halftone_image(90), Resolution.FINE)]


@pytest.mark.parametrize(("compression", "t4options", "fill_order"), [
    ("group3", 0, 1), ("group3", 4, 1), ("group3", 5, 1), ("group3", 4, 2),
    ("group4", None, 1), (None, None, 1),
], ids=["g3-1d", "g3-1d-fill", "g3-2d", "g3-lsb-first", "g4", "uncompressed"])
def test_tiff_class_f_pages_come_through_pel_for_pel(
        tmp_path: Path, compression: str | None, t4options: int | None, fill_order: int) -> None:
    pages = _native_pages()
    path = _fax_tiff(tmp_path / "in.tif", [p.to_image() for p in pages], compression,
                     t4options, fill_order)
    assert load_document(path, resolution=Resolution.FINE) == pages


@pytest.mark.parametrize("photometric", [0, 1], ids=["min-is-white", "min-is-black"])
def test_trap_1_photometric_either_way_gives_the_same_page(tmp_path: Path,
                                                           photometric: int) -> None:
    page = _native_pages()[0]
    path = _fax_tiff(tmp_path / "p.tif", [page.to_image()], "group3", 4, photometric=photometric)
    [loaded] = load_document(path)
    assert loaded == page
    assert 0.005 < _black_fraction(loaded) < 0.5     # ink on white paper, not a negative


def test_trap_2_a_page_built_from_value_1_is_white_paper() -> None:
    image = Image.new("1", (1728, 40), 1)             # value 1, not 255: still white
    ImageDraw.Draw(image).rectangle((100, 10, 199, 19), fill=0)
    [page] = load_document(image)
    assert _black_fraction(page) == pytest.approx(100 * 10 / (1728 * 40))
    [scaled] = load_document(Image.new("1", (800, 1000), 1))
    assert _black_fraction(scaled) == 0


def test_standard_tiff_sent_at_fine_doubles_lines_and_back(tmp_path: Path) -> None:
    page = Page.from_image(text_image(100, seed=2), Resolution.STANDARD)
    path = _fax_tiff(tmp_path / "s.tif", [page.to_image()], "group3", 4, ydpi=98)
    [fine] = load_document(path, resolution=Resolution.FINE)
    assert fine.resolution is Resolution.FINE
    assert fine.rows == tuple(r for r in page.rows for _ in (0, 1))
    [standard] = load_document(path, resolution=Resolution.STANDARD)
    assert standard == page
    fine_path = _fax_tiff(tmp_path / "f.tif", [fine.to_image()], "group3", 4)
    assert load_document(fine_path, resolution=Resolution.STANDARD) == [page]


def _letter_scan(size: tuple[int, int] = (850, 1100)) -> Image.Image:
    """A 100-dpi letter-size grey scan: a black bar along the top, text below."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0] - 1, 39), fill=0)
    for y in range(80, size[1] - 40, 30):
        draw.text((40, y), "Please fax the signed form back by Friday", fill=0, font_size=22)
    image.info["dpi"] = (100, 100)
    return image


@pytest.mark.parametrize("fmt", ["PNG", "PGM", "PBM", "JPEG", "PDF", "TIFF-gray"])
def test_every_format_becomes_a_full_dithered_page(tmp_path: Path, fmt: str) -> None:
    scan = _letter_scan()
    path = tmp_path / f"doc.{fmt.lower()}"
    if fmt == "PNG":
        scan.convert("LA").save(path, dpi=(100, 100))
    elif fmt == "PGM":
        scan.save(path, "PPM")
    elif fmt == "PBM":
        scan.convert("1").save(path, "PPM")
    elif fmt == "JPEG":
        scan.convert("RGB").save(path, "JPEG", dpi=(100, 100), quality=90)
    elif fmt == "PDF":
        scan.save(path, "PDF", resolution=100.0, save_all=True, append_images=[scan])
    else:
        scan.save(path, "TIFF", dpi=(100, 100))
    pages = load_document(path, resolution=Resolution.FINE, paper=PaperSize.A4)
    assert len(pages) == (2 if fmt == "PDF" else 1)
    for page in pages:
        assert (page.width, page.height, page.resolution) == (1728, A4_FINE, Resolution.FINE)
        image = page.to_image()
        # Letter is 8.5 in wide: it fills the 215 mm line; 11 in of 11.7: the bottom stays white.
        assert image.crop((0, 0, 1728, 60)).convert("L").getextrema()[0] == 0
        bar = image.crop((100, 5, 1628, 70)).convert("L").histogram()
        assert bar[0] > 0.95 * sum(bar)              # the top bar is solid black
        assert image.crop((0, 2200, 1728, A4_FINE)).convert("L").getextrema() == (255, 255)
        assert 0.03 < _black_fraction(page) < 0.4


def test_letter_length_and_standard_resolution() -> None:
    [page] = load_document(_letter_scan(), resolution=Resolution.FINE, paper=PaperSize.LETTER)
    assert page.height == LETTER_FINE
    [page] = load_document(_letter_scan(), resolution=Resolution.STANDARD)
    assert (page.height, page.resolution) == (A4_STANDARD, Resolution.STANDARD)


def test_a_portrait_page_scanned_wider_than_tall_is_turned() -> None:
    landscape = _letter_scan().transpose(Image.Transpose.ROTATE_270)   # bar now on the right
    [page] = load_document(landscape)
    assert page.height == A4_FINE
    image = page.to_image()
    # Turned a quarter counter-clockwise, the bar is along the top again.
    bar = image.crop((100, 5, 1628, 70)).convert("L").histogram()
    assert bar[0] > 0.95 * sum(bar)


def test_a_list_of_paths_and_images_keeps_its_order(tmp_path: Path) -> None:
    native = _native_pages()
    path = _fax_tiff(tmp_path / "two.tif", [p.to_image() for p in native], "group3", 4)
    pages = load_document([native[1].to_image(), path, native[0].to_image()])
    assert pages == [native[1], *native, native[0]]


def test_pdf_without_the_extra_names_it_in_one_line(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "doc.pdf"
    _letter_scan().save(path, "PDF")
    monkeypatch.setitem(sys.modules, "pypdfium2", None)     # as if not installed
    with pytest.raises(MissingExtra) as caught:
        load_document(path)
    assert str(caught.value) == "faxing a PDF needs pypdfium2: pip install 'modemctl[pdf]'"
    assert caught.value.extra == "pdf"


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("missing.png", None, "No such file"),
    ("notes.txt", b"just some text\n", "not a TIFF, PNG, PBM/PGM, JPEG or PDF file"),
    ("cut.png", "truncated-png", "unreadable image data"),
    ("broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n", "not a readable PDF"),
])
def test_bad_input_is_a_typed_error_naming_the_file(
        tmp_path: Path, name: str, content: bytes | str | None, reason: str) -> None:
    path = tmp_path / name
    if content == "truncated-png":
        _letter_scan().save(path, "PNG")
        path.write_bytes(path.read_bytes()[:400])
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(DocumentError) as caught:
        load_document([_letter_scan(), path])
    assert caught.value.source == str(path)
    assert reason in str(caught.value)


def test_nothing_to_send_is_an_error() -> None:
    with pytest.raises(DocumentError, match="nothing to send"):
        load_document([])


def test_white_paper_stays_clean_around_ink(tmp_path: Path) -> None:
    """JPEG artefacts and resampling ringing are faint greys next to the ink;
    dithered as they are, they speckle the paper with black dots."""
    scan = Image.new("L", (850, 1100), 255)
    ImageDraw.Draw(scan).rectangle((200, 200, 649, 399), fill=0)
    scan.save(tmp_path / "box.jpg", "JPEG", quality=40, dpi=(100, 100))
    [page] = load_document(tmp_path / "box.jpg", resolution=Resolution.FINE)
    image = page.to_image().convert("L")
    sx, sy = 1728 / 850, 196 / 100                  # 100 dpi scan onto 204 x 196
    box = (round(200 * sx), round(200 * sy), round(650 * sx), round(400 * sy))
    assert image.crop((box[0] + 8, box[1] + 8, box[2] - 8, box[3] - 8)).getextrema() == (0, 0)
    margin = 12
    for band in ((0, 0, 1728, box[1] - margin), (0, box[3] + margin, 1728, page.height),
                 (0, 0, box[0] - margin, page.height), (box[2] + margin, 0, 1728, page.height)):
        assert image.crop(band).getextrema() == (255, 255), band


@pytest.mark.parametrize("fmt", ["PNG", "PPM"], ids=["png-16bit", "pgm-16bit"])
def test_sixteen_bit_scans_keep_their_greys(tmp_path: Path, fmt: str) -> None:
    """Pillow's own convert("L") clips 16-bit values at 255: the page would come out
    white except for pure black."""
    scan = _letter_scan().convert("I").point(lambda v: v * 257).convert("I;16")  # 16 bit
    ImageDraw.Draw(scan).rectangle((0, 500, 849, 599), fill=128 * 257)  # a mid-grey band
    path = tmp_path / f"scan16.{fmt.lower()}"
    scan.save(path, fmt)
    with Image.open(path) as check:
        assert check.mode.startswith("I")                # really read back as 16 bit
    [page] = load_document(path)
    band = page.to_image().crop((100, 1000, 1600, 1150)).convert("L").histogram()
    assert 0.35 < band[0] / sum(band) < 0.65          # dithered mid-grey, not white paper
    assert 0.03 < _black_fraction(page) < 0.4


def test_a_photo_is_turned_upright_by_its_exif_orientation(tmp_path: Path) -> None:
    """Phone cameras store the pels sideways and an EXIF tag saying how to turn them."""
    sideways = _letter_scan().transpose(Image.Transpose.ROTATE_90).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6                                     # "turn 90° clockwise to view"
    sideways.save(tmp_path / "photo.jpg", "JPEG", exif=exif, quality=90)
    [page] = load_document(tmp_path / "photo.jpg")
    bar = page.to_image().crop((100, 5, 1628, 70)).convert("L").histogram()
    assert bar[0] > 0.95 * sum(bar)                     # the bar is along the top


def test_a_short_wide_fax_page_is_scaled_not_turned(tmp_path: Path) -> None:
    """A B4 fax page (2048 pels at 204 dpi) that is only a few lines long is wider
    than tall, but it is a fax: reduced to 1728 pels across, never turned."""
    strip = Image.new("1", (2048, 300), 255)
    ImageDraw.Draw(strip).rectangle((0, 0, 2047, 29), fill=0)        # a bar along the top
    path = _fax_tiff(tmp_path / "b4.tif", [strip], "group3", 4)
    [page] = load_document(path)
    assert page.width == 1728
    bar = page.to_image().crop((100, 2, 1628, 20)).convert("L").histogram()
    assert bar[0] > 0.95 * sum(bar)                   # still along the top: not turned


def test_something_neither_path_nor_image_is_a_typed_error() -> None:
    with pytest.raises(DocumentError, match="item 2: a int is neither"):
        load_document([_letter_scan(), 42])  # type: ignore[list-item]


def test_an_image_too_large_to_be_a_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.png"
    _letter_scan().save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)   # 850 x 1100 is "a bomb" now
    with pytest.raises(DocumentError, match="too large"):
        load_document(path)
