"""Two scripted T.31 (fax Class 1) modems on ptys, wired to each other.

Not the fake exchange: a small byte-level DCE pair, enough to run the async
Class 1 runner end to end on real ports.  What it does, per T.31:

* ``ATD...`` waits for the other side's ``ATA``; both say CONNECT.  The
  caller is then receiving V.21 (implied ``+FRH=3``), the answerer
  transmitting (implied ``+FTH=3``).
* ``+FTH=3`` -> CONNECT; each DLE ETX-ended frame goes to the far end as a
  V.21 burst; CONNECT after a frame without the final bit, OK after the last.
* ``+FTM=<code>`` -> CONNECT; the data up to DLE ETX goes as a high-speed
  burst; OK.  With ``xoff_at_connect`` it says XOFF right after that
  CONNECT and XON 0.2 s later (``bytes_while_paused`` and
  ``bytes_after_resume`` record what arrived in the pause and after it).
* Half duplex: bursts that arrived while this side was not listening are
  dropped when it starts transmitting.
* ``+FRH=3`` / ``+FRM=<code>`` wait for the next burst: a matching one is
  delivered (CONNECT, DLE-stuffed data, FCS octets for frames, DLE ETX, then
  OK/ERROR for frames and NO CARRIER after high-speed data, as the carrier
  ends); V.21 met by ``+FRM`` is ``+FCERROR`` (kept for the next ``+FRH``);
  a high-speed burst met by ``+FRH`` is ``+FCERROR`` (dropped).
* Any byte while waiting for a carrier aborts it: OK.
* ``damage(side, burst)`` may return "stall" (half the high-speed data, then
  nothing until the DTE's CAN: DLE ETX, OK), "bad-fcs" (a frame arrives with ERROR)
  or "garble" (a bit hit every 16 octets over the middle third of
  high-speed data: most lines there are damaged, EOLs mostly survive).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tty
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from modemctl.fax.class1 import DleDecoder, stuff
from modemctl.fax.class1.hdlc import fcs16
from modemctl.fax.class1.modulation import CARRIERS

DLE_ETX = b"\x10\x03"


@dataclass
class Burst:
    kind: str            # "v21" or "hs"
    data: bytes
    code: int = 3
    damage: str | None = None


class T31Modem:
    """One side; :attr:`port` is the pty the engine opens."""

    def __init__(self, name: str, pair: T31Pair) -> None:
        self.name = name
        self.pair = pair
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self._slave)
        self.commands: list[str] = []
        self.inbox: deque[Burst] = deque()
        self.arrived = asyncio.Event()
        self._line = bytearray()
        self._out = bytearray()
        self._tx: DleDecoder | None = None      # collecting DTE data
        self._tx_code = 0
        self._paused = False
        self.bytes_while_paused = 0
        self.resumed = False
        self.bytes_after_resume = 0
        self._waiter: asyncio.Task[None] | None = None
        self.dial_state: str | None = None
        self.stalled = False
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self.master, self._readable)

    def close(self) -> None:
        self._loop.remove_reader(self.master)
        if self._out:
            self._loop.remove_writer(self.master)
        if self._waiter is not None:
            self._waiter.cancel()
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- output ------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue bytes for the DTE; a full pty buffer is waited out, never dropped."""
        if not self._out:
            self._loop.add_writer(self.master, self._flush)
        self._out += data

    def _flush(self) -> None:
        try:
            n = os.write(self.master, self._out[:65536])
        except BlockingIOError:
            return
        except OSError:
            n = len(self._out)
        del self._out[:n]
        if not self._out:
            self._loop.remove_writer(self.master)

    def final(self, text: str) -> None:
        self.send(f"\r\n{text}\r\n".encode())

    # --- input -------------------------------------------------------------

    def _readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        if self._tx is not None:
            self._tx_data(data)
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.cancel()                 # any character aborts a receive
            self._waiter = None
            self.final("OK")
            return
        if self.stalled:                          # CAN in data that stopped coming
            self.stalled = False
            self.send(DLE_ETX)
            self.final("OK")
            return
        for b in data:
            if b == 13:
                text = self._line.decode("latin-1").upper()
                self._line.clear()
                if "AT" in text:              # a CAN that came late is line noise
                    self._command(text[text.index("AT"):].strip())
            elif b != 10:
                self._line.append(b)

    def _tx_data(self, data: bytes) -> None:
        assert self._tx is not None
        if self._paused:
            self.bytes_while_paused += len(data)
        elif self.resumed:
            self.bytes_after_resume += len(data)
        self._tx.feed(data)
        if not self._tx.ended:
            return
        body = bytes(self._tx_body)
        self._tx = None
        if self._tx_code == 3:
            self.pair.transmit(self, Burst("v21", body))
            if body[1] & 0x10:
                self.final("OK")
            else:
                self._start_tx(3, announce=True)
        else:
            self.pair.transmit(self, Burst("hs", body, self._tx_code))
            self.final("OK")

    def _resume(self) -> None:
        self._paused = False
        self.resumed = True
        self.send(b"\x11")

    def _start_tx(self, code: int, *, announce: bool) -> None:
        self._tx_code = code
        decoder = DleDecoder()
        self._tx_body = bytearray()
        feed = decoder.feed

        def collect(chunk: bytes) -> bytes:
            out = feed(chunk)
            self._tx_body.extend(out)
            return out

        decoder.feed = collect  # type: ignore[method-assign]
        self._tx = decoder
        if announce:
            self.final("CONNECT")
        if code != 3 and self.pair.xoff_at_connect:
            self._paused = True               # not ready yet: XOFF with the CONNECT
            self.send(b"\x13")
            self._loop.call_later(0.2, self._resume)

    def _command(self, cmd: str) -> None:
        self.commands.append(cmd)
        body = cmd[2:].strip()
        if body.startswith("D"):
            self.dial_state = "dialing"
            self.pair.try_connect()
        elif body == "A":
            self.dial_state = "answering"
            self.pair.try_connect()
        elif body.startswith("+FTM=?"):
            self.send(b"\r\n24,48,72,73,74,96,97,98,121,122,145,146\r\n")
            self.final("OK")
        elif body.startswith(("+FTH=", "+FTM=")):
            self.inbox.clear()        # half duplex: what came while we did not listen is gone
            self._start_tx(int(body[5:]), announce=True)
        elif body.startswith(("+FRH=", "+FRM=")):
            self._waiter = self._loop.create_task(self._receive(int(body[5:])))
        else:
            self.final("OK")

    async def _receive(self, code: int, *, announce: bool = True) -> None:
        while not self.inbox:
            self.arrived.clear()
            await self.arrived.wait()
        burst = self.inbox[0]
        self._waiter = None
        if code == 3 and burst.kind != "v21":
            self.inbox.popleft()
            self.final("+FCERROR")
            return
        if code != 3 and (burst.kind != "hs" or CARRIERS[burst.code][0] != CARRIERS[code][0]):
            if burst.kind == "hs":
                self.inbox.popleft()
            self.final("+FCERROR")
            return
        self.inbox.popleft()
        if announce:
            self.final("CONNECT")
        data = burst.data
        if burst.kind == "v21":
            self.send(stuff(data + fcs16(data)) + DLE_ETX)   # T.31: the FCS octets follow
            self.final("ERROR" if burst.damage == "bad-fcs" else "OK")
            return
        if burst.damage == "garble":        # line hits over the middle third
            spoilt = bytearray(data)
            for at in range(len(data) // 3, 2 * len(data) // 3, 16):
                spoilt[at] ^= 0x20              # LSB-first on the wire: bit 2 of the T.4 octet
            data = bytes(spoilt)
        if burst.damage == "stall":        # the carrier stays, the data stops half-way
            self.send(stuff(data[:len(data) // 2]))
            self.stalled = True
            return
        for at in range(0, len(data), 4096):       # arrives in pieces, as on a line
            self.send(stuff(data[at:at + 4096]))
            await asyncio.sleep(0)
        self.send(DLE_ETX)
        self.final("NO CARRIER")


class T31Pair:
    """Caller and answerer modems; ``damage(side, burst)`` can spoil bursts."""

    def __init__(self, *, damage: Callable[[str, Burst], str | None] | None = None,
                 xoff_at_connect: bool = False) -> None:
        self.damage = damage
        self.xoff_at_connect = xoff_at_connect
        self.caller = T31Modem("caller", self)
        self.answerer = T31Modem("answerer", self)
        self.wire: list[str] = []

    def close(self) -> None:
        self.caller.close()
        self.answerer.close()

    def try_connect(self) -> None:
        if self.caller.dial_state == "dialing" and self.answerer.dial_state == "answering":
            self.caller.dial_state = self.answerer.dial_state = "connected"
            self.caller.final("CONNECT")           # now receiving V.21
            self.caller._waiter = asyncio.get_running_loop().create_task(
                self.caller._receive(3, announce=False))
            self.answerer._start_tx(3, announce=False)
            self.answerer.final("CONNECT")         # now sending V.21

    def transmit(self, sender: T31Modem, burst: Burst) -> None:
        if self.damage is not None:
            burst.damage = self.damage(sender.name, burst)
        self.wire.append(f"{sender.name}:{burst.kind}{burst.code}"
                         + (f"[{burst.damage}]" if burst.damage else ""))
        other = self.answerer if sender is self.caller else self.caller
        other.inbox.append(burst)
        other.arrived.set()
