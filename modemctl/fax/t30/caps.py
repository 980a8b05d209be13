"""DIS/DTC/DCS capability bits: what a station can do and what a call uses.

Bit numbers are T.30 Table 2's (bit 1 is the first bit of the first FIF
octet, which is the octet's least significant bit as a Class 1 modem
delivers it).  Only what a Class 1 page transfer without ECM needs is
modelled: modulations, fine resolution (R8 x 7.7 l/mm), 2-D coding (MR),
width, length, minimum scan-line time, the ECM bit (always sent as 0 in
part 1) and the "ready to receive" bit.  Other bits are kept as received in
``raw`` so nothing a far end said is lost.

A DIS cannot list modulations freely: bits 11-14 name one of five sets
(V.27ter fallback, V.27ter, V.29, V.27ter+V.29, V.27ter+V.29+V.17).  A DCS
names exactly one modulation and rate.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from modemctl.errors import FrameError
from modemctl.fax.page import Resolution
from modemctl.fax.t4.encode import Coding


class Modulation(enum.Enum):
    """A high-speed (image) modulation and its rate in bit/s."""

    V27_2400 = ("V.27ter", 2400)
    V27_4800 = ("V.27ter", 4800)
    V29_7200 = ("V.29", 7200)
    V29_9600 = ("V.29", 9600)
    V17_7200 = ("V.17", 7200)
    V17_9600 = ("V.17", 9600)
    V17_12000 = ("V.17", 12000)
    V17_14400 = ("V.17", 14400)

    @property
    def family(self) -> str:
        """The ITU-T recommendation: ``V.27ter``, ``V.29`` or ``V.17``."""
        return self.value[0]

    @property
    def rate(self) -> int:
        """Data signalling rate in bit/s."""
        return self.value[1]

    def __str__(self) -> str:
        return f"{self.family} {self.rate}"


#: Fallback order after FTT: each rate once, fastest first; at 9600 and
#: 7200 V.17 is tried before V.29 (it trains more robustly).
LADDER: tuple[Modulation, ...] = (
    Modulation.V17_14400, Modulation.V17_12000, Modulation.V17_9600, Modulation.V29_9600,
    Modulation.V17_7200, Modulation.V29_7200, Modulation.V27_4800, Modulation.V27_2400,
)


class PageWidth(enum.Enum):
    """Scan line length; the value is pixels per line at 8 pels/mm."""

    A4 = 1728      # 215 mm
    B4 = 2048      # 255 mm
    A3 = 2432      # 303 mm


class PageLength(enum.Enum):
    """Recording length limit."""

    A4 = "A4"              # 297 mm
    B4 = "B4"              # 364 mm
    UNLIMITED = "unlimited"


#: Minimum scan-line times a DCS can state, in ms, by bits (21, 22, 23).
_SCAN_CODES: dict[int, int] = {0b000: 20, 0b100: 40, 0b010: 10, 0b001: 5, 0b111: 0}
#: DIS codes meaning "this time at standard, half of it at fine".
_SCAN_HALVED: dict[int, int] = {0b110: 10, 0b011: 20, 0b101: 40}
_SCAN_BITS = {ms: code for code, ms in _SCAN_CODES.items()}

# Bits 11, 12, 13, 14 (bit 11 in the lowest place) in a DCS.
_DCS_RATE: dict[int, Modulation] = {
    0b0000: Modulation.V27_2400, 0b0010: Modulation.V27_4800,
    0b0011: Modulation.V29_7200, 0b0001: Modulation.V29_9600,
    0b1011: Modulation.V17_7200, 0b1001: Modulation.V17_9600,
    0b1010: Modulation.V17_12000, 0b1000: Modulation.V17_14400,
}
_DCS_RATE_BITS = {mod: bits for bits, mod in _DCS_RATE.items()}

_BIT_POLL, _BIT_RECEIVE, _BIT_FINE, _BIT_MR = 9, 10, 15, 16
_BIT_B4_WIDTH, _BIT_A3_WIDTH, _BIT_B4_LENGTH, _BIT_UNLIMITED = 17, 18, 19, 20
_BIT_EXTEND_3, _BIT_ECM = 24, 27


def _get(fif: bytes, bit: int) -> bool:
    index = (bit - 1) // 8
    return index < len(fif) and bool(fif[index] & (1 << ((bit - 1) % 8)))


def _put(buf: bytearray, bit: int) -> None:
    buf[(bit - 1) // 8] |= 1 << ((bit - 1) % 8)


def _field(fif: bytes, first: int, count: int) -> int:
    return sum(1 << i for i in range(count) if _get(fif, first + i))


def _put_field(buf: bytearray, first: int, count: int, value: int) -> None:
    for i in range(count):
        if value & (1 << i):
            _put(buf, first + i)


def _new_fif() -> bytearray:
    # Four octets: bit 24 says octet 4 follows, which holds the ECM bit (27).
    buf = bytearray(4)
    _put(buf, _BIT_EXTEND_3)
    return buf


#: Widths and lengths from the smallest up.  A DCS states one of each; a DIS/DTC
#: the largest the receiver takes, which includes every smaller one.
_WIDTHS = (PageWidth.A4, PageWidth.B4, PageWidth.A3)
_LENGTHS = (PageLength.A4, PageLength.B4, PageLength.UNLIMITED)


def _put_size(buf: bytearray, width: PageWidth, length: PageLength) -> None:
    """Bits 17-20 for ``width`` and ``length`` (A4, the smallest, has no bit)."""
    if width is PageWidth.A3:
        _put(buf, _BIT_A3_WIDTH)
    elif width is PageWidth.B4:
        _put(buf, _BIT_B4_WIDTH)
    if length is PageLength.UNLIMITED:
        _put(buf, _BIT_UNLIMITED)
    elif length is PageLength.B4:
        _put(buf, _BIT_B4_LENGTH)


def _get_size(fif: bytes) -> tuple[PageWidth, PageLength]:
    """The width and length bits 17-20 state (of two width bits, the larger counts)."""
    width = (PageWidth.A3 if _get(fif, _BIT_A3_WIDTH)
             else PageWidth.B4 if _get(fif, _BIT_B4_WIDTH) else PageWidth.A4)
    length = (PageLength.UNLIMITED if _get(fif, _BIT_UNLIMITED)
              else PageLength.B4 if _get(fif, _BIT_B4_LENGTH) else PageLength.A4)
    return width, length


@dataclass(frozen=True)
class Capabilities:
    """What a DIS (or DTC) offers: the receiving station's capabilities.

    ``min_scan_ms`` is the minimum scan-line time at standard resolution;
    with ``scan_halved_at_fine`` the receiver needs only half of it at fine.
    """

    modulations: frozenset[Modulation] = frozenset(Modulation)
    fine: bool = True
    mr: bool = True
    widths: frozenset[PageWidth] = frozenset({PageWidth.A4})
    lengths: frozenset[PageLength] = frozenset({PageLength.A4})
    min_scan_ms: int = 0
    scan_halved_at_fine: bool = False
    ecm: bool = False
    can_receive: bool = True
    can_poll: bool = False
    raw: bytes = field(default=b"", compare=False)

    def scan_time_ms(self, resolution: Resolution) -> int:
        """The minimum scan-line time this station needs at ``resolution``."""
        if resolution is Resolution.FINE and self.scan_halved_at_fine:
            return self.min_scan_ms // 2
        return self.min_scan_ms


@dataclass(frozen=True)
class Params:
    """What a DCS sets for the pages that follow: one choice of everything."""

    modulation: Modulation
    resolution: Resolution = Resolution.STANDARD
    coding: Coding = Coding.MH
    width: PageWidth = PageWidth.A4
    length: PageLength = PageLength.A4
    min_scan_ms: int = 0
    ecm: bool = False
    raw: bytes = field(default=b"", compare=False)


def _dis_modem_bits(mods: frozenset[Modulation]) -> int:
    families = {m.family for m in mods}
    if "V.17" in families:
        return 0b1011            # V.27ter, V.29 and V.17
    if "V.29" in families:
        return 0b0011 if Modulation.V27_4800 in mods else 0b0001
    return 0b0010 if Modulation.V27_4800 in mods else 0b0000


def encode_dis(caps: Capabilities) -> bytes:
    """The FIF of a DIS (or DTC) offering ``caps``."""
    if caps.min_scan_ms not in _SCAN_BITS:
        raise ValueError(f"min_scan_ms must be one of {sorted(_SCAN_BITS)}")
    buf = _new_fif()
    if caps.can_poll:
        _put(buf, _BIT_POLL)
    if caps.can_receive:
        _put(buf, _BIT_RECEIVE)
    _put_field(buf, 11, 4, _dis_modem_bits(caps.modulations))
    if caps.fine:
        _put(buf, _BIT_FINE)
    if caps.mr:
        _put(buf, _BIT_MR)
    _put_size(buf, max(caps.widths, key=_WIDTHS.index, default=PageWidth.A4),
              max(caps.lengths, key=_LENGTHS.index, default=PageLength.A4))
    scan = _SCAN_BITS[caps.min_scan_ms]
    if caps.scan_halved_at_fine:
        halved = {ms: code for code, ms in _SCAN_HALVED.items()}
        if caps.min_scan_ms not in halved:
            raise ValueError("only 10, 20 and 40 ms can be halved at fine resolution")
        scan = halved[caps.min_scan_ms]
    _put_field(buf, 21, 3, scan)
    if caps.ecm:
        _put(buf, _BIT_ECM)
    return bytes(buf)


def decode_dis(fif: bytes) -> Capabilities:
    """Capabilities from a received DIS/DTC FIF (at least 3 octets).

    Lenient where T.30 marks combinations reserved: V.17 counts when bit 14
    is set, V.29 on bit 11, V.27ter 4800 on bit 12; V.27ter 2400 is always
    there (T.30's fallback mode).
    """
    if len(fif) < 3:
        raise FrameError(fif, f"DIS/DTC information field of {len(fif)} octets, need 3")
    mods = {Modulation.V27_2400}
    if _get(fif, 12):
        mods.add(Modulation.V27_4800)
    if _get(fif, 11):
        mods |= {Modulation.V29_7200, Modulation.V29_9600}
    if _get(fif, 14):
        mods |= {Modulation.V17_7200, Modulation.V17_9600, Modulation.V17_12000,
                 Modulation.V17_14400}
    widest, longest = _get_size(fif)
    widths = _WIDTHS[:_WIDTHS.index(widest) + 1]
    lengths = _LENGTHS[:_LENGTHS.index(longest) + 1]
    scan = _field(fif, 21, 3)
    halved = scan in _SCAN_HALVED
    return Capabilities(
        modulations=frozenset(mods), fine=_get(fif, _BIT_FINE), mr=_get(fif, _BIT_MR),
        widths=frozenset(widths), lengths=frozenset(lengths),
        min_scan_ms=_SCAN_HALVED[scan] if halved else _SCAN_CODES[scan],
        scan_halved_at_fine=halved, ecm=_get(fif, _BIT_ECM),
        can_receive=_get(fif, _BIT_RECEIVE), can_poll=_get(fif, _BIT_POLL), raw=bytes(fif))


def encode_dcs(params: Params) -> bytes:
    """The FIF of a DCS setting ``params``."""
    if params.min_scan_ms not in _SCAN_BITS:
        raise ValueError(f"min_scan_ms must be one of {sorted(_SCAN_BITS)}")
    if params.ecm:
        raise ValueError("ECM is not supported yet (part 2)")
    buf = _new_fif()
    _put(buf, _BIT_RECEIVE)
    _put_field(buf, 11, 4, _DCS_RATE_BITS[params.modulation])
    if params.resolution is Resolution.FINE:
        _put(buf, _BIT_FINE)
    if params.coding is Coding.MR:
        _put(buf, _BIT_MR)
    _put_size(buf, params.width, params.length)
    _put_field(buf, 21, 3, _SCAN_BITS[params.min_scan_ms])
    return bytes(buf)


def decode_dcs(fif: bytes) -> Params:
    """Parameters from a received DCS FIF; unknown rate codes are a :class:`FrameError`."""
    if len(fif) < 3:
        raise FrameError(fif, f"DCS information field of {len(fif)} octets, need 3")
    rate_bits = _field(fif, 11, 4)
    if rate_bits not in _DCS_RATE:
        raise FrameError(fif, f"DCS names no modulation (bits 11-14 = {rate_bits:04b})")
    scan = _field(fif, 21, 3)
    if scan not in _SCAN_CODES:
        raise FrameError(fif, f"DCS names no scan-line time (bits 21-23 = {scan:03b})")
    if _get(fif, _BIT_A3_WIDTH) and _get(fif, _BIT_B4_WIDTH):
        raise FrameError(fif, "DCS sets both 255 and 303 mm width")
    width, length = _get_size(fif)
    return Params(
        modulation=_DCS_RATE[rate_bits],
        resolution=Resolution.FINE if _get(fif, _BIT_FINE) else Resolution.STANDARD,
        coding=Coding.MR if _get(fif, _BIT_MR) else Coding.MH,
        width=width, length=length, min_scan_ms=_SCAN_CODES[scan],
        ecm=_get(fif, _BIT_ECM), raw=bytes(fif))


def ladder(usable: Iterable[Modulation]) -> tuple[Modulation, ...]:
    """The fallback order restricted to ``usable`` modulations."""
    allowed = set(usable)
    return tuple(m for m in LADDER if m in allowed)


def choose_params(local: Capabilities, remote: Capabilities, resolution: Resolution,
                  modulation: Modulation) -> Params:
    """The DCS a sender sets: the best common choice at ``modulation``.

    Fine only when both ends do it, MR only when both do, A4 width and
    length (what pages are rendered at), and the receiver's minimum
    scan-line time for the chosen resolution.
    """
    res = resolution if remote.fine and local.fine else Resolution.STANDARD
    coding = Coding.MR if remote.mr and local.mr else Coding.MH
    return Params(modulation=modulation, resolution=res, coding=coding,
                  min_scan_ms=remote.scan_time_ms(res))


def accepts(local: Capabilities, params: Params) -> str | None:
    """Why a receiver with ``local`` capabilities cannot take a DCS, or None."""
    if params.modulation not in local.modulations:
        return f"{params.modulation} is not offered"
    if params.resolution is Resolution.FINE and not local.fine:
        return "fine resolution is not offered"
    if params.coding is Coding.MR and not local.mr:
        return "MR coding is not offered"
    if params.width not in local.widths:
        return f"width {params.width.name} is not offered"
    if params.ecm:
        return "ECM is not offered"
    return None
