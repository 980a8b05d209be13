"""Fax above the line API: ``await fax.send(line, number, document)``,
``await fax.receive(line, out_dir)``; pages (documents in, T.4 coding, TIFF
Class F and PDF out), T.30 (``fax.t30``) and Class 1 (``fax.class1``)."""

from modemctl.fax.api import FaxResult, fax_file_name, receive, send, serve
from modemctl.fax.document import load_document
from modemctl.fax.header import stamp_header
from modemctl.fax.page import Page, PageQuality, PaperSize, Resolution
from modemctl.fax.pdf import write_pdf
from modemctl.fax.tiff import write_tiff

__all__ = ["FaxResult", "Page", "PageQuality", "PaperSize", "Resolution", "fax_file_name",
           "load_document", "receive", "send", "serve", "stamp_header", "write_pdf",
           "write_tiff"]
