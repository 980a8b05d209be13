"""Frames on a noisy byte stream: HDLC-like flags, byte stuffing and a CRC-32.

Why this shape (RFC 1662's asynchronous framing): a flag byte ``0x7E``
ends every frame, so after line noise or dropped bytes the receiver is back
in step at the next flag, and a corrupted frame costs only itself.  The
CRC tells line noise from forgery cheaply (the AEAD tag inside a record
would catch both, but a CRC rejects garbage handshake frames too, and lets
the statistics say which was which).

Besides the flag and escape bytes, the stuffing also hides XON/XOFF (0x11,
0x13) and ``+``: a frame on the wire never contains the modem's default
escape character, so ``+++`` cannot come out of ciphertext even on a modem
where S2 cannot be set above 127.

A frame is ``type(1) | payload | CRC-32(payload-with-type, little-endian)``,
stuffed, then the flag.  Types are :class:`FrameType`.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import IntEnum

FLAG = 0x7E
ESCAPE = 0x7D
XOR = 0x20
#: Bytes never sent as themselves: flag, escape, XON, XOFF and the escape character.
STUFFED = frozenset({FLAG, ESCAPE, 0x11, 0x13, ord("+")})
CRC_SIZE = 4
MAX_FRAME = 2048           # after unstuffing; longer runs are noise


class FrameType(IntEnum):
    """What a frame carries."""

    HANDSHAKE = 1      # a security-context token during establishment
    RECORD = 2         # a message token of the established context


@dataclass(frozen=True)
class Frame:
    """A frame that passed its CRC."""

    type: FrameType
    payload: bytes


@dataclass(frozen=True)
class BadFrame:
    """Bytes between two flags that are not a frame; ``reason`` says why."""

    reason: str      # "crc", "short", "too-long", "type", "escape"
    size: int


_STUFF_TABLE = {b: bytes([ESCAPE, b ^ XOR]) for b in STUFFED}


def encode(frame_type: FrameType, payload: bytes) -> bytes:
    """One frame, stuffed and terminated by a flag (a leading flag too, which
    flushes any noise the receiver has collected since the last frame)."""
    body = bytes([frame_type]) + payload
    body += zlib.crc32(body).to_bytes(CRC_SIZE, "little")
    out = bytearray([FLAG])
    for b in body:
        stuffed = _STUFF_TABLE.get(b)
        if stuffed is None:
            out.append(b)
        else:
            out += stuffed
    out.append(FLAG)
    return bytes(out)


class FrameDecoder:
    """Bytes in, :class:`Frame` and :class:`BadFrame` out, in arrival order."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buf = bytearray()
        self._escaped = False
        self._overflow = False
        self._bad_escape = False

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        out: list[Frame | BadFrame] = []
        for b in data:
            if b == FLAG:
                result = self._end()
                if result is not None:
                    out.append(result)
                continue
            if self._overflow:
                continue
            if self._escaped:
                self._escaped = False
                b ^= XOR
                if b not in STUFFED:
                    self._bad_escape = True
            elif b == ESCAPE:
                self._escaped = True
                continue
            self._buf.append(b)
            if len(self._buf) > self.max_frame:
                self._overflow = True
        return out

    def _end(self) -> Frame | BadFrame | None:
        body, overflow, bad_escape = bytes(self._buf), self._overflow, self._bad_escape
        self._buf.clear()
        self._escaped = self._overflow = self._bad_escape = False
        if overflow:
            return BadFrame("too-long", len(body))
        if not body:
            return None                 # back-to-back flags
        if len(body) < 1 + CRC_SIZE:
            return BadFrame("short", len(body))
        if zlib.crc32(body[:-CRC_SIZE]).to_bytes(CRC_SIZE, "little") != body[-CRC_SIZE:]:
            return BadFrame("crc", len(body))
        if bad_escape:
            return BadFrame("escape", len(body))
        try:
            kind = FrameType(body[0])
        except ValueError:
            return BadFrame("type", len(body))
        return Frame(kind, body[1:-CRC_SIZE])
