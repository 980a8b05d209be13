"""Call data still on its way when a line says the call ended (issue 7, soak seed 78).

The DTR drop and DCD falling are seen at once, but what the modem sent
before it hung up can still be queued on our side (an RFC 2217 client held
~140 KiB behind the notification that DCD fell).  The engine went to command
mode and sent ``ATH`` at once, so that data was read as results: a ``1\\r``
in it answered ``ATH`` with CONNECT and left the engine in data mode with no
call.  The invariant: nothing is sent in command mode before the call's last
byte is in.  The port here is scripted in memory, so that the backlog is
exactly known and delivered after DCD fell, as the soak saw it.

The same holds for the other out-of-band ends: the DTR hang-up of a fax
carrier, and DCD declared lost when the far end hangs up, where the last
bytes are the far end's data and reach the call's reader byte-exact.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from modemctl.at import CarrierLost, Event, FormatChanged, Noise, ResultCode, State, Unsolicited
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.driver.subscription import EventSubscription
from modemctl.errors import InvalidCallState, PortClosed
from modemctl.log import get_logger
from modemctl.transport import ModemLines, Transport
from modemctl.transport.linewatch import LineState, WatchMode
from modemctl.transport.linewatch import LineWatch as PortWatch

SCALE = 0.05
#: Call data that reads as results in command mode: numeric OK, RING, CONNECT.
POISON = b"0\r2\r1\r\r\nRING\r\n" * 40
CHUNKS = 20                 # the backlog arrives in this many chunks ...
CHUNK_EVERY = 0.01          # ... this many real seconds apart, from the drop on
NO_CARRIER = b"\r\nNO CARRIER\r\n"
#: Fax carrier data (an HDLC frame's bytes, DLE doubled) that reads as results too.
FAX_POISON = b"\xff\x13\x10\x100\r1\r2\r\r\nOK\r\n" * 40
FAX_END = b"\x10\x03" + NO_CARRIER       # the carrier's end, then its final
#: The far end's last line, then bytes that read as results.
GOODBYE = b"goodbye, thanks for all the fish\r\n" + POISON


class BackloggedPort(Transport):
    """A modem on a port whose DTR drop hangs it up (&D2) and drops DCD at
    once, while its last call data (and then its NO CARRIER, if it says one)
    reaches us over the next ~200 ms, much later than the DTR hold."""

    url = "backlog://test"

    def __init__(self, *, says_no_carrier: bool, backlog: bytes = POISON,
                 end: bytes = NO_CARRIER, watched: bool = False) -> None:
        self.cd = False
        self.ri = self.dsr = self.cts = False
        self.lines = ModemLines(self, True)
        self.says_no_carrier = says_no_carrier
        self.backlog = backlog              # what is still on its way when the call ends
        self.end = end                      # the modem's last word, if it says one
        # A port that reports its line changes (DCD), for the engine's line watch.
        self.watch = PortWatch("rfc2217", {"cd": False, "ri": False}) if watched else None
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

    def _set_cd(self, cd: bool) -> None:
        self.cd = cd
        if self.watch is not None:
            self.watch.update({"cd": cd})

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
                self.online = True
                self._set_cd(True)
                self._loop.call_soon(self._from_modem, b"\r\nCONNECT 33600\r\n")
            else:
                self._loop.call_soon(self._from_modem, b"\r\nOK\r\n")

    def _hang_up(self) -> None:
        self.online = False
        self._set_cd(False)
        tail = self.end if self.says_no_carrier else b""
        backlog = self.backlog
        size = -(-len(backlog) // CHUNKS)
        self.backlog_left = len(backlog)
        for i in range(CHUNKS):
            chunk = backlog[i * size:(i + 1) * size]
            self._loop.call_later(CHUNK_EVERY * (i + 1), self._deliver_backlog, chunk,
                                  tail if i == CHUNKS - 1 else b"")

    def far_end_hangs_up(self) -> None:
        """The far end clears down: DCD falls at once, the call's last data
        (and the modem's NO CARRIER) reach us over the next ~200 ms."""
        self._hang_up()

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
        return "none" if self.watch is None else self.watch.mode

    @property
    def line_state(self) -> LineState:
        return LineState(cd=self.cd, ri=self.ri) if self.watch is None else self.watch.state

    async def wait_modem_change(self, after: LineState | None = None) -> LineState:
        if self.watch is None:
            raise PortClosed("not watched")
        return await self.watch.wait_change(after)


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


def _misread(published: list[Event]) -> list[Event]:
    """Events that show call data read as lines: unsolicited lines, a format
    change, results nobody waited for or that could not answer the command
    (any noise but the modem's own NO CARRIER after a hang-up of ours)."""
    return [e for e in published if isinstance(e, (Unsolicited, FormatChanged))
            or (isinstance(e, Noise) and not e.reason.startswith("NO CARRIER with no call"))]


@pytest.mark.parametrize("says_end", [True, False], ids=["dle-etx-no-carrier", "silent"])
async def test_fax_hang_up_waits_for_the_carriers_last_bytes(says_end: bool) -> None:
    """A DTR hang-up in a fax carrier (the caller's implied +FRH=3): its frames
    and page data still on the way are the carrier's, not lines, so ATH goes
    out only once they are in."""
    port = BackloggedPort(says_no_carrier=says_end, backlog=FAX_POISON, end=FAX_END)
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="backlog"),
                    reopen=_unused_reopen, trust=PortTrust(dcd=True))
    try:
        assert (await engine.command("AT+FCLASS=1")).ok
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        assert engine._core.state is State.FAX_RECEIVING
        async with engine.events() as sub:
            async with asyncio.timeout(10):
                await engine.hangup()
            assert engine.mode is EngineMode.COMMAND
            assert (await engine.command("AT")).ok
            sub.close()
            published = [ev async for ev in sub]
        after_drop = [(line, left) for line, left in port.written
                      if not line.startswith((b"ATD", b"AT+FCLASS"))]
        assert after_drop and all(left == 0 for _, left in after_drop), after_drop
        assert not _misread(published), published
    finally:
        await engine.close()


async def _read_all(engine: Engine) -> bytes:
    out = bytearray()
    while chunk := await engine.read():
        out += chunk
    return bytes(out)


async def _read_after_the_end(engine: Engine, sub: EventSubscription) -> bytes:
    async for ev in sub:
        if isinstance(ev, CarrierLost):
            break
    assert engine.mode is EngineMode.COMMAND
    return await _read_all(engine)


@pytest.mark.parametrize("says_no_carrier", [True, False], ids=["no-carrier", "silent"])
@pytest.mark.parametrize("grace", [0.0, 0.5], ids=["grace-0", "grace-0.5"])
@pytest.mark.parametrize("reading", ["during", "after"])
async def test_far_end_hang_up_delivers_its_last_bytes_as_data(says_no_carrier: bool,
                                                               grace: float,
                                                               reading: str) -> None:
    """DCD falls (the far end hung up) and the carrier is declared lost while
    the call's last data is still queued: the reader gets all of it
    byte-exact, then the end of the call, whether it reads as the data comes
    or only once the loss is reported; the loss is reported once, from DCD,
    and only then does the engine speak command mode."""
    port = BackloggedPort(says_no_carrier=says_no_carrier, backlog=GOODBYE, watched=True)
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="backlog"),
                    reopen=_unused_reopen, trust=PortTrust(dcd=True))
    engine.carrier_grace = grace
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with engine.events() as sub, engine.events() as watcher:
            reader = asyncio.create_task(_read_all(engine) if reading == "during"
                                         else _read_after_the_end(engine, watcher))
            port.far_end_hangs_up()
            async with asyncio.timeout(10):
                received = await reader
            assert engine.mode is EngineMode.COMMAND
            # Writing is refused once the loss is declared (the modem is on-hook).
            with pytest.raises(InvalidCallState):
                await engine.write(b"more")
            assert (await engine.command("AT")).ok
            sub.close()
            published = [ev async for ev in sub]
        assert received == GOODBYE
        lost = [e for e in published if isinstance(e, CarrierLost)]
        assert [e.source for e in lost] == ["dcd"], lost
        assert not _misread(published), published
        after_call = [(line, left) for line, left in port.written if line != b"ATD5551002"]
        assert after_call and all(left == 0 for _, left in after_call), after_call
    finally:
        await engine.close()


async def test_our_hang_up_as_the_far_end_hangs_up_discards_its_last_bytes() -> None:
    """We drop the call just as DCD falls (nobody will read): the last data is
    discarded, not kept for a reader, and still not read as results; ATH goes
    out once it is in."""
    port = BackloggedPort(says_no_carrier=False, backlog=GOODBYE, watched=True)
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="backlog"),
                    reopen=_unused_reopen, trust=PortTrust(dcd=True))
    engine.carrier_grace = 0.0
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with engine.events() as sub:
            port.far_end_hangs_up()
            await asyncio.sleep(0)                  # the watch sees DCD fall
            async with asyncio.timeout(10):
                await engine.hangup()
            assert engine.mode is EngineMode.COMMAND
            assert engine.buffered == 0 and await engine.read() == b""
            assert (await engine.command("AT")).ok
            sub.close()
            published = [ev async for ev in sub]
        assert not _misread(published), published
        after_call = [(line, left) for line, left in port.written if line != b"ATD5551002"]
        assert after_call and all(left == 0 for _, left in after_call), after_call
    finally:
        await engine.close()


async def test_data_during_a_ridden_out_interruption_is_call_data() -> None:
    """DCD low for less than the grace (a call-waiting tone), with data
    arriving meanwhile that reads as results: the call goes on, and the
    reader gets every byte as data."""
    port = BackloggedPort(says_no_carrier=False, watched=True)
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="backlog"),
                    reopen=_unused_reopen, trust=PortTrust(dcd=True))
    engine.carrier_grace = 10.0                     # 0.5 s real: well past the data
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with engine.events() as sub:
            port._set_cd(False)
            for i in range(0, len(POISON), 64):
                port._from_modem(POISON[i:i + 64])
                await asyncio.sleep(0)
            port._set_cd(True)
            received = bytearray()
            async with asyncio.timeout(5):
                while len(received) < len(POISON):
                    received += await engine.read()
            await asyncio.sleep(engine.scaled(10.0) + 0.1)     # past the grace
            assert engine.mode is EngineMode.DATA
            sub.close()
            published = [ev async for ev in sub]
        assert bytes(received) == POISON
        assert not [e for e in published if isinstance(e, CarrierLost)]
        assert not _misread(published), published
    finally:
        await engine.close()
