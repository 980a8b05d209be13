"""What a fax call carries between two fake modems: tones, V.21 frames, high-speed carriers.

A real fax call is audio.  The fake does not synthesise audio; it carries the
*signals* two fax modems exchange, each taking the time it takes on a real
line (scaled by the exchange's ``time_scale``), and lets the receiving modem
decide what it can hear, as a demodulator would.  The model, which modem-run
T.30 (Class 2/2.0, part 2) will use unchanged:

* **Tones** (:data:`CNG`, :data:`CED`): the calling tone and the answer tone.
  They carry nothing; a Class 1 receiver ignores them.
* **V.21 channel 2 at 300 bit/s** (modulation code 3): HDLC frames.  A
  transmission starts with 1 s of flags (T.30 §5.3.1, the preamble), then each
  frame takes ``(len(frame) + 2 FCS + 1 flag) * 8 / 300`` s (bit stuffing is
  not counted).  A :class:`Frame` is delivered whole when its last bit has
  arrived, with the frame bytes (address, control, FCF, FIF; no FCS) and
  ``fcs_ok``: whether the FCS the receiver computes matches.
* **High-speed carriers** (V.27ter, V.29, V.17, :data:`MODULATIONS`): a
  carrier starts with its training (its :attr:`Modulation.training` time),
  then carries TCF or page data bytes at ``rate / 8`` bytes per second, as
  :class:`Data` chunks delivered when their last byte has arrived.  The bytes
  are exactly what the sending DTE gave its modem (after DLE un-stuffing): the
  fake neither bit-reverses nor interprets them.  Nothing is inserted when the
  sender's DTE falls behind (a real modem sends fill; the fake sends nothing).
  The carrier ends with its turn-off sequence, 32 symbols of binary ones, which
  arrive as a few 0xFF bytes (:attr:`Modulation.turn_off`): a T.4 decoder
  needs bytes after RTC to see its last EOL, and real modems give it these.
* **Silence** is the absence of a carrier.  :class:`CarrierOn` and
  :class:`CarrierOff` bracket every tone and carrier, so a receiver knows what
  is on the line at any time.  A receiver in the middle of a receive notices
  the end of the carrier :data:`CARRIER_LOSS_DETECT` after it (its demodulator
  must see the energy gone), so the sender's ``OK`` comes before the
  receiver's ``NO CARRIER``, as on a real line.

What a receiver hears follows from that: listening for V.21 it gets the frames
that *start* after it began to listen (a frame already under way is lost; a
modem idle in fax command state keeps its V.21 receiver on, so the frames of a
V.21 carrier that starts then wait for its next ``+FRH=3``);
listening for a high-speed modulation it catches a carrier of the same
modulation family and rate if it listened before the carrier's first data byte
(it needs the training), and reports a carrier of any other kind as a wrong
modulation.  These rules live in :mod:`modemctl.fake.t31`.

Damage: the exchange can mark a span of protocol time as *interrupted* (a
call-waiting tone on an unsecured call).  A frame whose transmission overlaps
the span arrives with ``fcs_ok=False``; data bytes sent during the span arrive
inverted (so a T.4 decoder sees bad lines).  See :func:`damage`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

V21_RATE = 300
"""Bit rate of V.21 channel 2, the T.30 control channel."""
HDLC_PREAMBLE = 1.0
"""Seconds of flags before the first frame of a V.21 transmission (T.30 §5.3.1)."""
HDLC_OVERHEAD = 3
"""Bytes on the wire per frame besides its content: 2 FCS + 1 closing flag."""
CED_TIME = 3.0
"""Answer tone length (T.30: 2.6 s to 4.0 s) before the answering modem's V.21."""
CED_GAP = 0.075
"""Silence between the end of CED and the first V.21 flags (T.30: 75 ms +- 20)."""
CARRIER_LOSS_DETECT = 0.05
"""Seconds a receiver takes to notice that a carrier has ended (an estimate of a
demodulator's energy-detector hold time; no source gives a figure)."""
CNG_ON = 0.5
"""Calling tone burst (T.30: 0.5 s on, 3 s off)."""
CNG_OFF = 3.0


@dataclass(frozen=True)
class Modulation:
    """One ``+FTM``/``+FRM`` modulation (T.31 Table 1)."""

    code: int
    family: str          # "V.21", "V.27ter", "V.29", "V.17"
    rate: int            # bit/s
    training: float      # seconds from carrier start to the first data bit
    baud: int = 2400     # symbols per second

    @property
    def bytes_per_second(self) -> float:
        return self.rate / 8

    @property
    def turn_off(self) -> bytes:
        """What the carrier's turn-off sequence demodulates to: 32 symbols of binary
        ones (spandsp's V.17, V.29 and V.27ter transmitters), so the receiving DTE
        reads some 0xFF after the sender's last byte, as from a real modem."""
        if self.family == "V.21":
            return b""
        return b"\xff" * (32 * self.rate // self.baud // 8)

    def compatible(self, other: Modulation) -> bool:
        """True when a receiver set for ``self`` demodulates a carrier sent as ``other``
        (long- and short-train V.17 codes of one rate are the same carrier)."""
        return self.family == other.family and self.rate == other.rate


V21 = Modulation(3, "V.21", V21_RATE, 0.0, baud=V21_RATE)

# Training times: V.27ter 4800 708 ms, 2400 943 ms (V.27ter §2.5); V.29 253 ms
# (V.29 §5); V.17 long train 1393 ms, short train 142 ms (V.17 §7).
MODULATIONS: dict[int, Modulation] = {m.code: m for m in (
    V21,
    Modulation(24, "V.27ter", 2400, 0.943, baud=1200),
    Modulation(48, "V.27ter", 4800, 0.708, baud=1600),
    Modulation(72, "V.29", 7200, 0.253),
    Modulation(73, "V.17", 7200, 1.393),
    Modulation(74, "V.17", 7200, 0.142),
    Modulation(96, "V.29", 9600, 0.253),
    Modulation(97, "V.17", 9600, 1.393),
    Modulation(98, "V.17", 9600, 0.142),
    Modulation(121, "V.17", 12000, 1.393),
    Modulation(122, "V.17", 12000, 0.142),
    Modulation(145, "V.17", 14400, 1.393),
    Modulation(146, "V.17", 14400, 0.142),
)}
"""Modulation codes of ``+FTM``/``+FRM`` (modem-firmware-facts.md §4.2)."""


@dataclass(frozen=True)
class Tone:
    """CNG or CED: a tone that carries nothing."""

    name: str


CNG = Tone("CNG")
CED = Tone("CED")


@dataclass(frozen=True)
class CarrierOn:
    """A tone or carrier starts (for a high-speed carrier: its training starts)."""

    kind: Modulation | Tone
    start: float


@dataclass(frozen=True)
class CarrierOff:
    """The current tone or carrier stops: silence."""

    end: float


@dataclass(frozen=True)
class Frame:
    """One V.21 HDLC frame, delivered when its last bit arrives."""

    data: bytes
    fcs_ok: bool
    start: float
    end: float


@dataclass(frozen=True)
class Data:
    """High-speed carrier bytes, delivered when the last of them arrives."""

    data: bytes
    start: float
    end: float


Signal = CarrierOn | CarrierOff | Frame | Data
"""Everything that travels on a fax call, in the order it happens."""


def frame_time(frame: bytes) -> float:
    """Seconds a frame takes on V.21 after the preamble (content, FCS, closing flag)."""
    return (len(frame) + HDLC_OVERHEAD) * 8 / V21_RATE


def damage(signal: Signal, start: float, end: float) -> Signal:
    """``signal`` as it arrives through an interruption of the line from ``start`` to
    ``end`` (protocol seconds): frames overlapping it fail their FCS, data bytes sent
    during it arrive inverted.  Anything else passes unchanged."""
    if isinstance(signal, Frame):
        if signal.start < end and signal.end > start:
            return replace(signal, fcs_ok=False)
        return signal
    if isinstance(signal, Data) and signal.data and signal.start < end and signal.end > start:
        per_byte = (signal.end - signal.start) / len(signal.data)
        out = bytearray(signal.data)
        for i in range(len(out)):
            sent = signal.start + (i + 1) * per_byte
            if start <= sent <= end:
                out[i] ^= 0xFF
        return replace(signal, data=bytes(out))
    return signal
