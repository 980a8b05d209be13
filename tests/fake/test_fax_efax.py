"""efax, an independent T.30 nobody here wrote, sends a fax across the fake exchange.

Two efax processes forced to Class 1 (``-o1``) drive two fake modems over
their ptys: one dials and sends a page, the other answers (``S0=1`` and ``-w``)
and receives it.  If the fake's T.31 (CONNECT/OK/ERROR/+FCERROR, DLE
transparency, flow control, timing) were not what real Class 1 modems do,
efax's T.30 would fail, or the page would arrive damaged.  The received TIFF is
turned back into a bitmap with ``efix`` (same package) and compared with what
was sent.

efax waits in real time (its timeouts are seconds; a Class 1 host must answer
within 55 ms), so this runs at ``time_scale`` 0.5, which leaves efax's fixed
waits satisfied; it takes about 14 s.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modemctl.fake import Exchange
from tests.support import require_program

pytestmark = pytest.mark.interop

SCALE = 0.5
WIDTH, ROWS = 1728, 60
HEADER_SPACE = 20
"""Blank lines efax's sender puts above every page (HDRSPCE in efax.c); with an
empty header (``-h ""``) they stay white."""


def page_rows() -> list[bytes]:
    """A fine-resolution test page: a diagonal band, a halftone-like stripe (many
    short runs, so the page takes seconds at 14400 bit/s), and DLE/XON/XOFF bytes."""
    rows = []
    for y in range(ROWS):
        row = bytearray(WIDTH // 8)
        for x in range(10 + y, 60 + y):
            row[x] = 0xFF
        for x in range(100, 190):
            row[x] = 0xCC
        row[200] = (0x10, 0x11, 0x13)[y % 3]
        rows.append(bytes(row))
    return rows


def pbm_rows(data: bytes) -> tuple[int, int, list[bytes]]:
    header, body = data.split(b"\n", 1)
    magic, width, height = header.split()
    assert magic == b"P4"
    w, h = int(width), int(height)
    stride = w // 8
    return w, h, [body[i * stride:(i + 1) * stride] for i in range(h)]


async def start(*argv: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def finish(proc: asyncio.subprocess.Process, log: bytes = b"") -> tuple[int, bytes, bytes]:
    """Wait for a program's end (60 s at most): exit status, stdout, stderr (efax's log)."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out, log + err


async def run(*argv: str) -> tuple[int, bytes, bytes]:
    return await finish(await start(*argv))


async def log_until(proc: asyncio.subprocess.Process, needle: bytes, within: float) -> bytes:
    """Read ``proc``'s log until a line with ``needle``; return what was read."""
    assert proc.stderr is not None
    log = b""
    async with asyncio.timeout(within):
        while needle not in log:
            line = await proc.stderr.readline()
            assert line, f"efax ended before {needle!r}: {log.decode(errors='replace')}"
            log += line
    return log


async def test_efax_sends_a_page_to_efax_across_the_fake_exchange(tmp_path: Path) -> None:
    efax = require_program("efax")
    efix = require_program("efix")
    page = tmp_path / "page.pbm"
    rows = page_rows()
    page.write_bytes(f"P4 {WIDTH} {ROWS}\n".encode() + b"".join(rows))
    received = tmp_path / "rx"
    async with Exchange(time_scale=SCALE) as ex:
        sender = await ex.add_line("5551001", "conexant-v92")
        answerer = await ex.add_line("5551002", "agere-v92")
        receiver = await start(efax, "-d", answerer.port, "-o1", "-iS0=1", "-w",
                               "-r", str(received), "-v", "ewinc")
        set_up = await log_until(receiver, b"waiting for activity", within=20)
        tx_rc, _, tx_log = await run(efax, "-d", sender.port, "-o1", "-h", "", "-v", "ewinc",
                                     "-t", "5551002", str(page))
        rx_rc, _, rx_log = await finish(receiver, set_up)
    assert tx_rc == 0, tx_log.decode(errors="replace")[-3000:]
    assert rx_rc == 0, rx_log.decode(errors="replace")[-3000:]
    assert b"received 80 lines, 0 errors" in rx_log
    files = sorted(os.listdir(tmp_path))
    assert files == ["page.pbm", "rx.001"]                 # one page, one file
    rc, bitmap, _ = await run(efix, "-o", "pbm", str(tmp_path / "rx.001"))
    assert rc == 0
    width, _height, got = pbm_rows(bitmap)
    assert width == WIDTH
    white = bytes(WIDTH // 8)
    assert got[:HEADER_SPACE] == [white] * HEADER_SPACE
    assert got[HEADER_SPACE:HEADER_SPACE + ROWS] == rows
    assert all(row == white for row in got[HEADER_SPACE + ROWS:])   # efix pads to A4
