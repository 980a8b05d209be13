"""Write pages as a multi-page TIFF Class F file (the fax archive format).

The file is written here, not by Pillow, for two reasons.  Pillow's writer
inverts min-is-white pages pel by pel in Python (0.4 s a page) and loses
pages built from value 1 (reference A2, both traps); and the pages are
already T.4 coded by our own encoder, so storing that code is all a writer
has to do.  libtiff (through Pillow) reads the result back in the tests.

Every page carries the Class F tags: width, length, G3 compression,
photometric min-is-white, FillOrder 1 (MSB first, as our codec emits),
T4Options (bit 0 for MR, bit 2 because EOLs are byte-aligned), 204 x 98/196
dpi, one strip, PageNumber, and for received pages the bad-line tags
(BadFaxLines, CleanFaxData, ConsecutiveBadFaxLines).

The file appears whole or not at all: it is written to a temporary file in
the same directory and renamed into place.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Sequence
from pathlib import Path

from modemctl.errors import FaxError
from modemctl.fax.files import write_atomically
from modemctl.fax.page import HORIZONTAL_DPI, Page, PageQuality
from modemctl.fax.t4.encode import Coding, encode_page

_SHORT, _LONG, _RATIONAL, _ASCII = 3, 4, 5, 2
_TYPE_SIZE = {_SHORT: 2, _LONG: 4, _RATIONAL: 8, _ASCII: 1}


def _ifd(tags: dict[int, tuple[int, Sequence[int] | bytes]], at: int) -> tuple[bytes, bytes]:
    """One IFD starting at file offset ``at`` (next-IFD slot zero), and the values
    too large for their entries, which follow it."""
    count = len(tags)
    extra_at = at + 2 + 12 * count + 4
    entries = [struct.pack("<H", count)]
    extra = b""
    for tag in sorted(tags):
        kind, values = tags[tag]
        if kind == _ASCII:
            assert isinstance(values, bytes)
            payload, n = values + b"\0", len(values) + 1
        elif kind == _RATIONAL:
            payload, n = struct.pack(f"<{len(values)}I", *values), len(values) // 2
        else:
            fmt = "H" if kind == _SHORT else "I"
            payload, n = struct.pack(f"<{len(values)}{fmt}", *values), len(values)
        if len(payload) <= 4:
            entries.append(struct.pack("<HHI", tag, kind, n) + payload.ljust(4, b"\0"))
        else:
            if len(extra) % 2:
                extra += b"\0"
            entries.append(struct.pack("<HHII", tag, kind, n, extra_at + len(extra)))
            extra += payload
    entries.append(b"\0\0\0\0")
    return b"".join(entries), extra


def tiff_bytes(pages: Sequence[Page], *, coding: Coding = Coding.MH,
               quality: Sequence[PageQuality] | None = None,
               description: str | None = None) -> bytes:
    """The TIFF Class F file for ``pages`` as bytes (see :func:`write_tiff`)."""
    if not pages:
        raise FaxError("a TIFF Class F file needs at least one page")
    if quality is not None and len(quality) != len(pages):
        raise FaxError(f"{len(quality)} quality records for {len(pages)} pages")
    out = bytearray(b"II*\0\0\0\0\0")
    link_at = 4          # where the offset of the next IFD goes
    for number, page in enumerate(pages):
        k = page.resolution.k_factor
        data = encode_page(page.rows, page.width, coding=coding, k=k, align_eol=True, rtc=False)
        strip_at = len(out)
        out += data
        if len(out) % 2:
            out += b"\0"
        ifd_at = len(out)
        struct.pack_into("<I", out, link_at, ifd_at)
        q = quality[number] if quality is not None else None
        tags: dict[int, tuple[int, Sequence[int] | bytes]] = {
            254: (_LONG, [2]),                        # NewSubfileType: one page of many
            256: (_LONG, [page.width]),
            257: (_LONG, [page.height]),
            258: (_SHORT, [1]),                       # BitsPerSample
            259: (_SHORT, [3]),                       # Compression: CCITT T.4 (G3)
            262: (_SHORT, [0]),                       # Photometric: min-is-white
            266: (_SHORT, [1]),                       # FillOrder: MSB first
            273: (_LONG, [strip_at]),                 # StripOffsets
            277: (_SHORT, [1]),                       # SamplesPerPixel
            278: (_LONG, [page.height]),              # RowsPerStrip: one strip
            279: (_LONG, [len(data)]),                # StripByteCounts
            282: (_RATIONAL, [HORIZONTAL_DPI, 1]),    # XResolution
            283: (_RATIONAL, [page.resolution.value, 1]),
            292: (_LONG, [(1 if coding is Coding.MR else 0) | 4]),   # T4Options
            296: (_SHORT, [2]),                       # ResolutionUnit: inch
            297: (_SHORT, [number, len(pages)]),      # PageNumber
            305: (_ASCII, b"modemctl"),               # Software
        }
        if description:
            tags[270] = (_ASCII, description.encode("ascii", "replace"))
        if q is not None:
            # The figures count lines estimated lost, which the image does not
            # hold: the tags describe the image, so they stop at its height.
            bad = min(q.bad_lines, page.height)
            tags[326] = (_LONG, [bad])                                  # BadFaxLines
            tags[327] = (_SHORT, [1 if bad else 0])                    # CleanFaxData
            tags[328] = (_LONG, [min(q.longest_bad_run, page.height)])  # ConsecutiveBadFaxLines
        ifd, extra = _ifd(tags, ifd_at)
        link_at = ifd_at + len(ifd) - 4
        out += ifd + extra
        if len(out) % 2:
            out += b"\0"
    return bytes(out)


def write_tiff(path: str | os.PathLike[str], pages: Sequence[Page], *,
               coding: Coding = Coding.MH, quality: Sequence[PageQuality] | None = None,
               description: str | None = None) -> Path:
    """Write ``pages`` to ``path`` as one multi-page TIFF Class F file.

    ``coding`` picks MH (T4Options 4) or MR (T4Options 5, K from each page's
    resolution); ``quality`` (one per page) records regenerated lines of
    received pages; ``description`` goes to ImageDescription (e.g. the
    remote station ID).  Atomic: nothing is left at ``path`` on failure.
    """
    target = Path(path)
    data = tiff_bytes(pages, coding=coding, quality=quality, description=description)
    write_atomically(target, data)
    return target
