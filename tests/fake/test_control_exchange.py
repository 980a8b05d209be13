"""The control channel against the real :class:`modemctl.fake.Exchange`.

A client thread sends requests exactly as ``modemctl fake ring/inject/...``
would; the line's pty (opened raw, like a serial port) shows their effect.
"""

from __future__ import annotations

import asyncio
import errno
import os
import tempfile
import termios
import tty
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from modemctl.fake import Exchange
from modemctl.fake.control import ControlRequestError, request, serve_control

SCALE = 0.05


class Pty:
    """A fake line opened raw, with bounded ``expect``."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd, termios.TCSANOW)
        self.buf = bytearray()

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    async def expect(self, needle: bytes, within: float = 10.0) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while needle not in self.buf:
            if loop.time() > deadline:
                raise AssertionError(f"no {needle!r} within {within} s: {bytes(self.buf)!r}")
            try:
                self.buf += os.read(self.fd, 4096)
            except BlockingIOError:
                await asyncio.sleep(0.01)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                await asyncio.sleep(0.01)
        end = self.buf.index(needle) + len(needle)
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out

    async def at(self, cmd: bytes) -> bytes:
        self.write(cmd + b"\r")
        return await self.expect(b"OK\r\n")

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture
def sock() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mc-", dir="/tmp") as d:
        yield Path(d) / "ctl.sock"


@pytest.fixture
async def ex(sock: Path) -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as exchange:
        await exchange.add_line("5551001", personality="conexant-v92")
        await exchange.add_line("5551002", personality="agere-v92")
        async with await serve_control(exchange, sock):
            yield exchange


async def ask(sock: Path, op: str, **fields: Any) -> dict[str, Any]:
    return await asyncio.to_thread(request, sock, op, fields, timeout=10.0)


async def test_lines_lists_the_exchange(ex: Exchange, sock: Path) -> None:
    r = await ask(sock, "lines")
    assert [(ln["number"], ln["personality"]) for ln in r["lines"]] == [
        ("5551001", "conexant-v92"), ("5551002", "agere-v92")]
    assert all(ln["port"].startswith("/") and ln["url"] is None for ln in r["lines"])
    assert [ln["state"] for ln in r["lines"]] == ["command", "command"]   # idle, on-hook
    ex.lines["5551002"].inject("unplug")
    r = await ask(sock, "lines")
    assert [ln["state"] for ln in r["lines"]] == ["command", "unplugged"]  # live, not cached


async def test_ring_with_caller_id_then_answer_and_talk(ex: Exchange, sock: Path) -> None:
    line = Pty(ex.lines["5551001"].port)
    try:
        await line.at(b"AT+VCID=1")
        r = await ask(sock, "ring", number="5551001", caller="5559999", name="ALICE")
        pid = r["party"]
        out = await line.expect(b"RING")
        out += await line.expect(b"RING")
        assert b"NMBR = 5559999" in out and b"ALICE" in out
        line.write(b"ATA\r")
        await line.expect(b"CONNECT")
        r = await ask(sock, "party", party=pid)
        for _ in range(100):
            if r["outcome"] == "answered":
                break
            await asyncio.sleep(0.02)
            r = await ask(sock, "party", party=pid)
        assert r["outcome"] == "answered"
        await ask(sock, "send", party=pid, data="\x00caller\xff")
        await line.expect(b"\x00caller\xff")
        line.write(b"callee")
        got = ""
        for _ in range(10):
            got += (await ask(sock, "recv", party=pid, timeout=0.5))["data"]
            if "callee" in got:
                break
        assert got == "callee"
        await ask(sock, "hangup", number="5551001")
        await line.expect(b"NO CARRIER")
        r = await ask(sock, "recv", party=pid, timeout=5)
        assert r == {"ok": True, "party": pid, "data": "", "closed": True}
    finally:
        line.close()


async def test_ring_wait_reports_no_answer_or_answered(ex: Exchange, sock: Path) -> None:
    line = Pty(ex.lines["5551002"].port)
    try:
        await line.at(b"ATS0=1")
        r = await ask(sock, "ring", number="5551002", caller="5550000", wait=10)
        assert r["outcome"] == "answered"
        await line.expect(b"CONNECT")
    finally:
        line.close()


async def test_inject_garbage_reaches_the_line(ex: Exchange, sock: Path) -> None:
    line = Pty(ex.lines["5551001"].port)
    try:
        await line.at(b"AT")
        await ask(sock, "inject", number="5551001", kind="garbage", params={"data": "\x07junk"})
        await line.expect(b"\x07junk")
        with pytest.raises(ControlRequestError) as e:
            await ask(sock, "inject", number="5551001", kind="meteor")
        assert e.value.code == "refused"
        await line.at(b"AT")  # the line still works
    finally:
        line.close()


async def test_dead_line_and_carrier_loss(ex: Exchange, sock: Path) -> None:
    a, b = Pty(ex.lines["5551001"].port), Pty(ex.lines["5551002"].port)
    try:
        await ask(sock, "dead", number="5551001", dead=True)
        a.write(b"ATDT5551002\r")
        await a.expect(b"NO DIALTONE")
        await ask(sock, "dead", number="5551001", dead=False)
        await b.at(b"ATS0=1")
        a.write(b"ATDT5551002\r")
        await a.expect(b"CONNECT")
        await b.expect(b"CONNECT")
        await ask(sock, "carrier-loss", number="5551001")
        await a.expect(b"NO CARRIER")
    finally:
        a.close()
        b.close()
