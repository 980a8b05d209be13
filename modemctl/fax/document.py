"""Turn what the user wants to fax into fax pages.

Accepted: TIFF (multi-page, including TIFF Class F in G3 1-D/2-D, G4 or
uncompressed, as HylaFAX and efax write it), PNG, PBM/PGM, JPEG, PDF
(rasterised with PDFium, the ``pdf`` extra) and Pillow images already in
memory, alone or as a list.

Two kinds of input are treated differently:

* **Fax-native pages** (bilevel and exactly 1728 pels wide, e.g. a received
  fax being forwarded) are kept pel for pel.  Only their line count changes
  when their vertical resolution (YResolution; the requested one when
  absent) differs from the one asked for: each line doubled, or every other
  line dropped.  So a page round-trips unchanged.
* **Everything else is a document page.**  It is turned upright by its EXIF
  orientation if it has one; then, wider than tall, it is turned a quarter
  (a landscape scan of a portrait page).  It is scaled, keeping its physical
  aspect (its dpi, square pels when unknown), to the 215 mm line (1728 pels
  at 204 dpi) and at most the paper length, put on a white page of the
  paper's length, and dithered (Floyd-Steinberg) to black and white,
  near-white counting as paper and near-black as ink.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from modemctl.errors import DocumentError
from modemctl.fax.page import HORIZONTAL_DPI, WIDTH_A4, Page, PaperSize, Resolution
from modemctl.fax.pdf import rasterise

Source = str | os.PathLike[str] | Image.Image
Document = Source | Sequence[Source]

SUPPORTED = "TIFF, PNG, PBM/PGM, JPEG or PDF"


def load_document(document: Document, *, resolution: Resolution = Resolution.FINE,
                  paper: PaperSize = PaperSize.A4) -> list[Page]:
    """Every page of ``document`` (a path, an image, or a list of them), in order,
    as fax pages at ``resolution``.

    Raises :class:`~modemctl.errors.DocumentError` naming the bad input, or
    :class:`~modemctl.errors.MissingExtra` for a PDF without the ``pdf`` extra.
    """
    sources: Sequence[Source]
    if isinstance(document, str | os.PathLike | Image.Image):
        sources = [document]
    else:
        sources = list(document)
    if not sources:
        raise DocumentError("document", "nothing to send: no file or image given")
    pages: list[Page] = []
    for number, source in enumerate(sources, 1):
        if isinstance(source, Image.Image):
            pages += _image_pages(source, f"image {number}", resolution, paper)
        elif isinstance(source, str | os.PathLike):
            pages += _file_pages(Path(source), resolution, paper)
        else:
            raise DocumentError(f"item {number}",
                                f"a {type(source).__name__} is neither a file path nor an image")
    return pages


def _file_pages(path: Path, resolution: Resolution, paper: PaperSize) -> list[Page]:
    try:
        with path.open("rb") as f:
            is_pdf = f.read(5) == b"%PDF-"
    except OSError as exc:
        raise DocumentError(str(path), exc.strerror or str(exc)) from None
    if is_pdf:
        return [_document_page(image, resolution, paper) for image in rasterise(path)]
    try:
        with Image.open(path) as image:
            return _image_pages(image, str(path), resolution, paper)
    except UnidentifiedImageError:
        raise DocumentError(str(path), f"not a {SUPPORTED} file") from None
    except Image.DecompressionBombError as exc:
        raise DocumentError(str(path), f"image too large to be a page ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:
        # Pillow reports truncated or corrupt data as OSError/ValueError/SyntaxError.
        raise DocumentError(str(path), f"unreadable image data ({exc})") from None


def _image_pages(image: Image.Image, name: str, resolution: Resolution,
                 paper: PaperSize) -> list[Page]:
    pages = []
    for frame in ImageSequence.Iterator(image):
        frame.load()
        if frame.width < 1 or frame.height < 1:
            raise DocumentError(name, "empty image")
        if frame.mode == "1" and frame.width == WIDTH_A4:
            pages.append(_native_page(frame, resolution))
        elif _is_fax(frame):
            # A B4/A3 fax page (2048/2432 pels), however short: scaled, never turned.
            pages.append(_document_page(frame, resolution, paper, turn=False))
        else:
            # A phone photo of a page stores its pels sideways plus an EXIF turn.
            upright = ImageOps.exif_transpose(frame)
            pages.append(_document_page(upright, resolution, paper))
    return pages


_PAPER, _INK = 224, 32
_TONE = [0 if v <= _INK else 255 if v >= _PAPER else round((v - _INK) * 255 / (_PAPER - _INK))
         for v in range(256)]
"""Near-white is paper and near-black is ink before dithering: otherwise the
faint greys of scanner noise, JPEG artefacts and resampling ringing come out
as scattered dots on white paper, which look dirty and code badly."""


def _is_fax(image: Image.Image) -> bool:
    """Bilevel at the fax's 204 dpi across: a fax page of another width."""
    dpi = image.info.get("dpi")
    return image.mode == "1" and dpi is not None and 200 <= float(dpi[0]) <= 210


def _native_page(image: Image.Image, resolution: Resolution) -> Page:
    dpi = image.info.get("dpi")
    source_res = resolution
    if dpi and float(dpi[1]) > 0:
        source_res = Resolution.STANDARD if float(dpi[1]) < 150 else Resolution.FINE
    page = Page.from_image(image, source_res)
    if source_res is resolution:
        return page
    if resolution is Resolution.FINE:
        rows = tuple(row for row in page.rows for _ in (0, 1))
    else:
        rows = page.rows[::2]
    return Page(page.width, rows, resolution)


def _grayscale(image: Image.Image) -> Image.Image:
    """The image as "L" on white paper (transparent parts are paper)."""
    if image.mode == "1":
        return image.convert("L")        # any non-zero pel is white, value 1 included
    if image.mode.startswith("I"):
        # 16-bit scans (PNG, PGM with maxval 65535): Pillow's convert("L") clips
        # at 255, which would turn everything but black into white paper.
        wide = image.convert("I")
        _, brightest = wide.getextrema()
        if isinstance(brightest, int | float) and brightest > 255:
            wide = wide.point(lambda v: v * (1 / 256))
        return wide.convert("L")
    if "A" in image.getbands() or "transparency" in image.info:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return image.convert("L")


def _document_page(image: Image.Image, resolution: Resolution, paper: PaperSize,
                   turn: bool = True) -> Page:
    gray = _grayscale(image)
    xdpi, ydpi = (float(v) for v in image.info.get("dpi", (1.0, 1.0)))
    if xdpi <= 0 or ydpi <= 0:
        xdpi = ydpi = 1.0
    if turn and gray.width > gray.height:
        gray = gray.transpose(Image.Transpose.ROTATE_90)
        xdpi, ydpi = ydpi, xdpi
    lines_per_inch = resolution.lines_per_mm * 25.4
    page_lines = paper.lines(resolution)
    width_in, height_in = gray.width / xdpi, gray.height / ydpi
    fax_width_in = WIDTH_A4 / HORIZONTAL_DPI
    factor = min(fax_width_in / width_in, page_lines / lines_per_inch / height_in)
    out_w = max(1, min(WIDTH_A4, round(width_in * factor * HORIZONTAL_DPI)))
    out_h = max(1, min(page_lines, round(height_in * factor * lines_per_inch)))
    scaled = gray.resize((out_w, out_h), Image.Resampling.LANCZOS).point(_TONE)
    canvas = Image.new("L", (WIDTH_A4, page_lines), 255)
    canvas.paste(scaled, ((WIDTH_A4 - out_w) // 2, 0))
    return Page.from_image(canvas.convert("1", dither=Image.Dither.FLOYDSTEINBERG), resolution)
