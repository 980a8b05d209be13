"""T.30 control frames: facsimile control field codes and HDLC frame contents.

Bytes here are as a Class 1 modem hands them over (T.31): the first bit on
the line is the least significant bit of each octet.  T.30 writes its codes
with the first bit on the left (``DIS = [0000 0001]``), so the byte values
below look reversed against the standard's tables: DIS is ``0x80``.

The first transmitted bit of most codes is the "X" bit: a station that
received a valid DIS sets it to 1 in every frame it sends, the station that
sent the DIS sets it to 0 (T.30 5.3.6.1).  It is how a station tells its own
echo from the far end's frames.  The DIS/DTC group (DIS, CSI, NSF, DTC, CIG,
NSC) has no X bit: the whole octet is the code.

The frame is ``FF | control | FCF | FIF``; the control octet is ``0x03``
while more frames follow in the same burst and ``0x13`` on the final one.
The two FCS octets are the modem's business (it adds them when sending and
checks them when receiving); :mod:`modemctl.fax.class1` strips them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from modemctl.errors import FrameError

ADDRESS = 0xFF
CONTROL_MORE = 0x03
CONTROL_FINAL = 0x13
STATION_ID_LENGTH = 20


class FCF(enum.IntEnum):
    """Facsimile control field codes, with the X bit clear."""

    # Phase B, identification (no X bit)
    DIS = 0x80
    CSI = 0x40
    NSF = 0x20
    DTC = 0x81
    CIG = 0x41
    NSC = 0x21
    # Phase B, commands from the station that received DIS
    DCS = 0x82
    TSI = 0x42
    NSS = 0x22
    # Phase B, responses to training
    CFR = 0x84
    FTT = 0x44
    # Phase D, post-page messages
    EOM = 0x8E
    MPS = 0x4E
    EOP = 0x2E
    PRI_EOM = 0x9E
    PRI_MPS = 0x5E
    PRI_EOP = 0x3E
    # Phase D, post-page responses
    MCF = 0x8C
    RTN = 0x4C
    RTP = 0xCC
    PIN = 0x2C
    PIP = 0xAC
    # Phase E and line control
    DCN = 0xFA
    CRP = 0x1A

    @property
    def has_x_bit(self) -> bool:
        """False for the DIS/DTC group, whose low bit is part of the code."""
        return self not in _NO_X_BIT


_NO_X_BIT = frozenset({FCF.DIS, FCF.CSI, FCF.NSF, FCF.DTC, FCF.CIG, FCF.NSC})
_BY_VALUE = {int(code): code for code in FCF}

#: Post-page messages (PPM) and the plain message a procedure-interrupt
#: request stands for (we have no operator, so PRI-Q is answered as Q).
POST_PAGE = {FCF.MPS: FCF.MPS, FCF.EOP: FCF.EOP, FCF.EOM: FCF.EOM,
             FCF.PRI_MPS: FCF.MPS, FCF.PRI_EOP: FCF.EOP, FCF.PRI_EOM: FCF.EOM}
#: Frames that carry a station identifier in their FIF.
ID_FRAMES = frozenset({FCF.CSI, FCF.TSI, FCF.CIG})


@dataclass(frozen=True, slots=True)
class Frame:
    """One T.30 frame: code, information field, X bit and final flag."""

    fcf: FCF
    fif: bytes = b""
    x: bool = False
    final: bool = True

    def __post_init__(self) -> None:
        if self.x and not self.fcf.has_x_bit:
            raise ValueError(f"{self.fcf.name} has no X bit")

    def __str__(self) -> str:
        return self.fcf.name + (f"[{self.fif.hex()}]" if self.fif else "")


def encode_frame(frame: Frame) -> bytes:
    """The frame as the DTE hands it to a Class 1 modem (no FCS, no stuffing)."""
    control = CONTROL_FINAL if frame.final else CONTROL_MORE
    return bytes((ADDRESS, control, int(frame.fcf) | int(frame.x))) + frame.fif


def decode_frame(data: bytes) -> Frame:
    """Parse address, control and FCF; the rest is the FIF.

    Raises :class:`FrameError` for a short frame, a wrong address or
    control octet, or a code T.30 does not define (or we do not handle).
    """
    if len(data) < 3:
        raise FrameError(data, f"{len(data)} octets, a frame has at least 3")
    if data[0] != ADDRESS:
        raise FrameError(data, f"address {data[0]:#04x}, expected 0xff")
    if data[1] not in (CONTROL_MORE, CONTROL_FINAL):
        raise FrameError(data, f"control {data[1]:#04x}, expected 0x03 or 0x13")
    raw = data[2]
    code = _BY_VALUE.get(raw)
    x = False
    if code is None:
        code = _BY_VALUE.get(raw & 0xFE)
        if code is None or not code.has_x_bit:
            raise FrameError(data, f"unknown facsimile control field {raw:#04x}")
        x = bool(raw & 1)
    return Frame(code, bytes(data[3:]), x=x, final=data[1] == CONTROL_FINAL)


def encode_station_id(station_id: str) -> bytes:
    """A CSI/TSI/CIG information field: 20 characters, last one first.

    T.30 5.3.6.2.4 sends the identifier's most significant (first)
    character last, space-padded to 20.  T.30 lists digits, ``+`` and
    space; machines in the field also send letters, so any printable
    ASCII is accepted.
    """
    if len(station_id) > STATION_ID_LENGTH:
        raise ValueError(f"station ID {station_id!r} is longer than 20 characters")
    if any(not (" " <= ch <= "~") for ch in station_id):
        raise ValueError(f"station ID {station_id!r} must be printable ASCII")
    return station_id.ljust(STATION_ID_LENGTH).encode("ascii")[::-1]


def decode_station_id(fif: bytes) -> str:
    """The identifier in a received CSI/TSI/CIG, spaces trimmed.

    Lenient on purpose: a far end that pads with NULs or sends a short field
    still gets identified; bytes outside printable ASCII become ``?``.
    """
    text = "".join(chr(b) if 0x20 <= b <= 0x7E else ("" if b == 0 else "?")
                   for b in reversed(fif))
    return text.strip()
