"""The pty side: a pyserial client opens the line like /dev/ttyUSB0."""

from __future__ import annotations

import asyncio
import os
import termios
from pathlib import Path
from typing import Any

import serial

from modemctl.fake import Exchange
from modemctl.fake.ports import PtyPort
from tests.fake.helpers import link_exists, until


def _session(port: str, lines: list[bytes]) -> list[bytes]:
    """Open with pyserial, send each command, collect each response (blocking, in a thread)."""
    out: list[bytes] = []
    with serial.Serial(port, baudrate=9600, timeout=2) as s:
        for cmd in lines:
            s.write(cmd)
            out.append(s.read_until(b"OK\r\n"))
    return out


async def test_pyserial_opens_the_symlink(exchange: Exchange) -> None:
    line = await exchange.add_line("5551001", personality="usr-v90")
    assert await asyncio.to_thread(os.path.realpath, line.port) == line.tty_path
    assert line.tty_path.startswith("/dev/pts/")
    got = await asyncio.to_thread(_session, line.port, [b"ATI0\r", b"ATE0S0=2\r"])
    assert got == [b"ATI0\r\r\n5601\r\n\r\nOK\r\n", b"ATE0S0=2\r\r\nOK\r\n"]
    # closing the port dropped DTR (&D2: settings kept); a new session sees E0 and S0=2
    got = await asyncio.to_thread(_session, line.port, [b"ATS0?\r"])
    assert got == [b"\r\n002\r\n\r\nOK\r\n"]


async def test_pty_is_raw(exchange: Exchange) -> None:
    line = await exchange.add_line("5551001")

    def check() -> Any:
        fd = os.open(line.port, os.O_RDWR | os.O_NOCTTY)
        try:
            return termios.tcgetattr(fd)
        finally:
            os.close(fd)

    attrs = await asyncio.to_thread(check)
    assert not attrs[3] & (termios.ICANON | termios.ECHO)      # no line discipline games
    assert not attrs[1] & termios.OPOST


async def test_amp_d3_close_resets_to_stored_profile(exchange: Exchange) -> None:
    line = await exchange.add_line("5551001")
    await asyncio.to_thread(_session, line.port, [b"AT&D3S0=4\r"])
    await until(lambda: not line.dce.dtr, "the close seen as a DTR drop")
    assert line.registers[0] == 0                              # &D3: stored profile back


async def test_an_idle_pty_waits_on_inotify_and_still_sees_every_open(tmp_path: Path) -> None:
    """No client: nothing is polled; each open and close is still seen as DTR."""
    changes: list[bool] = []
    port = PtyPort(tmp_path / "ttyX", lambda _data: None, changes.append)
    port.open()
    try:
        assert port.watching and not port.client_open
        for _ in range(3):
            fd = os.open(port.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            await until(lambda: port.client_open, "the open seen")
            os.close(fd)
            await until(lambda: not port.client_open, "the close seen")
        assert changes == [True, False] * 3
    finally:
        port.close()
    assert not link_exists(str(tmp_path / "ttyX"))
