"""PDF in and out: rasterise a PDF with PDFium (the ``pdf`` extra), write pages as PDF.

PDFium is optional because it is a large binary wheel that only PDF input
needs; without it, a PDF document fails with :class:`MissingExtra`, whose
message is the install command.  Writing a PDF needs only Pillow.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image

from modemctl.errors import DocumentError, FaxError, MissingExtra
from modemctl.fax.files import write_atomically
from modemctl.fax.page import HORIZONTAL_DPI, WIDTH_A4, Page


def rasterise(path: Path) -> Iterator[Image.Image]:
    """Every page of the PDF at ``path`` as a grayscale image whose shorter side is
    about 1728 pels, with its dpi in ``info`` (so scaling keeps the aspect).

    A generator, so that a long PDF is held one rendered page at a time (a
    rendered page is 4 MB; its fax page is a tenth of that).
    """
    try:
        import pypdfium2 as pdfium
    except ImportError:
        raise MissingExtra("faxing a PDF", "pdf", "pypdfium2") from None
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        raise DocumentError(str(path), f"not a readable PDF ({exc})") from None
    try:
        if len(pdf) == 0:
            raise DocumentError(str(path), "the PDF has no pages")
        for index in range(len(pdf)):
            try:
                page = pdf[index]
                width_pt, height_pt = page.get_size()
                scale = WIDTH_A4 / max(1.0, min(width_pt, height_pt))
                image = page.render(scale=scale, grayscale=True).to_pil()
            except pdfium.PdfiumError as exc:
                raise DocumentError(str(path), f"page {index + 1} cannot be rendered ({exc})") \
                    from None
            image.info["dpi"] = (72 * scale, 72 * scale)
            yield image
    finally:
        pdf.close()


def pdf_bytes(pages: Sequence[Page]) -> bytes:
    """``pages`` as one PDF, each at its fax resolution (so it prints at true size)."""
    if not pages:
        raise FaxError("a PDF needs at least one page")
    images = [page.to_image() for page in pages]
    buf = io.BytesIO()
    dpi = (HORIZONTAL_DPI, pages[0].resolution.value)
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], dpi=dpi)
    return buf.getvalue()


def write_pdf(path: str | os.PathLike[str], pages: Sequence[Page]) -> Path:
    """Write received ``pages`` as a PDF at ``path``; nothing is left there on failure."""
    target = Path(path)
    write_atomically(target, pdf_bytes(pages))
    return target
