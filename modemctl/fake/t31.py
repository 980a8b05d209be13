"""Class 1 / 1.0 fax (ITU-T T.31) on a fake modem: the host runs T.30, the modem moves bits.

A :class:`T31` belongs to one :class:`~modemctl.fake.dce.Dce` whose personality
offers ``+FCLASS=1``.  It sends and hears the signals of
:mod:`modemctl.fake.faxwire` through the exchange, and speaks T.31 to the DTE:

* ``+FTH=3``: V.21 carrier on (1 s of flags), ``CONNECT`` at once; the DTE sends
  each frame DLE-stuffed, ended by DLE ETX.  After a frame has gone out the
  modem answers ``CONNECT`` (more frames) or, when the control byte has the
  final bit (0x10, e.g. ``FF 13``), closes the carrier and answers ``OK``.
  Five seconds without data from the DTE: carrier off, ``ERROR``.
* ``+FRH=3``: ``CONNECT`` when V.21 flags are heard, then the frame
  DLE-stuffed and DLE ETX, then ``OK`` (FCS good) or ``ERROR`` (FCS bad).
  Frames of a V.21 carrier the modem is already locked on are kept for the
  next ``+FRH=3`` (real modems buffer them).  A high-speed carrier gives
  ``+FCERROR`` (numeric ``+F4``); with the personality quirk
  ``rh_connect_any_carrier`` (Agere) it gives ``CONNECT`` and, when that carrier
  ends, ``ERROR``.
* ``+FTM=m``: carrier on; ``CONNECT`` after the training (at once with the
  quirk ``tm_early_connect``); DTE data DLE-stuffed until DLE ETX, sent at the
  modulation's rate; ``OK`` once the last byte is on the line.  Flow control
  (``+FLO``): XON/XOFF (1), stop reading the port (2, RTS/CTS), none (0).
* ``+FRM=m``: ``CONNECT`` when a carrier of that modulation has trained, then
  its data DLE-stuffed as it arrives (the sender's turn-off ones included), and
  50 ms after the carrier ends DLE ETX and ``NO CARRIER``.  Any other carrier:
  ``+FCERROR``; a carrier whose training it missed: it keeps waiting.
* ``+FTS=n`` / ``+FRS=n``: ``OK`` after n x 10 ms of (transmitted / heard)
  silence.
* Any DTE character during ``+FRH``/``+FRM``/``+FRS`` aborts it: (DLE ETX if
  data was flowing, then) ``OK``.  Characters within 125 ms of the command line
  do not count (its trailing LF).  The receive commands have no time-out of
  their own: the DTE's T.30 timers decide, as with spandsp's T.31.
* ``ATD`` in class 1 implies ``+FRH=3``: the caller sends CNG and answers
  ``CONNECT`` when the answerer's V.21 flags arrive (``NO CARRIER`` at S7).
  ``ATA`` in class 1 sends CED, then is in ``+FTH=3``: ``CONNECT``.

Sources: modem-firmware-facts.md §4.1-4.2 and §5, fax-and-session-security.md
§A1.2; spandsp ``t31.c`` for the DTE time-out, the abort and the
DLE ETX / NO CARRIER ending (read, not copied).
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from modemctl.fake.clock import TimerHandle
from modemctl.fake.faxwire import (
    CARRIER_LOSS_DETECT,
    CED,
    CED_GAP,
    CED_TIME,
    CNG,
    CNG_OFF,
    CNG_ON,
    HDLC_PREAMBLE,
    V21,
    CarrierOff,
    CarrierOn,
    Data,
    Frame,
    Modulation,
    Signal,
    Tone,
    frame_time,
)

if TYPE_CHECKING:
    from modemctl.fake.dce import Dce
    from modemctl.fake.personality import FaxSpec

DLE, ETX = 0x10, 0x03
XON, XOFF = 0x11, 0x13
DTE_TIMEOUT = 5.0
"""Seconds a modem in ``+FTH`` waits for frame data before giving up (T.31, spandsp)."""
ABORT_IGNORE = 0.125
"""Characters this soon after the command line do not abort a receive (V.250 §5.2)."""
TICK = 0.05
"""Protocol seconds between two chunks of a high-speed transmission."""
FLOW_HIGH = 1024
"""Bytes waiting for the line above which the modem asks the DTE to stop."""
FLOW_LOW = 256
"""...and below which it lets the DTE go on."""
BUFFER_LIMIT = 64 * 1024
"""Bytes the modem holds at most; more (a DTE ignoring flow control) are lost."""
FINAL_BIT = 0x10
"""The final-frame bit of an HDLC control byte (``FF 13`` final, ``FF 03`` not)."""


class Mode(enum.Enum):
    """What the T.31 engine is doing (IDLE: off-hook command state)."""

    IDLE = "idle"
    CALLING = "calling"          # ATD in class 1: CNG out, waiting for V.21 (implied +FRH=3)
    ANSWERING = "answering"      # ATA in class 1: CED out, then +FTH=3
    TX_HDLC = "tx-hdlc"          # +FTH=3
    TX_DATA = "tx-data"          # +FTM=m
    RX_HDLC = "rx-hdlc"          # +FRH=3
    RX_DATA = "rx-data"          # +FRM=m
    TX_SILENCE = "tx-silence"    # +FTS=n
    RX_SILENCE = "rx-silence"    # +FRS=n


_RECEIVING = (Mode.RX_HDLC, Mode.RX_DATA, Mode.RX_SILENCE)


def is_final(frame: bytes) -> bool:
    """True when the frame's control byte has the final bit (the last frame of a burst)."""
    return len(frame) >= 2 and bool(frame[1] & FINAL_BIT)


def dle_stuff(data: bytes) -> bytes:
    """DCE → DTE transparency: every DLE doubled."""
    return data.replace(b"\x10", b"\x10\x10")


class T31:
    """One fake modem's Class 1 engine (see the module docstring for the behaviour)."""

    def __init__(self, dce: Dce, spec: FaxSpec) -> None:
        self._dce = dce
        self._spec = spec
        self._clock = dce.clock
        self.flo = 1
        """+FLO: 0 none, 1 XON/XOFF, 2 RTS/CTS (the fake's ports: stop reading)."""
        self._timers: set[TimerHandle] = set()
        self._clear()

    def _clear(self) -> None:
        """The on-hook state: nothing heard, nothing sent."""
        self.mode = Mode.IDLE
        # what the far end puts on the line
        self._far: Modulation | Tone | None = None
        self._far_start = 0.0
        self._far_data_seen = False
        self._silent_since = 0.0
        self._locked = False           # this receiver caught the current far carrier
        self._locked_since = 0.0
        self._frames: deque[Frame] = deque()
        self._rx_mod: Modulation | None = None
        self._connected = False        # CONNECT sent for the current receive
        self._rx_delivered = False
        self._frs_wait = 0.0
        self._pending_off: TimerHandle | None = None
        self._pending_off_signal = CarrierOff(0.0)
        # what this modem puts on the line
        self._tx_on: Modulation | Tone | None = None
        self._tx_buf = bytearray()
        self._tx_dle = False
        self._tx_done = False
        self._tx_frames: deque[bytes] = deque()
        self._tx_final = False
        self._tx_busy = False
        self._tx_ready_at = 0.0
        self._tx_clock = 0.0
        self._stopped = False
        self._dte_timer: TimerHandle | None = None

    # ------------------------------------------------------------------ helpers
    @property
    def busy(self) -> bool:
        """True while DTE bytes belong to a transfer, not to the command parser."""
        return self.mode not in (Mode.IDLE, Mode.CALLING, Mode.ANSWERING)

    def _later(self, delay: float, callback: Callable[[], None]) -> TimerHandle:
        """A timer that :meth:`reset` cancels (forgotten once it has fired)."""
        def fire() -> None:
            self._timers.discard(handle)
            callback()
        handle = self._clock.call_later(delay, fire)
        self._timers.add(handle)
        return handle

    def _send(self, signal: Signal) -> None:
        self._dce.telco.fax_send(signal)

    def _carrier_on(self, kind: Modulation | Tone) -> None:
        self._tx_on = kind
        self._send(CarrierOn(kind, self._clock.now()))

    def _carrier_off(self) -> None:
        if self._tx_on is not None:
            self._tx_on = None
            self._send(CarrierOff(self._clock.now()))

    def _result(self, text: str) -> None:
        self._dce.fax_result(text)

    def _to_dte(self, data: bytes) -> None:
        self._dce.output.data(data)

    def _idle(self, text: str) -> None:
        """End the current command with ``text`` and go back to command state."""
        self.mode = Mode.IDLE
        self._connected = False
        self._cancel_dte_timer()
        self._result(text)

    def _cancel_dte_timer(self) -> None:
        if self._dte_timer is not None:
            self._dte_timer.cancel()
            self._dte_timer = None

    def reset(self) -> None:
        """On-hook: every timer stops, nothing is on the line any more."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        if self._stopped:
            self._dce.output.flow_stop(False)
        self._clear()

    # ------------------------------------------------------------------ call set-up
    def class_selected(self) -> None:
        """``+FCLASS=1``: flow control from the personality's hardware-flow setting
        (``&K3`` on Conexant/Agere: RTS/CTS); otherwise XON/XOFF, which a port
        without RTS/CTS lines (a pty) needs.  ``+FLO`` overrides it."""
        hw = self._spec.hardware_flow
        on = hw is not None and self._dce.settings.accepted.get(hw[0]) == hw[1]
        self.flo = 2 if on else 1

    def call_up(self, answering: bool) -> None:
        """The exchange has put a fax call through (the far modem is off-hook)."""
        if answering:
            self.mode = Mode.ANSWERING
            self._carrier_on(CED)
            self._later(CED_TIME, self._ced_done)
        else:
            self.mode = Mode.CALLING
            self._cng()

    def _cng(self) -> None:
        if self.mode is not Mode.CALLING:
            return
        self._carrier_on(CNG)

        def off() -> None:
            if self.mode is Mode.CALLING:
                self._carrier_off()
                self._later(CNG_OFF, self._cng)
        self._later(CNG_ON, off)

    def _ced_done(self) -> None:
        self._carrier_off()
        self._later(CED_GAP, self._answered)

    def _answered(self) -> None:
        if self.mode is not Mode.ANSWERING:
            return
        self._dce.fax_online()
        self._start_fth()

    # ------------------------------------------------------------------ commands
    def fth(self) -> None:
        self._start_fth()

    def _start_fth(self) -> None:
        self.mode = Mode.TX_HDLC
        self._tx_final = False
        self._tx_frames.clear()
        self._tx_buf.clear()
        self._tx_dle = False
        self._carrier_on(V21)
        self._tx_ready_at = self._clock.now() + HDLC_PREAMBLE
        self._result("CONNECT")
        self._arm_dte_timer()

    def frh(self) -> None:
        self.mode = Mode.RX_HDLC
        self._connected = self._rx_delivered = False
        if self._frames:
            self._deliver_frame()
            return
        far = self._far
        if far is V21:
            if not self._locked:
                self._locked, self._locked_since = True, self._clock.now()
            self._rx_connect()
        elif isinstance(far, Modulation):
            self._wrong_carrier_hdlc()

    def ftm(self, mod: Modulation) -> None:
        self.mode = Mode.TX_DATA
        self._tx_buf.clear()
        self._tx_dle = self._tx_done = False
        self._carrier_on(mod)
        now = self._clock.now()
        self._tx_clock = now + mod.training
        if self._spec.tm_early_connect:
            self._result("CONNECT")
        else:
            self._later(mod.training, lambda: self._result("CONNECT")
                        if self.mode is Mode.TX_DATA else None)
        self._later(mod.training, self._pump_data)

    def frm(self, mod: Modulation) -> None:
        self.mode = Mode.RX_DATA
        self._rx_mod = mod
        self._connected = False
        far = self._far
        if isinstance(far, Modulation):
            if not far.compatible(mod):
                self._idle("+FCERROR")
            elif not self._far_data_seen:
                self._lock_data(far)
            # else: its training is over, this receiver missed it; wait for the next

    def fts(self, tens_of_ms: int) -> None:
        self.mode = Mode.TX_SILENCE
        self._carrier_off()
        self._later(tens_of_ms / 100, lambda: self._idle("OK")
                    if self.mode is Mode.TX_SILENCE else None)

    def frs(self, tens_of_ms: int) -> None:
        self.mode = Mode.RX_SILENCE
        self._frs_wait = tens_of_ms / 100
        if self._far is None:
            remaining = self._silent_since + self._frs_wait - self._clock.now()
            self._later(max(remaining, 0.0), self._frs_check)

    def _frs_check(self) -> None:
        if self.mode is not Mode.RX_SILENCE or self._far is not None:
            return
        if self._clock.now() - self._silent_since >= self._frs_wait - 1e-9:
            self._idle("OK")

    # ------------------------------------------------------------------ DTE bytes
    def feed(self, data: bytes) -> int:
        """DTE bytes during a transfer; returns how many belong to it (the rest are
        commands, e.g. after the final DLE ETX)."""
        if self.mode in _RECEIVING:
            if self._clock.now() - self._dce.line_end_time < ABORT_IGNORE:
                return len(data)
            if self._connected and self.mode is not Mode.RX_SILENCE:
                self._to_dte(bytes([DLE, ETX]))
            self._locked = self._locked and self.mode is Mode.RX_HDLC
            self._idle("OK")
            return len(data)
        if self.mode is Mode.TX_SILENCE:
            return len(data)
        if self.mode is Mode.TX_HDLC:
            return self._feed_hdlc(data)
        if self.mode is Mode.TX_DATA:
            return self._feed_data(data)
        return 0

    def _unstuff(self, data: bytes) -> tuple[int, bool]:
        """Move DTE bytes into the transmit buffer up to DLE ETX; (used, DLE ETX seen)."""
        for i, byte in enumerate(data):
            if self._tx_dle:
                self._tx_dle = False
                if byte == ETX:
                    return i + 1, True
                if byte == DLE:
                    self._tx_buf.append(DLE)
                # any other DLE pair means nothing in T.31 transmit and is dropped
            elif byte == DLE:
                self._tx_dle = True
            else:
                self._tx_buf.append(byte)
        return len(data), False

    def _feed_hdlc(self, data: bytes) -> int:
        if self._tx_final:
            return 0         # the DTE should wait for OK; what it sends now is a command
        used = 0
        while used < len(data) and self.mode is Mode.TX_HDLC:
            self._arm_dte_timer()
            n, end = self._unstuff(data[used:])
            used += n
            if not end:
                break
            frame = bytes(self._tx_buf)
            self._tx_buf.clear()
            self._tx_frames.append(frame)
            self._cancel_dte_timer()
            self._next_frame()
            if is_final(frame):
                self._tx_final = True
                break        # what follows the final frame is the next command
        return used

    def _arm_dte_timer(self) -> None:
        self._cancel_dte_timer()
        self._dte_timer = self._later(DTE_TIMEOUT, self._dte_timeout)

    def _dte_timeout(self) -> None:
        self._dte_timer = None
        if self.mode is Mode.TX_HDLC and not self._tx_busy and not self._tx_frames:
            self._carrier_off()
            self._idle("ERROR")

    def _next_frame(self) -> None:
        if self._tx_busy or not self._tx_frames or self.mode is not Mode.TX_HDLC:
            return
        frame = self._tx_frames.popleft()
        start = max(self._clock.now(), self._tx_ready_at)
        end = start + frame_time(frame)
        self._tx_busy = True
        self._tx_ready_at = end

        def sent() -> None:
            self._tx_busy = False
            if self.mode is not Mode.TX_HDLC:
                return
            self._send(Frame(frame, True, start, end))
            if is_final(frame):
                self._carrier_off()
                self._idle("OK")
            else:
                self._result("CONNECT")
                if self._tx_frames:
                    self._next_frame()
                else:
                    self._arm_dte_timer()
        self._later(end - self._clock.now(), sent)

    def _feed_data(self, data: bytes) -> int:
        if self._tx_done:
            return 0
        before = len(self._tx_buf)
        used, end = self._unstuff(data)
        if len(self._tx_buf) > BUFFER_LIMIT:      # overrun: the excess is lost
            del self._tx_buf[max(before, BUFFER_LIMIT):]
        self._tx_done = end
        self._flow()
        return used

    def _flow(self) -> None:
        pending = len(self._tx_buf)
        if not self._stopped and pending > FLOW_HIGH and not self._tx_done:
            self._stopped = True
            self._flow_signal(stop=True)
        elif self._stopped and (pending < FLOW_LOW or self._tx_done):
            self._stopped = False
            self._flow_signal(stop=False)

    def _flow_signal(self, stop: bool) -> None:
        if self.flo == 1:
            self._to_dte(bytes([XOFF if stop else XON]))
        elif self.flo == 2:
            self._dce.output.flow_stop(stop)

    def _pump_data(self) -> None:
        if self.mode is not Mode.TX_DATA or not isinstance(self._tx_on, Modulation):
            return
        bps = self._tx_on.bytes_per_second
        now = self._clock.now()
        if not self._tx_buf:
            self._tx_clock = max(self._tx_clock, now)
        allowed = int((now - self._tx_clock) * bps + 1e-9)
        if allowed > 0 and self._tx_buf:
            chunk = bytes(self._tx_buf[:allowed])
            del self._tx_buf[:allowed]
            start = self._tx_clock
            self._tx_clock += len(chunk) / bps
            self._send(Data(chunk, start, self._tx_clock))
            self._flow()
        if self._tx_done and not self._tx_buf:
            ones = self._tx_on.turn_off
            start = self._tx_clock
            self._tx_clock += len(ones) / bps
            self._later(max(self._tx_clock - now, 0.0),
                        lambda: self._turn_off(Data(ones, start, self._tx_clock)))
            return
        self._later(TICK, self._pump_data)

    def _turn_off(self, ones: Data) -> None:
        if self.mode is Mode.TX_DATA:
            self._send(ones)
            self._carrier_off()
            self._idle("OK")

    # ------------------------------------------------------------------ the far end
    def signal(self, signal: Signal) -> None:
        """A signal from the far modem arrives (through the exchange)."""
        if isinstance(signal, CarrierOn):
            self._far_on(signal)
        elif isinstance(signal, CarrierOff):
            self._far_off(signal)
        elif isinstance(signal, Frame):
            self._far_frame(signal)
        else:
            self._far_data(signal)

    def _far_on(self, signal: CarrierOn) -> None:
        if self._pending_off is not None:          # the last carrier's end, noticed now
            self._pending_off.cancel()
            self._timers.discard(self._pending_off)
            self._pending_off = None
            self._carrier_lost(self._pending_off_signal)
        kind = signal.kind
        self._far, self._far_start, self._far_data_seen = kind, signal.start, False
        self._locked = False
        if isinstance(kind, Tone):
            return
        if self.mode is Mode.CALLING and kind is V21:
            self._carrier_off()          # CNG stops
            self._dce.fax_online()
            self.mode = Mode.RX_HDLC
            self._connected = self._rx_delivered = False
        if self.mode is Mode.RX_HDLC:
            if kind is V21:
                self._locked, self._locked_since = True, signal.start
                self._rx_connect()
            else:
                self._wrong_carrier_hdlc()
        elif self.mode is Mode.RX_DATA and self._rx_mod is not None:
            if kind is not V21 and kind.compatible(self._rx_mod):
                self._lock_data(kind)
            else:
                self._idle("+FCERROR")
        elif self.mode is Mode.IDLE and kind is V21:
            # A modem that just heard a frame keeps its V.21 receiver on the line
            self._locked, self._locked_since = True, signal.start

    def _rx_connect(self) -> None:
        if not self._connected:
            self._connected = True
            self._result("CONNECT")

    def _wrong_carrier_hdlc(self) -> None:
        if self._spec.rh_connect_any_carrier:
            self._rx_connect()          # ERROR follows when that carrier ends
        else:
            self._idle("+FCERROR")

    def _lock_data(self, carrier: Modulation) -> None:
        self._locked, self._locked_since = True, self._far_start
        trained = self._far_start + carrier.training

        def connect() -> None:
            if self.mode is Mode.RX_DATA and self._locked and self._far is carrier:
                self._rx_connect()
        self._later(max(trained - self._clock.now(), 0.0), connect)

    def _far_frame(self, frame: Frame) -> None:
        if self._far is not V21 or not self._locked or frame.start < self._locked_since:
            return
        self._frames.append(frame)
        if self.mode is Mode.RX_HDLC and not self._rx_delivered:
            self._deliver_frame()

    def _deliver_frame(self) -> None:
        frame = self._frames.popleft()
        self._rx_connect()
        self._rx_delivered = True
        self._to_dte(dle_stuff(frame.data) + bytes([DLE, ETX]))
        self._idle("OK" if frame.fcs_ok else "ERROR")

    def _far_data(self, data: Data) -> None:
        if not isinstance(self._far, Modulation) or self._far is V21:
            return
        if self.mode is Mode.RX_DATA and self._locked:
            self._rx_connect()
            self._to_dte(dle_stuff(data.data))
        self._far_data_seen = True

    def _far_off(self, signal: CarrierOff) -> None:
        """The far carrier stopped.  A receive in progress notices it a moment later
        (its result comes after the sender's OK); anything else at once."""
        receiving = (self.mode is Mode.RX_DATA and self._locked and self._connected) or (
            self.mode is Mode.RX_HDLC and self._connected and not self._rx_delivered)
        if not receiving:
            self._carrier_lost(signal)
            return
        self._pending_off_signal = signal
        self._pending_off = self._later(CARRIER_LOSS_DETECT, self._noticed_off)

    def _noticed_off(self) -> None:
        self._pending_off = None
        self._carrier_lost(self._pending_off_signal)

    def _carrier_lost(self, signal: CarrierOff) -> None:
        was_locked, far = self._locked, self._far
        self._far, self._locked = None, False
        self._silent_since = signal.end
        if self.mode is Mode.RX_DATA and was_locked and self._connected:
            self._to_dte(bytes([DLE, ETX]))
            self._idle("NO CARRIER")
        elif self.mode is Mode.RX_HDLC and self._connected and not self._rx_delivered \
                and far is not None and not isinstance(far, Tone):
            self._idle("ERROR")
        elif self.mode is Mode.RX_SILENCE:
            self._later(max(signal.end + self._frs_wait - self._clock.now(), 0.0),
                        self._frs_check)

    def remote_hangup(self) -> str | None:
        """The far end went on-hook: the result the DTE sees, if any (a modem in fax
        command state does not notice; one receiving loses the carrier)."""
        if not self.busy:
            return None
        if self.mode is Mode.RX_DATA and self._connected:
            self._to_dte(bytes([DLE, ETX]))
        return "NO CARRIER"
