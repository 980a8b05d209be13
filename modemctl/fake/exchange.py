"""The simulated telephone exchange: lines, calls, ringing, call waiting, remote parties.

The exchange owns the telephone side of every fake line.  A call goes
*ringing* (callee rings with a 2 s on / 4 s off cadence, caller ID after the
first ring) → *training* (after ATA or S0 auto-answer) → *connected* (both
modems print CONNECT at the lower of their top rates) → *ended*.  Set-up
failures are reported to the dialling modem (BUSY), or simply never complete
(no answer, unknown number) so that the modem's own S7 timer decides, as on
a real line.  Call-waiting decisions follow the rules documented in
:mod:`modemctl.fake`; the modem-side part (rules 2-3) lives in
:meth:`modemctl.fake.dce.Dce.call_waiting`, the network-side part (rule 1,
the cancel code) here.
"""

from __future__ import annotations

import asyncio
import enum
import re
import shutil
import tempfile
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Protocol

from modemctl.fake.callerid import cid_fields
from modemctl.fake.callstate import CwOutcome, DceState
from modemctl.fake.clock import LoopClock
from modemctl.fake.dce import CW_INTERRUPTION_MS, TRAINING_TIME
from modemctl.fake.dialstring import DialRequest
from modemctl.fake.faxwire import Signal, damage
from modemctl.fake.line import CallRecord, CancelCodes, FakeLine
from modemctl.fake.outcomes import CallWaitingOutcome, EndReason, PartyOutcome
from modemctl.fake.pacing import PACE_TICK, Pacer, PacingTicker
from modemctl.fake.personality import load_personality
from modemctl.fake.registry import LINK_DIR_PREFIX
from modemctl.log import get_logger

RING_ON = 2.0
"""Protocol seconds of ringing per cycle (North American cadence)."""
RING_OFF = 4.0
"""Protocol seconds of silence between rings."""
CID_DELAY = 0.5
"""Caller ID is sent this long after the first ring ends."""
CANCEL_CODES: CancelCodes = (("T", "*70"), ("P", "1170"))
"""A line's per-call call-waiting cancel codes unless added with others: NANP's,
``*70`` by tone, ``1170`` by pulse."""
FLOW_HIGH = 256 * 1024
"""Bytes in flight towards a far end above which the sending line stops reading its DTE."""
FLOW_LOW = 64 * 1024
"""...and below which it reads again (hardware flow control, in effect)."""
MIN_REAL_TICK = 0.002
"""Real seconds a pacing tick lasts at least, whatever the time scale."""
FLOW_CHECK = 0.005
"""Real seconds between checks of a paused sender's backlog."""
_CW_OUTCOMES: dict[CwOutcome, CallWaitingOutcome] = {
    CwOutcome.IGNORED: "waiting-ignored", CwOutcome.RODE_THROUGH: "waiting-ignored",
    CwOutcome.HELD: "waiting-held", CwOutcome.DROPPED: "waiting-dropped",
    CwOutcome.DAMAGED: "waiting-ignored",
}
"""What the third party (and the call log) sees for each thing the modem did."""
_NUMBER = re.compile(r"[0-9*#+]{1,32}")

_log = get_logger()


class ExchangeError(Exception):
    """Base of the exchange's errors."""


class UnknownLine(ExchangeError, KeyError):
    """No line with that number on this exchange."""

    def __str__(self) -> str:
        return f"no line {self.args[0]!r} on this exchange"


class LineExists(ExchangeError):
    """A line with that number already exists."""


class NoCall(ExchangeError):
    """The line has no connected call to act on."""


class CallEnd(Protocol):
    """One end of a call: a fake line or a remote party."""

    @property
    def label(self) -> str: ...
    @property
    def max_rate(self) -> int: ...
    @property
    def moh_timeout(self) -> int: ...
    def end_connected(self, rate: int) -> None: ...
    def end_deliver(self, data: bytes) -> None: ...
    def end_remote_hangup(self) -> None: ...
    def end_offer_withdrawn(self) -> None: ...
    def end_ringback(self, ringing: bool) -> None: ...
    def backlog(self) -> int: ...


class CircuitState(enum.Enum):
    """Where a circuit is: ringing → training → connected → ended (or ended early)."""

    RINGING = "ringing"
    TRAINING = "training"
    CONNECTED = "connected"
    ENDED = "ended"


class Circuit:
    """The exchange's side of one call between two ends, from ringing to ended.

    Not :class:`modemctl.line.Call` (the driver's call object): this is the
    switch's record of who is connected to whom and how the data is carried.
    """

    def __init__(self, caller: CallEnd, callee: CallEnd | None, cancel_cw: bool) -> None:
        self.caller = caller
        self.callee = callee
        self.cancel_cw = cancel_cw
        self.state = CircuitState.RINGING
        self.rate: int | None = None
        self.records: dict[int, CallRecord] = {}
        self.pending_reason: EndReason | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.pacers: dict[int, Pacer] = {}
        self.paused: set[int] = set()
        self.fax = False
        """A fax call: the ends exchange :mod:`~modemctl.fake.faxwire` signals, no data."""
        self.interruptions: list[tuple[float, float]] = []
        """Spans of protocol time the line was interrupted (call waiting on a fax call)."""
        self.reverse = False
        """The caller dialled with ``R`` (answer mode): an answering modem, also in
        answer mode, never trains with it; both ends' S7 timers end the attempt."""

    @property
    def connected(self) -> bool:
        """True while the two ends are connected and data flows."""
        return self.state is CircuitState.CONNECTED

    def other(self, end: CallEnd) -> CallEnd | None:
        return self.callee if end is self.caller else self.caller

    def ends(self) -> list[CallEnd]:
        return [e for e in (self.caller, self.callee) if e is not None]


class RemoteParty:
    """A caller outside the exchange's lines (``ring_in``): it rings a line and, once
    answered, exchanges data like a remote modem.

    ``outcome`` is None while undecided, then one of ``answered``, ``busy``,
    ``no-answer``, ``waiting-ignored`` (the line's call survived the call-waiting
    tone), ``waiting-held`` (modem-on-hold granted, call resumed),
    ``waiting-dropped`` (the line's data call was lost), or ``cancelled``
    (:meth:`hangup` before an answer).
    """

    def __init__(self, exchange: Exchange, number: str, caller: str | None, name: str | None,
                 max_rate: int, moh_timeout: int) -> None:
        self._exchange = exchange
        self.number = number
        self.caller = caller
        self.name = name
        self._max_rate = max_rate
        self._moh_timeout = moh_timeout
        self.outcome: PartyOutcome | None = None
        self.rate: int | None = None
        self.circuit: Circuit | None = None
        self._settled = asyncio.Event()
        self._rx = bytearray()
        self._rx_event = asyncio.Event()
        self.closed = False

    @property
    def label(self) -> str:
        return self.caller or "unknown"

    @property
    def max_rate(self) -> int:
        return self._max_rate

    @property
    def moh_timeout(self) -> int:
        return self._moh_timeout

    def settle(self, outcome: PartyOutcome) -> None:
        if self.outcome is None:
            self.outcome = outcome
            self._settled.set()
            if outcome != "answered":
                self.closed = True
                self._rx_event.set()

    async def answered(self) -> bool:
        """Wait until the outcome is known; True if the line answered and connected."""
        await self._settled.wait()
        return self.outcome == "answered"

    def write(self, data: bytes) -> None:
        """Send bytes to the line (ignored unless connected)."""
        if self.circuit is not None and self.circuit.connected:
            self._exchange.send_from(self, self.circuit, data)

    async def read(self, n: int) -> bytes:
        """Up to ``n`` bytes from the line; ``b""`` once the call is over and drained."""
        while not self._rx and not self.closed:
            self._rx_event.clear()
            await self._rx_event.wait()
        chunk = bytes(self._rx[:n])
        del self._rx[:n]
        return chunk

    async def hangup(self) -> None:
        """Hang up (or give up ringing)."""
        if self.circuit is not None:
            self._exchange.end_circuit(self.circuit, by=self, reason="remote")
        self.settle("cancelled")
        self.closed = True
        self._rx_event.set()

    # CallEnd
    def end_connected(self, rate: int) -> None:
        self.rate = rate
        self.settle("answered")

    def end_deliver(self, data: bytes) -> None:
        self._rx += data
        self._rx_event.set()

    def end_remote_hangup(self) -> None:
        self.closed = True
        self.settle("no-answer")
        self._rx_event.set()

    def end_offer_withdrawn(self) -> None:
        self.settle("no-answer")

    def end_ringback(self, ringing: bool) -> None:
        """A remote party never calls out, so it never hears ringback."""

    def backlog(self) -> int:
        return len(self._rx)


class Exchange:
    """A simulated telephone exchange with fake modem lines (see design.md).

    Use as ``async with Exchange(time_scale=0.05) as ex``.  ``throttle=True``
    paces call data at the connect rate (rate/10 bytes per protocol second), in
    small batches on one shared tick (:mod:`modemctl.fake.pacing`).
    """

    def __init__(self, time_scale: float = 1.0, *, throttle: bool = False,
                 training_time: float = TRAINING_TIME, directory: str | Path | None = None
                 ) -> None:
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, not {time_scale!r}")
        self.time_scale = time_scale
        self.throttle = throttle
        self.training_time = training_time
        self._dir_arg = Path(directory) if directory is not None else None
        self.directory = Path()
        self._own_dir = False
        self._clock: LoopClock | None = None
        self._lines: dict[str, FakeLine] = {}
        self._circuits: dict[int, Circuit] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._plug_listeners: list[Callable[[], None]] = []
        self._ticker: PacingTicker | None = None

    # ------------------------------------------------------------------ life cycle
    async def __aenter__(self) -> Exchange:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def start(self) -> None:
        """Start the clock and create the directory for device links."""
        if self._clock is not None:
            return
        self._clock = LoopClock(self.time_scale)
        if self._dir_arg is None:
            self.directory = Path(tempfile.mkdtemp(prefix=LINK_DIR_PREFIX))
            self._own_dir = True
        else:
            self.directory = self._dir_arg
            self.directory.mkdir(parents=True, exist_ok=True)

    async def close(self) -> None:
        """End every call, close every line, remove the device links."""
        for number in list(self._lines):
            await self.remove_line(number)
        if self._ticker is not None:
            self._ticker.close()
            self._ticker = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
        self._clock = None

    @property
    def clock(self) -> LoopClock:
        if self._clock is None:
            raise ExchangeError("the exchange is not started (use 'async with Exchange()')")
        return self._clock

    @property
    def lines(self) -> Mapping[str, FakeLine]:
        """Lines by number (read-only view), unplugged ones included."""
        return MappingProxyType(self._lines)

    def plugged_lines(self) -> list[FakeLine]:
        """The lines whose device exists now (what ``modemctl ports`` should list)."""
        return [line for line in self._lines.values() if not line.unplugged]

    def on_plugging_changed(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener()`` whenever a line is unplugged or plugged back in (the CLI
        republishes its registry entry); returns a function that removes it."""
        self._plug_listeners.append(listener)
        return lambda: self._plug_listeners.remove(listener)

    async def add_line(self, number: str, personality: str = "conexant-v92",
                       rfc2217: bool = False, cancel_codes: CancelCodes = CANCEL_CODES
                       ) -> FakeLine:
        """Plug a new fake modem into the exchange under ``number``.

        ``cancel_codes`` are the ``(method, code)`` pairs the line's carrier
        honours as a per-call cancel code (``(("T", "*52"),)`` for a New
        Zealand network that uses ``*52``): any other prefix is just digits.
        """
        self.clock  # noqa: B018 - raises if not started
        if not isinstance(number, str) or not _NUMBER.fullmatch(number):
            raise ValueError(f"line number must be 1-32 of 0-9 * # +, not {number!r}")
        for method, code in cancel_codes:
            if method not in ("T", "P") or not _NUMBER.fullmatch(code) or "+" in code:
                raise ValueError(f"a cancel code is ('T' or 'P', digits), not {(method, code)!r}")
        if number in self._lines:
            raise LineExists(f"line {number} already exists")
        pers = load_personality(personality)
        line = FakeLine(self, number, pers, self.directory, rfc2217)
        line.cancel_codes = tuple(cancel_codes)
        await line.start()
        self._lines[number] = line
        return line

    async def remove_line(self, number: str) -> None:
        """Unplug a line for good: its call ends (far end NO CARRIER), its device goes."""
        line = self._line(number)
        circuit = self._circuits.get(id(line))
        if circuit is not None:
            self.end_circuit(circuit, by=line, reason="local")
        line.close()
        del self._lines[number]

    def _line(self, number: str) -> FakeLine:
        try:
            return self._lines[number]
        except KeyError:
            raise UnknownLine(number) from None

    def _pacing(self) -> PacingTicker:
        """The exchange's one pacing timer (made on first use: only throttled calls pace).

        Its tick is :data:`~modemctl.fake.pacing.PACE_TICK` protocol seconds, but never
        under :data:`MIN_REAL_TICK` real seconds, so a fast time scale does not turn
        pacing into a busy loop."""
        if self._ticker is None:
            clock = self.clock
            self._ticker = PacingTicker(clock, max(PACE_TICK, MIN_REAL_TICK / clock.time_scale))
        return self._ticker

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------------ test controls
    def set_line_dead(self, number: str, dead: bool) -> None:
        """A dead line has no dial tone (NO DIALTONE) and cannot be reached."""
        line = self._line(number)
        line.dead = dead
        circuit = self._circuits.get(id(line))
        if dead and circuit is not None and circuit.connected:
            self._lose_carrier(circuit, None)

    async def ring_in(self, number: str, caller: str | None = None, name: str | None = None,
                      *, max_rate: int = 33600, moh_timeout: int = 0, max_rings: int = 10
                      ) -> RemoteParty:
        """A third party calls line ``number``; see :class:`RemoteParty` for the outcomes.

        ``moh_timeout`` > 0 makes the party a V.92 modem that grants modem-on-hold.
        """
        line = self._line(number)
        party = RemoteParty(self, number, caller, name, max_rate, moh_timeout)
        record = CallRecord("in", caller)
        line.call_log.append(record)
        current = self._circuits.get(id(line))
        if line.unplugged or line.dead:
            record.outcome = "unreachable"
            party.settle("no-answer")
        elif current is not None and current.connected:
            outcome = self._call_waiting(line, current)
            party.settle(outcome)
            record.outcome = outcome
        elif not self._is_free(line):
            record.outcome = "busy"
            party.settle("busy")
        else:
            circuit = Circuit(party, line, cancel_cw=False)
            circuit.records[id(line)] = record
            party.circuit = circuit
            self._circuits[id(line)] = circuit
            circuit.tasks.append(self._spawn(self._ring(circuit, line, max_rings)))
        return party

    async def remote_hangup(self, number: str) -> None:
        """The far end of ``number``'s call hangs up: NO CARRIER on the line (and on a far
        fake line, which the exchange hangs up too)."""
        line = self._line(number)
        circuit = self._circuits.get(id(line))
        if circuit is None:
            raise NoCall(f"line {number} has no call")
        self.end_circuit(circuit, by=None, reason="remote")

    async def carrier_loss(self, number: str, duration: float | None = None) -> bool:
        """Interrupt the carrier of ``number``'s connected call for ``duration`` protocol
        seconds (None: for good).  Each modem survives by rule: ``(S10 - S9) * 100 ms >
        duration`` or S10 = 255.  Returns True when every modem rode it out."""
        line = self._line(number)
        circuit = self._circuits.get(id(line))
        if circuit is None or not circuit.connected:
            raise NoCall(f"line {number} has no connected call")
        return self._lose_carrier(circuit, duration)

    def _lose_carrier(self, circuit: Circuit, duration: float | None) -> bool:
        if circuit.fax and duration is not None:
            self._interrupt(circuit, duration)    # Class 1 has no S10: what is in flight suffers
            return True
        circuit.pending_reason = "carrier"
        lines = [e for e in circuit.ends() if isinstance(e, FakeLine)]
        if duration is None:
            self._finish(circuit)
            for end in circuit.ends():
                if isinstance(end, FakeLine):
                    end.dce.carrier_interruption(None)
                else:
                    end.end_remote_hangup()
            return False
        results = [line.dce.carrier_interruption(duration) for line in lines]
        return all(results)

    # ------------------------------------------------------------------ Switch (lines call these)
    def line_has_dial_tone(self, line: FakeLine) -> bool:
        return not line.dead

    def place_call(self, line: FakeLine, request: DialRequest) -> None:
        ringing = self._circuits.get(id(line))
        if ringing is not None:       # dialling out while being rung takes the line
            self.end_circuit(ringing, by=line, reason="local")
        segments = list(request.segments)
        cancel = False
        if segments:
            method, digits = segments[0]
            for code_method, code in line.cancel_codes:
                if method == code_method and digits.startswith(code):
                    cancel = True
                    segments[0] = (method, digits[len(code):])
                    break
        number = "".join(d for _, d in segments)
        record = CallRecord("out", number, dialled=request.dial_string, cancel_code=cancel)
        line.call_log.append(record)
        circuit = Circuit(line, None, cancel_cw=cancel)
        circuit.reverse = request.reverse
        circuit.records[id(line)] = record
        self._circuits[id(line)] = circuit
        target = self._lines.get(number)
        _log.debug("dial", line=line.number, number=number, cancel_cw=cancel)
        if line.dead or target is None or target.unplugged or target.dead:
            record.outcome = "unreachable"
            return  # nothing answers: the caller's S7 decides
        current = self._circuits.get(id(target))
        if current is not None and current.connected:
            outcome = self._call_waiting(target, current)
            if outcome == "busy":
                self._busy(line, circuit, record)
            else:
                record.outcome = "unanswered"
            return
        if not self._is_free(target):
            self._busy(line, circuit, record)
            return
        circuit.callee = target
        in_record = CallRecord("in", line.number)
        target.call_log.append(in_record)
        circuit.records[id(target)] = in_record
        self._circuits[id(target)] = circuit
        circuit.tasks.append(self._spawn(self._ring(circuit, target, None)))

    def _busy(self, line: FakeLine, circuit: Circuit, record: CallRecord) -> None:
        record.outcome = "busy"
        circuit.state = CircuitState.ENDED
        self._circuits.pop(id(line), None)
        line.dce.call_failed("busy")

    def answer(self, line: FakeLine) -> bool:
        circuit = self._circuits.get(id(line))
        if circuit is None or circuit.callee is not line \
                or circuit.state is not CircuitState.RINGING:
            return False
        for task in circuit.tasks:
            task.cancel()
        if any(isinstance(end, FakeLine) and end.fax_capable for end in circuit.ends()):
            self._fax_call(circuit)
            return True
        circuit.state = CircuitState.TRAINING
        circuit.tasks = [] if circuit.reverse else [self._spawn(self._train(circuit))]
        return True

    def _fax_call(self, circuit: Circuit) -> None:
        """A fax modem is at one end: the line is an audio path at once, and the modems
        find each other (or not: a data modem never hears its training and hits S7)."""
        circuit.state = CircuitState.CONNECTED
        circuit.fax = True
        for end in circuit.ends():
            record = circuit.records.get(id(end))
            if record is not None:
                record.outcome = "connected"
        fax_ends = [e for e in (circuit.callee, circuit.caller)
                    if isinstance(e, FakeLine) and e.fax_capable]
        for end in fax_ends:
            end.end_fax_connected()
        for end in circuit.ends():
            if isinstance(end, RemoteParty):
                end.settle("no-answer")      # a data caller hears CED and V.21: no modem

    def fax_send(self, line: FakeLine, signal: Signal) -> None:
        """Carry a fax signal to the far end, through any interruption of the line."""
        circuit = self._circuits.get(id(line))
        if circuit is None or not circuit.connected or not circuit.fax:
            return
        other = circuit.other(line)
        if not isinstance(other, FakeLine):
            return
        for start, end in circuit.interruptions:
            signal = damage(signal, start, end)
        other.end_fax_signal(signal)

    def hangup(self, line: FakeLine) -> None:
        circuit = self._circuits.get(id(line))
        if circuit is not None:
            self.end_circuit(circuit, by=line, reason="local")

    def send(self, line: FakeLine, data: bytes) -> None:
        circuit = self._circuits.get(id(line))
        if circuit is not None and circuit.connected:
            self.send_from(line, circuit, data)

    def send_from(self, end: CallEnd, circuit: Circuit, data: bytes) -> None:
        """Carry data from ``end`` to the other end, paced when throttling."""
        other = circuit.other(end)
        if other is None:
            return
        if not self.throttle or circuit.rate is None:
            other.end_deliver(data)
        else:
            pacer = circuit.pacers.get(id(end))
            if pacer is None:
                pacer = Pacer(self._pacing(), circuit.rate, other.end_deliver)
                circuit.pacers[id(end)] = pacer
            pacer.push(data)
        if isinstance(end, FakeLine) and id(end) not in circuit.paused \
                and self._in_flight(circuit, end) > FLOW_HIGH:
            end.pause_input()
            circuit.paused.add(id(end))
            circuit.tasks.append(self._spawn(self._resume_when_drained(circuit, end)))

    @staticmethod
    def _in_flight(circuit: Circuit, end: CallEnd) -> int:
        """Bytes sent by ``end`` that the far end's DTE has not taken yet."""
        other = circuit.other(end)
        pacer = circuit.pacers.get(id(end))
        return (pacer.pending if pacer is not None else 0) + (
            other.backlog() if other is not None else 0)

    async def _resume_when_drained(self, circuit: Circuit, end: FakeLine) -> None:
        try:
            # polled: part of the backlog sits in OS socket buffers, which signal nothing
            while circuit.connected and self._in_flight(circuit, end) > FLOW_LOW:  # noqa: ASYNC110
                await asyncio.sleep(FLOW_CHECK)
        finally:
            circuit.paused.discard(id(end))
            end.resume_input()

    def plugging_changed(self, line: FakeLine) -> None:
        """``line`` was unplugged or plugged back in: tell the listeners at once."""
        _log.debug("plugging", line=line.number, unplugged=line.unplugged)
        for listener in list(self._plug_listeners):
            listener()

    def far_moh_timeout(self, line: FakeLine) -> int:
        circuit = self._circuits.get(id(line))
        other = circuit.other(line) if circuit is not None and circuit.connected else None
        return other.moh_timeout if other is not None else 0

    # ------------------------------------------------------------------ internals
    def _is_free(self, line: FakeLine) -> bool:
        dce = line.dce
        return (id(line) not in self._circuits and not line.unplugged and not dce.off_hook
                and dce.current_state() is DceState.COMMAND)

    def _call_waiting(self, line: FakeLine, circuit: Circuit) -> CallWaitingOutcome:
        """A third party reaches ``line`` while it is in ``circuit`` (design.md rules 1-3)."""
        record = circuit.records.get(id(line))
        if circuit.cancel_cw and circuit.caller is line:
            if record is not None:
                record.call_waiting.append("suppressed")
            return "busy"
        if circuit.fax:
            # Class 1 has no carrier to lose between commands and V.92 +PCW acts only on
            # V.92 connections (firmware-notes/fax-call-waiting.md): the tone damages what
            # is in flight and the call goes on.
            self._interrupt(circuit, CW_INTERRUPTION_MS / 1000)
            if record is not None:
                record.call_waiting.append(CwOutcome.DAMAGED.value)
            return "waiting-ignored"
        far = circuit.other(line)
        circuit.pending_reason = "call-waiting"
        result = line.dce.call_waiting(far_grants_moh=far is not None and far.moh_timeout > 0)
        if result is not CwOutcome.DROPPED and circuit.state is not CircuitState.ENDED:
            circuit.pending_reason = None
        if record is not None:
            record.call_waiting.append(result.value)
        _log.debug("call waiting", line=line.number, outcome=result.value)
        return _CW_OUTCOMES[result]

    def _interrupt(self, circuit: Circuit, duration: float) -> None:
        now = self.clock.now()
        circuit.interruptions = [(s, e) for s, e in circuit.interruptions if e > now - 60.0]
        circuit.interruptions.append((now, now + duration))
        _log.debug("fax line interrupted", duration=duration)

    async def _ring(self, circuit: Circuit, line: FakeLine, max_rings: int | None) -> None:
        rings = 0
        try:
            while circuit.state is CircuitState.RINGING:
                if max_rings is not None and rings >= max_rings:
                    self.end_circuit(circuit, by=circuit.caller, reason="no-answer")
                    if isinstance(circuit.caller, RemoteParty):
                        circuit.caller.settle("no-answer")
                    return
                rings += 1
                line.dce.ring(True)
                circuit.caller.end_ringback(True)     # the caller hears the ring cycle
                await self.clock.sleep(RING_ON)
                if circuit.state is not CircuitState.RINGING:
                    return
                line.dce.ring(False)
                if rings == 1:
                    await self.clock.sleep(CID_DELAY)
                    if circuit.state is CircuitState.RINGING:
                        line.dce.caller_id(self._cid_fields(circuit.caller))
                    await self.clock.sleep(RING_OFF - CID_DELAY)
                else:
                    await self.clock.sleep(RING_OFF)
        finally:
            if line.dce.ringing:
                line.dce.ring(False)
            circuit.caller.end_ringback(False)    # answered, withdrawn or given up

    @staticmethod
    def _cid_fields(caller: CallEnd) -> list[tuple[str, str]]:
        if isinstance(caller, RemoteParty):
            return cid_fields(caller.caller, caller.name)
        return cid_fields(caller.label, None)

    async def _train(self, circuit: Circuit) -> None:
        await self.clock.sleep(self.training_time)
        if circuit.state is not CircuitState.TRAINING or circuit.callee is None:
            return
        circuit.state = CircuitState.CONNECTED
        circuit.rate = min(circuit.caller.max_rate, circuit.callee.max_rate)
        for end in circuit.ends():
            record = circuit.records.get(id(end))
            if record is not None:
                record.outcome = "connected"
                record.rate = circuit.rate
        circuit.callee.end_connected(circuit.rate)
        circuit.caller.end_connected(circuit.rate)

    def _finish(self, circuit: Circuit, by: CallEnd | None = None) -> CircuitState:
        """Mark ``circuit`` ended and unhook it; return the state it was in."""
        previous = circuit.state
        was_connected = previous is CircuitState.CONNECTED
        circuit.state = CircuitState.ENDED
        for task in circuit.tasks:
            task.cancel()
        for pacer in circuit.pacers.values():
            pacer.cancel()
        for end in circuit.ends():
            if self._circuits.get(id(end)) is circuit:
                del self._circuits[id(end)]
            record = circuit.records.get(id(end))
            if record is not None and was_connected and record.ended_by is None:
                reason = circuit.pending_reason
                if reason == "carrier" or reason == "call-waiting":
                    record.ended_by = reason
                else:
                    record.ended_by = "local" if end is by else "remote"
        return previous

    def end_circuit(self, circuit: Circuit, by: CallEnd | None, reason: EndReason) -> None:
        """End ``circuit`` because ``by`` hung up (None: the network cleared both ends)."""
        if circuit.state is CircuitState.ENDED:
            return
        if circuit.pending_reason is None:
            circuit.pending_reason = reason
        previous = self._finish(circuit, by)
        if previous in (CircuitState.RINGING, CircuitState.TRAINING):
            for record in circuit.records.values():
                if record.outcome == "pending":
                    record.outcome = "unanswered"
        for end in circuit.ends():
            if end is by:
                continue
            if previous is CircuitState.CONNECTED:
                end.end_remote_hangup()
            elif end is circuit.callee:
                end.end_offer_withdrawn()
            elif isinstance(end, RemoteParty):
                end.settle("no-answer")
        _log.debug("call ended", reason=circuit.pending_reason, previous=previous.value)


__all__ = ["CallEnd", "Circuit", "CircuitState", "Exchange", "ExchangeError", "LineExists",
           "NoCall", "RemoteParty", "UnknownLine"]
