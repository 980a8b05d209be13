"""Call data still on its way when a DTR hang-up is confirmed (issue 7, soak seed 78).

The DTR drop and DCD falling are seen at once, but what the modem sent
before it hung up can still be queued on our side (an RFC 2217 client held
~140 KiB behind the notification that DCD fell).  The engine went to command
mode and sent ``ATH`` at once, so that data was read as results: a ``1\\r``
in it answered ``ATH`` with CONNECT and left the engine in data mode with no
call.  The invariant: nothing is sent in command mode before the call's last
byte is in.  The port here is scripted in memory, so that the backlog is
exactly known and delivered after DCD fell, as the soak saw it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from modemctl.at import FormatChanged, Noise, ResultCode, Unsolicited
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.errors import PortClosed
from modemctl.log import get_logger
from modemctl.transport import ModemLines, Transport
from modemctl.transport.linewatch import LineState, WatchMode

SCALE = 0.05
#: Call data that reads as results in command mode: numeric OK, RING, CONNECT.
POISON = b"0\r2\r1\r\r\nRING\r\n" * 40
CHUNKS = 20                 # the backlog arrives in this many chunks ...
CHUNK_EVERY = 0.01          # ... this many real seconds apart, from the drop on


class BackloggedPort(Transport):
    """A modem on a port whose DTR drop hangs it up (&D2) and drops DCD at
    once, while its last call data (and then its NO CARRIER, if it says one)
    reaches us over the next ~200 ms, much later than the DTR hold."""

    url = "backlog://test"

    def __init__(self, *, says_no_carrier: bool) -> None:
        self.cd = False
        self.ri = self.dsr = self.cts = False
        self.lines = ModemLines(self, True)
        self.says_no_carrier = says_no_carrier
        self.online = False
        self.backlog_left = 0
        self.written: list[tuple[bytes, int]] = []   # (line, backlog bytes not yet delivered)
        self._line = bytearray()
        self._on_data: Callable[[bytes], None] | None = None
        self._closed = False
        self._loop = asyncio.get_running_loop()

    # --- the modem ---------------------------------------------------------

    def _from_modem(self, data: bytes) -> None:
        if self._on_data is not None:
            self._on_data(data)

    def _take(self, data: bytes) -> None:
        if self.online:
            return                          # call data to the far end
        for b in data:
            if b != 13:
                self._line += bytes([b])
                continue
            line = bytes(self._line)
            self._line.clear()
            self.written.append((line, self.backlog_left))
            if line.upper().startswith(b"ATD"):
                self.online = self.cd = True
                self._loop.call_soon(self._from_modem, b"\r\nCONNECT 33600\r\n")
            else:
                self._loop.call_soon(self._from_modem, b"\r\nOK\r\n")

    def _hang_up(self) -> None:
        self.online = self.cd = False
        tail = b"\r\nNO CARRIER\r\n" if self.says_no_carrier else b""
        size = len(POISON) // CHUNKS
        self.backlog_left = len(POISON)
        for i in range(CHUNKS):
            chunk = POISON[i * size:(i + 1) * size]
            self._loop.call_later(CHUNK_EVERY * (i + 1), self._deliver_backlog, chunk,
                                  tail if i == CHUNKS - 1 else b"")

    def _deliver_backlog(self, chunk: bytes, tail: bytes) -> None:
        self.backlog_left -= len(chunk)
        self._from_modem(chunk + tail)

    # --- Transport ---------------------------------------------------------

    async def read(self, max_bytes: int = 65536) -> bytes:
        raise NotImplementedError("the engine reads through set_receiver")

    def set_receiver(self, on_data: Callable[[bytes], None] | None,
                     on_lost: Callable[[PortClosed], None] | None = None) -> None:
        self._on_data = on_data

    async def write(self, data: bytes) -> None:
        self._take(data)

    def try_write(self, data: bytes) -> bool:
        self._take(data)
        return True

    async def drain(self) -> None:
        return None

    async def set_dtr(self, value: bool) -> bool:
        if not value and self.online:
            self._hang_up()
        self.lines.dtr = value
        return True

    async def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def line_watch_mode(self) -> WatchMode:
        return "none"

    @property
    def line_state(self) -> LineState:
        return LineState(cd=self.cd, ri=self.ri)

    async def wait_modem_change(self, after: LineState | None = None) -> LineState:
        raise PortClosed("not watched")


async def _unused_reopen() -> Transport:
    raise PortClosed("no reopen here")


@pytest.mark.parametrize("dcd_known", [True, None], ids=["dcd-trusted", "dcd-unknown"])
@pytest.mark.parametrize("says_no_carrier", [True, False], ids=["no-carrier", "silent"])
async def test_hang_up_waits_for_the_calls_last_bytes(dcd_known: bool | None,
                                                      says_no_carrier: bool) -> None:
    port = BackloggedPort(says_no_carrier=says_no_carrier)
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="backlog"),
                    reopen=_unused_reopen, trust=PortTrust(dcd=dcd_known))
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with engine.events() as sub:
            async with asyncio.timeout(10):
                await engine.hangup()
            assert engine.mode is EngineMode.COMMAND
            assert (await engine.command("AT")).ok
            sub.close()
            published = [ev async for ev in sub]
        # Command mode only once the call's last byte was in ...
        after_drop = [(line, left) for line, left in port.written if line != b"ATD5551002"]
        assert after_drop and all(left == 0 for _, left in after_drop), after_drop
        # ... so none of it was read as a result or an unsolicited line.
        assert not [e for e in published if isinstance(e, (Unsolicited, FormatChanged))]
        assert not [e for e in published if isinstance(e, Noise) and "final" in e.reason]
    finally:
        await engine.close()
