"""Modem control lines over RFC 2217, seen by a real pyserial ``rfc2217://`` client.

The pyserial client is blocking, so every call on it runs in a thread
(``asyncio.to_thread``) while the exchange runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import serial
from serial import rfc2217

from modemctl.fake import Exchange
from tests.fake.helpers import PtyClient, until

SCALE = 0.05
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")
Opener = Callable[[str], PtyClient]


@pytest.fixture
async def ex() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as exchange:
        yield exchange


class Client:
    """A pyserial rfc2217 client used from async tests."""

    def __init__(self, url: str) -> None:
        self.port: Any = serial.serial_for_url(url, timeout=0.02)
        self.buf = bytearray()

    @classmethod
    async def open(cls, url: str) -> Client:
        return await asyncio.to_thread(cls, url)

    async def write(self, data: bytes) -> None:
        await asyncio.to_thread(self.port.write, data)

    async def expect(self, needle: bytes, within: float = 5.0) -> bytes:
        deadline = time.monotonic() + within
        while needle not in self.buf:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} in {bytes(self.buf)!r}")
            self.buf += await asyncio.to_thread(self.port.read, 4096)
        idx = self.buf.index(needle) + len(needle)
        out = bytes(self.buf[:idx])
        del self.buf[:idx]
        return out

    async def wait_line(self, name: str, value: bool, within: float = 3.0) -> float:
        """Wait until modem line ``name`` (cd, ri, dsr, cts) has ``value``; return when."""
        deadline = time.monotonic() + within
        while await asyncio.to_thread(getattr, self.port, name) is not value:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} never became {value}")
            await asyncio.sleep(0.002)
        return time.monotonic()

    async def set_dtr(self, on: bool) -> None:
        await asyncio.to_thread(setattr, self.port, "dtr", on)

    async def close(self) -> None:
        await asyncio.to_thread(self.port.close)


@pytest.fixture
async def clients() -> AsyncIterator[list[Client]]:
    opened: list[Client] = []
    yield opened
    for c in opened:
        await c.close()


async def rfc_line(ex: Exchange, clients: list[Client], number: str = "5551002",
                   personality: str = "agere-v92") -> Client:
    line = await ex.add_line(number, personality=personality, rfc2217=True)
    assert line.url is not None and line.url.startswith("rfc2217://127.0.0.1:")
    client = await Client.open(line.url)
    clients.append(client)
    return client


async def call_to_rfc_line(ex: Exchange, clients: list[Client], opener: Opener,
                           b_cmd: bytes = b"", a_cmd: bytes = b"") -> tuple[PtyClient, Client]:
    a = await ex.add_line("5551001", personality="conexant-v92")
    ca = opener(a.port)
    cb = await rfc_line(ex, clients)
    await cb.write(b"ATE0S0=1" + b_cmd + b"\r")
    await cb.expect(b"OK\r\n")
    await ca.command(b"ATE0" + a_cmd + b"\r")
    ca.write(b"ATDT5551002\r")
    await ca.expect(b"CONNECT 33600\r\n")
    await cb.expect(b"CONNECT 33600\r\n")
    return ca, cb


async def test_commands_over_rfc2217(ex: Exchange, clients: list[Client]) -> None:
    c = await rfc_line(ex, clients)
    await c.write(b"ATI0\r")
    assert await c.expect(b"OK\r\n") == (b"ATI0\r\r\nLT V.92 1.0 MT5634ZBA Serial Data/Fax "
                                         b"Modem Version 8.19i\r\n\r\nOK\r\n")
    assert await asyncio.to_thread(lambda: c.port.dsr and c.port.cts)


async def test_dcd_follows_amp_c(ex: Exchange, clients: list[Client]) -> None:
    c = await rfc_line(ex, clients)
    await c.wait_line("cd", False)                    # &C1, no carrier
    await c.write(b"AT&C0\r")
    await c.wait_line("cd", True)                     # &C0: always on
    await c.write(b"AT&C1\r")
    await c.wait_line("cd", False)


async def test_dcd_follows_carrier(ex: Exchange, clients: list[Client],
                                   open_client: Opener) -> None:
    ca, cb = await call_to_rfc_line(ex, clients, open_client)
    await cb.wait_line("cd", True)
    ca.write(bytes(range(256)))                       # 0xFF travels IAC-doubled
    assert await cb.expect(bytes(range(256))) == bytes(range(256))
    await ex.remote_hangup("5551001")
    await cb.expect(b"NO CARRIER\r\n")
    await cb.wait_line("cd", False)


async def test_ri_pulses_with_ring(ex: Exchange, clients: list[Client]) -> None:
    c = await rfc_line(ex, clients)
    await c.write(b"ATE0\r")
    await c.expect(b"OK\r\n")
    await ex.ring_in("5551002", caller="5559999")
    on = await c.wait_line("ri", True)
    await c.expect(b"RING\r\n")
    off = await c.wait_line("ri", False)
    assert 0.5 * 2 * SCALE < off - on < 5 * 2 * SCALE      # ~2 s ring, scaled
    await c.wait_line("ri", True)                          # next ring, 4 s later


async def test_dtr_drop_amp_d2_hangs_up(ex: Exchange, clients: list[Client],
                                        open_client: Opener) -> None:
    ca, cb = await call_to_rfc_line(ex, clients, open_client)
    await cb.set_dtr(False)
    await ca.expect(b"\r\nNO CARRIER\r\n")
    await cb.expect(b"NO CARRIER\r\n")
    await cb.wait_line("cd", False)
    assert ex.lines["5551002"].state == "command"


async def test_dtr_drop_amp_d1_online_command(ex: Exchange, clients: list[Client],
                                              open_client: Opener) -> None:
    ca, cb = await call_to_rfc_line(ex, clients, open_client, b_cmd=b"&D1")
    await cb.set_dtr(False)
    await cb.expect(b"\r\nOK\r\n")
    assert ex.lines["5551002"].state == "online-command"
    await cb.set_dtr(True)
    await cb.write(b"ATO\r")
    await cb.expect(b"CONNECT 33600\r\n")
    ca.write(b"ping")
    await cb.expect(b"ping")


async def test_dtr_drop_amp_d0_ignored(ex: Exchange, clients: list[Client],
                                       open_client: Opener) -> None:
    ca, cb = await call_to_rfc_line(ex, clients, open_client, b_cmd=b"&D0")
    await cb.set_dtr(False)
    line = ex.lines["5551002"]
    await until(lambda: not line.dce.dtr, "the DTR drop reached the modem")
    assert line.state == "online-data"
    ca.write(b"ping")
    await cb.expect(b"ping")


async def test_client_disconnect_is_dtr_drop(ex: Exchange, clients: list[Client],
                                             open_client: Opener) -> None:
    ca, cb = await call_to_rfc_line(ex, clients, open_client)
    await cb.close()
    clients.remove(cb)
    await ca.expect(b"\r\nNO CARRIER\r\n")


async def test_ri_toggles_on_call_waiting_with_pcw0(ex: Exchange, clients: list[Client],
                                                    open_client: Opener) -> None:
    """+PCW=0: RI toggles; the far end grants MOH, so the call is held and survives."""
    ca, cb = await call_to_rfc_line(ex, clients, open_client, b_cmd=b"+PCW=0;+PMH=0",
                                    a_cmd=b"S12=0")               # +++ without guard time
    ca.write(b"+++")
    await ca.expect(b"OK\r\n")
    await ca.command(b"AT+PMHT=3\r")
    ca.write(b"ATO\r")
    await ca.expect(b"CONNECT 33600\r\n")
    party = await ex.ring_in("5551002", caller="5559999")
    assert party.outcome == "waiting-held"
    await cb.wait_line("ri", True)
    await cb.wait_line("ri", False)
    ca.write(b"still")
    await cb.expect(b"still")


async def test_one_client_at_a_time(ex: Exchange, clients: list[Client]) -> None:
    c = await rfc_line(ex, clients)
    url = ex.lines["5551002"].url
    assert url is not None
    host, port = url.removeprefix("rfc2217://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    assert await asyncio.wait_for(reader.read(), 2) == b""     # refused: closed at once
    writer.close()
    await c.write(b"AT\r")
    await c.expect(b"OK\r\n")


def _mask_ack(port: int, option: bytes) -> bytes:
    """Send SET-*-MASK on a raw socket and collect what the server sends back."""
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(rfc2217.IAC + rfc2217.SB + rfc2217.COM_PORT_OPTION + option + b"\xff\xff"
                  + rfc2217.IAC + rfc2217.SE)
        got = b""
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(4096)
            except TimeoutError:
                break
            if not chunk:
                break
            got += chunk
            if rfc2217.SERVER_SET_MODEMSTATE_MASK in got or \
                    rfc2217.SERVER_SET_LINESTATE_MASK in got:
                break
        return got


@pytest.mark.parametrize(("option", "ack"), [
    (rfc2217.SET_MODEMSTATE_MASK, rfc2217.SERVER_SET_MODEMSTATE_MASK),
    (rfc2217.SET_LINESTATE_MASK, rfc2217.SERVER_SET_LINESTATE_MASK)])
async def test_mask_changes_are_acknowledged(ex: Exchange, option: bytes, ack: bytes) -> None:
    line = await ex.add_line("5551002", rfc2217=True)
    assert line.url is not None
    port = int(line.url.rsplit(":", 1)[1])
    got = await asyncio.to_thread(_mask_ack, port, option)
    assert rfc2217.IAC + rfc2217.SB + rfc2217.COM_PORT_OPTION + ack + b"\xff\xff" in got
