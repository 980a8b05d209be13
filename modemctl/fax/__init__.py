"""Fax: pages (documents in, T.4 coding, TIFF Class F and PDF out), above the line API."""

from modemctl.fax.document import load_document
from modemctl.fax.header import stamp_header
from modemctl.fax.page import Page, PageQuality, PaperSize, Resolution
from modemctl.fax.pdf import write_pdf
from modemctl.fax.tiff import write_tiff

__all__ = ["Page", "PageQuality", "PaperSize", "Resolution", "load_document", "stamp_header",
           "write_pdf", "write_tiff"]
