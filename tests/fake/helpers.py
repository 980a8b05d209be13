"""Test helpers for the fake: a byte-exact DCE harness and a raw pty client.

Nothing here uses modemctl's driver: the fake is checked with plain os-level
I/O on the pty (and pyserial for RFC 2217), so a driver bug cannot hide a
fake bug.
"""

from __future__ import annotations

import asyncio
import os
import time

from modemctl.fake.clock import ManualClock
from modemctl.fake.dce import Dce
from modemctl.fake.dialstring import DialRequest
from modemctl.fake.faxwire import Signal
from modemctl.fake.personality import load_personality


def link_exists(path: str) -> bool:
    """True if ``path`` exists as a file or (even dangling) symlink."""
    return os.path.lexists(path)


class StubTelco:
    """Records what the DCE asks of the network; a live line by default."""

    def __init__(self) -> None:
        self.dial_tone = True
        self.placed: list[DialRequest] = []
        self.answers = 0
        self.offered = False
        self.hangups = 0
        self.sent = bytearray()
        self.moh = 0
        self.fax_sent: list[Signal] = []

    def has_dial_tone(self) -> bool:
        return self.dial_tone

    def place_call(self, request: DialRequest) -> None:
        self.placed.append(request)

    def answer(self) -> bool:
        self.answers += 1
        return self.offered

    def hangup(self) -> None:
        self.hangups += 1

    def send(self, data: bytes) -> None:
        self.sent += data

    def far_moh_timeout(self) -> int:
        return self.moh

    def fax_send(self, signal: Signal) -> None:
        self.fax_sent.append(signal)


class StubOutput:
    """Collects everything the DCE writes to the DTE, in order."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.line_changes = 0
        self.flow_stops: list[bool] = []
        self.data_discards = 0

    def echo(self, data: bytes) -> None:
        self.buf += data

    def response(self, infos: list[bytes], final: bytes | None) -> None:
        self.buf += b"".join(infos) + (final or b"")

    def unsolicited(self, data: bytes) -> None:
        self.buf += data

    def data(self, data: bytes) -> None:
        self.buf += data

    def discard_data(self) -> None:
        self.data_discards += 1

    def lines_changed(self) -> None:
        self.line_changes += 1

    def flow_stop(self, stop: bool) -> None:
        self.flow_stops.append(stop)

    def take(self) -> bytes:
        out = bytes(self.buf)
        self.buf.clear()
        return out


class Harness:
    """A DCE on a manual clock with stub network and output."""

    def __init__(self, personality: str = "conexant-v92") -> None:
        self.clock = ManualClock()
        self.telco = StubTelco()
        self.out = StubOutput()
        self.dce = Dce(load_personality(personality), self.clock, self.telco, self.out)

    def send(self, data: bytes) -> bytes:
        """Feed bytes, return everything the DCE wrote in response."""
        self.dce.feed(data)
        return self.out.take()

    def advance(self, seconds: float) -> bytes:
        self.clock.advance(seconds)
        return self.out.take()


class PtyClient:
    """A DTE on the fake's pty using raw non-blocking os calls."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        self.buf = bytearray()

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + 5
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("pty write blocked") from None
                time.sleep(0.001)
                continue
            view = view[n:]

    async def write_all(self, data: bytes, within: float = 10.0) -> None:
        """Write a large block without blocking the event loop the fake runs on."""
        view = memoryview(data)
        deadline = time.monotonic() + within
        while view:
            try:
                view = view[os.write(self.fd, view):]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("pty write blocked") from None
                await asyncio.sleep(0.002)

    def _pull(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            self.buf += data

    async def expect(self, needle: bytes, within: float = 5.0) -> bytes:
        """Wait until ``needle`` has been received; return everything up to and including it."""
        deadline = time.monotonic() + within
        while True:
            self._pull()
            idx = self.buf.find(needle)
            if idx >= 0:
                out = bytes(self.buf[:idx + len(needle)])
                del self.buf[:idx + len(needle)]
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"did not receive {needle!r}; got {bytes(self.buf)!r}")
            await asyncio.sleep(0.005)

    async def read_exactly(self, n: int, within: float = 5.0) -> bytes:
        deadline = time.monotonic() + within
        while len(self.buf) < n:
            self._pull()
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.buf)} of {n} bytes")
            await asyncio.sleep(0.002)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def command(self, cmd: bytes, final: bytes = b"OK\r\n", within: float = 5.0) -> bytes:
        self.write(cmd)
        return await self.expect(final, within)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
