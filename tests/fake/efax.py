"""efax and efix as test peers: the page they exchange, and running them.

efax is an independent T.30 (forced to Class 1 with ``-o1``); efix turns the
TIFF it writes back into a bitmap.  Used by the fake's own efax test and by
the fax layer's interop with efax.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

WIDTH, ROWS = 1728, 60
WHITE = bytes(WIDTH // 8)
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


def write_pbm(path: Path, rows: list[bytes]) -> None:
    """``rows`` (of :data:`WIDTH` pels) as a raw PBM, the page format efax sends."""
    path.write_bytes(f"P4 {WIDTH} {len(rows)}\n".encode() + b"".join(rows))


async def efax_receiver(efax: str, port: str, out: Path) -> tuple[asyncio.subprocess.Process,
                                                                  bytes]:
    """efax answering on ``port`` (Class 1, ``S0=1``), writing pages to ``out``.NNN.

    Returns once it waits for a call, with its log so far (for :func:`finish`).
    """
    proc = await start(efax, "-d", port, "-o1", "-iS0=1", "-w", "-r", str(out), "-v", "ewinc")
    return proc, await log_until(proc, b"waiting for activity", within=20)


async def efix_rows(efix: str, path: Path) -> list[bytes]:
    """The rows of the page efax wrote at ``path`` (efix pads it to A4)."""
    rc, bitmap, _ = await run(efix, "-o", "pbm", str(path))
    assert rc == 0
    width, _height, rows = pbm_rows(bitmap)
    assert width == WIDTH
    return rows
