"""Class 1 data transparency and bit order, as pure functions over bytes.

T.31 data mode in both directions: every DLE (0x10) in the data is sent as
DLE DLE, and DLE ETX ends the stream.  Page data also changes bit order:
T.4 is written MSB-first (as libtiff stores FillOrder=1), while a Class 1
modem sends each octet LSB first, so page bytes are bit-reversed on the way
to the modem and back (HylaFAX's ``sendFillOrder``; efax's ``reversebits``).
HDLC frame octets are not reversed: the modem already delivers them with
the first bit on the line as the least significant bit.
"""

from __future__ import annotations

from typing import Final

DLE: Final = 0x10
ETX: Final = 0x03
END: Final = bytes((DLE, ETX))

_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def reverse_bits(data: bytes) -> bytes:
    """Each octet with its bit order reversed (MSB-first <-> LSB-first)."""
    return data.translate(_REVERSED)


def stuff(data: bytes) -> bytes:
    """Double every DLE, so the modem does not take data for a command."""
    return data.replace(b"\x10", b"\x10\x10")


def frame_to_wire(frame: bytes) -> bytes:
    """An HDLC frame (address to FIF) as written after ``+FTH=3``'s CONNECT."""
    return stuff(frame) + END


def page_to_wire(t4: bytes) -> bytes:
    """MSB-first T.4 page data as written after ``+FTM``'s CONNECT."""
    return stuff(reverse_bits(t4)) + END


def fcs16(data: bytes) -> bytes:
    """The HDLC frame check sequence of ``data`` (CRC-16/X.25, ITU-T V.42 8.1.1.6.1)
    as the two octets that follow the frame on the line, low octet first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    crc ^= 0xFFFF
    return bytes((crc & 0xFF, crc >> 8))


def strip_fcs(frame: bytes) -> bytes:
    """``frame`` without its two trailing FCS octets when it ends in its own FCS.

    T.31 DCEs pass the FCS on after the frame (HylaFAX's ``HDLCFrame`` counts
    it in), but not every modem (nor the fake exchange) does; checking the
    octets tells the two apart, with a 1 in 65536 chance of a false match.
    """
    if len(frame) > 2 and fcs16(frame[:-2]) == frame[-2:]:
        return frame[:-2]
    return frame


class DleDecoder:
    """Undo DLE transparency incrementally, up to the closing DLE ETX.

    Feed chunks as they are read; :meth:`feed` returns the data bytes they
    carried.  After DLE ETX, :attr:`ended` is True and :attr:`leftover` holds
    whatever followed it in the same chunk (the start of the modem's result
    line, which belongs to the AT parser).  A DLE split across two chunks is
    held back until the next one.  DLE followed by anything else than DLE
    or ETX is not data (T.31 gives it no meaning here): both octets are
    dropped and counted in :attr:`dropped`.
    """

    def __init__(self) -> None:
        self.ended = False
        self.leftover = b""
        self.dropped = 0
        self._pending_dle = False

    def feed(self, chunk: bytes) -> bytes:
        """The data in ``chunk``; nothing more once the stream has ended."""
        if self.ended:
            self.leftover += chunk
            return b""
        out = bytearray()
        i = 0
        if self._pending_dle and chunk:
            self._pending_dle = False
            i = self._escape(chunk, 0, out)
        while i < len(chunk) and not self.ended:
            at = chunk.find(b"\x10", i)
            if at < 0:
                out += chunk[i:]
                break
            out += chunk[i:at]
            if at + 1 == len(chunk):
                self._pending_dle = True
                break
            i = self._escape(chunk, at + 1, out)
        return bytes(out)

    def _escape(self, chunk: bytes, at: int, out: bytearray) -> int:
        """Handle the octet after a DLE at ``chunk[at]``; return where to go on."""
        code = chunk[at]
        if code == DLE:
            out.append(DLE)
        elif code == ETX:
            self.ended = True
            self.leftover = bytes(chunk[at + 1:])
        else:
            self.dropped += 2
        return at + 1


class PageDataDecoder(DleDecoder):
    """DLE decoding plus bit reversal: modem page stream -> MSB-first T.4."""

    def feed(self, chunk: bytes) -> bytes:
        return reverse_bits(super().feed(chunk))
