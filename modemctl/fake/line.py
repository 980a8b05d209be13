"""One fake line: an interpreter (:class:`~modemctl.fake.dce.Dce`) behind a pty and,
optionally, an RFC 2217 server, plugged into the exchange.

The line is the glue and the only place with I/O for its modem: it feeds the
DTE's bytes to the interpreter, writes the interpreter's output to whichever
clients are attached, derives DTR (the RFC 2217 client's DTR when one is
connected, otherwise "is the pty open"), forwards telephony requests to the
exchange, and applies injected faults (:mod:`modemctl.fake.faults`) on the
way in and out.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from modemctl.fake.callstate import DceState
from modemctl.fake.clock import LoopClock
from modemctl.fake.dce import Dce
from modemctl.fake.dialstring import DialRequest
from modemctl.fake.faults import (
    FAULT_KINDS,
    FaultError,
    FaultState,
    blacklist_entry,
    garbage_bytes,
    param_float,
    param_lines,
    stored_profile,
    weave_response,
)
from modemctl.fake.faxwire import Signal
from modemctl.fake.outcomes import CallOutcome, Direction, EndedBy, LineState
from modemctl.fake.personality import Personality
from modemctl.fake.ports import PortSignals, PtyPort, Rfc2217Server
from modemctl.log import get_logger

_log = get_logger()

_LINE_STATES: dict[DceState, LineState] = {
    DceState.COMMAND: "command", DceState.DIALING: "dialing", DceState.ANSWERING: "answering",
    DceState.ONLINE_DATA: "online-data", DceState.ONLINE_COMMAND: "online-command",
    DceState.FAX: "fax",
}


@dataclass
class CallRecord:
    """One call attempt seen by a line, for assertions and the CLI."""

    direction: Direction           # "out" (this line dialled) or "in" (it was called)
    peer: str | None               # the other number, None if unknown
    dialled: str = ""              # the D string, for outgoing calls
    cancel_code: bool = False      # call-waiting cancel code dialled before the number
    outcome: CallOutcome = "pending"
    rate: int | None = None
    ended_by: EndedBy | None = None
    call_waiting: list[str] = field(default_factory=list)  # CwOutcome value of each CW event


#: Per-call cancel codes a line's carrier honours: ``(method, code)``, method
#: ``"T"`` (tone) or ``"P"`` (pulse), e.g. ``(("T", "*70"), ("P", "1170"))``.
CancelCodes = tuple[tuple[str, str], ...]


class Switch(Protocol):
    """What a line needs from the exchange."""

    @property
    def clock(self) -> LoopClock: ...

    def line_has_dial_tone(self, line: FakeLine) -> bool: ...
    def place_call(self, line: FakeLine, request: DialRequest) -> None: ...
    def answer(self, line: FakeLine) -> bool: ...
    def hangup(self, line: FakeLine) -> None: ...
    def send(self, line: FakeLine, data: bytes) -> None: ...
    def far_moh_timeout(self, line: FakeLine) -> int: ...
    def fax_send(self, line: FakeLine, signal: Signal) -> None: ...
    def plugging_changed(self, line: FakeLine) -> None: ...


class _Telco:
    """The interpreter's view of the network: this line's socket on the exchange."""

    def __init__(self, line: FakeLine) -> None:
        self._line = line

    def has_dial_tone(self) -> bool:
        return self._line.switch.line_has_dial_tone(self._line)

    def place_call(self, request: DialRequest) -> None:
        self._line.switch.place_call(self._line, request)

    def answer(self) -> bool:
        return self._line.switch.answer(self._line)

    def hangup(self) -> None:
        self._line.switch.hangup(self._line)

    def send(self, data: bytes) -> None:
        self._line.switch.send(self._line, data)

    def far_moh_timeout(self) -> int:
        return self._line.switch.far_moh_timeout(self._line)

    def fax_send(self, signal: Signal) -> None:
        self._line.switch.fax_send(self._line, signal)


class FakeLine:
    """A fake modem on a simulated telephone line (see :class:`~modemctl.fake.Exchange`)."""

    def __init__(self, switch: Switch, number: str, personality: Personality, directory: Path,
                 rfc2217: bool) -> None:
        self.switch = switch
        self.number = number
        self.spec = personality
        """The loaded personality (``personality`` is its name)."""
        self.dead = False
        self.unplugged = False
        self.call_log: list[CallRecord] = []
        #: What the line's carrier takes as a cancel code (set by Exchange.add_line).
        self.cancel_codes: CancelCodes = ()
        self.faults = FaultState()
        self._clock = switch.clock
        self._link = directory / f"tty{number}"
        self._want_rfc2217 = rfc2217
        self._pty: PtyPort | None = None
        self._rfc: Rfc2217Server | None = None
        self._rfc_port = 0
        self._rng = random.Random(number)
        # The ``slow`` fault's output not yet written: (is call data, bytes)
        # chunks in order, so that a hang-up can discard the call's data and
        # keep the result codes (see discard_data).
        self._slow_queue: deque[tuple[bool, bytearray]] = deque()
        self._slow_task: asyncio.Task[None] | None = None
        self._replug_task: asyncio.Task[None] | None = None
        self._input_paused = False
        self.dce = Dce(personality, self._clock, _Telco(self), self)
        self.dce.dtr = False
        self._log = _log.bind(line=number)

    # ------------------------------------------------------------------ public view
    @property
    def personality(self) -> str:
        return self.spec.name

    @property
    def port(self) -> str:
        """Device path (a symlink to the pty slave) that opens like /dev/ttyUSB0."""
        return str(self._link)

    @property
    def tty_path(self) -> str:
        """The pty slave device the symlink points at (``/dev/pts/N``); "" when unplugged."""
        return self._pty.tty_path if self._pty is not None else ""

    @property
    def url(self) -> str | None:
        """``rfc2217://127.0.0.1:PORT`` when served over RFC 2217, else None."""
        return self._rfc.url if self._rfc is not None else None

    @property
    def registers(self) -> dict[int, int]:
        """A snapshot of the S-registers."""
        return dict(self.dce.registers)

    @property
    def v92(self) -> dict[str, int]:
        return dict(self.dce.v92)

    @property
    def state(self) -> LineState:
        """``unplugged``, ``ringing`` or the interpreter state (``command``, ``online-data``)."""
        if self.unplugged:
            return "unplugged"
        if self.dce.ringing and self.dce.state is DceState.COMMAND:
            return "ringing"
        return _LINE_STATES[self.dce.state]

    @property
    def max_rate(self) -> int:
        return self.dce.max_rate

    @property
    def moh_timeout(self) -> int:
        """+PMHT when this modem would grant modem-on-hold to its far end, else 0."""
        if not self.spec.v92:
            return 0
        return self.dce.v92["PMHT"]

    # CallEnd (the exchange calls these) ---------------------------------------
    @property
    def label(self) -> str:
        return self.number

    def end_connected(self, rate: int) -> None:
        self.dce.connected(rate)

    def end_deliver(self, data: bytes) -> None:
        self.dce.remote_data(data)

    def end_remote_hangup(self) -> None:
        self.dce.remote_hangup()

    def end_offer_withdrawn(self) -> None:
        self.dce.offer_withdrawn()

    @property
    def fax_capable(self) -> bool:
        """True while the modem is set for a fax class the exchange carries (Class 1)."""
        return self.dce.in_class1

    def end_fax_connected(self) -> None:
        self.dce.fax_call_up()

    def end_fax_signal(self, signal: Signal) -> None:
        self.dce.fax_signal(signal)
    def end_ringback(self, ringing: bool) -> None:
        self.dce.ringback(ringing)

    # ------------------------------------------------------------------ life cycle
    async def start(self) -> None:
        self._open_pty()
        if self._want_rfc2217:
            try:
                await self._open_rfc2217()
            except BaseException:
                self._close_ports()      # no half-made line: the pty goes too
                raise
        self._log.debug("line up", port=self.port, url=self.url,
                        personality=self.personality)

    def _open_pty(self) -> None:
        self._pty = PtyPort(self._link, self._input, lambda _open: self._update_dtr())
        self._pty.open()

    async def _open_rfc2217(self) -> None:
        lines = PortSignals(lambda: (self.dce.dcd, self.dce.ri, self.dce.dsr, self.dce.cts),
                           lambda _on: self._update_dtr())
        self._rfc = Rfc2217Server(lines, self._input, lambda _c: self._update_dtr())
        await self._rfc.start(self._rfc_port)
        self._rfc_port = self._rfc.port

    def close(self) -> None:
        """Close the ports and stop background work (the exchange ends calls first)."""
        for task in (self._slow_task, self._replug_task):
            if task is not None:
                task.cancel()
        self._close_ports()

    def _close_ports(self) -> None:
        if self._pty is not None:
            self._pty.close()
            self._pty = None
        if self._rfc is not None:
            self._rfc.close()
            self._rfc = None

    # ------------------------------------------------------------------ DTE side
    def _input(self, data: bytes) -> None:
        if self.unplugged or self.faults.wedged:
            return
        if self._clock.now() < self.faults.stalled_until:
            return
        self.dce.feed(data)

    # Flow control (the exchange pauses a sender whose far end is not reading) ------
    def backlog(self) -> int:
        """Bytes this line's clients have not yet taken."""
        total = sum(len(chunk) for _, chunk in self._slow_queue) + self.dce.held_backlog
        if self._pty is not None:
            total += self._pty.backlog
        if self._rfc is not None:
            total += self._rfc.backlog
        return total

    @property
    def input_paused(self) -> bool:
        """True while flow control holds this line's DTE back (its far end is behind)."""
        return self._input_paused

    def pause_input(self) -> None:
        """Stop reading the DTE (like dropping CTS): its writes block in the port."""
        self._input_paused = True
        if self._pty is not None:
            self._pty.pause_reading()
        if self._rfc is not None:
            self._rfc.pause_reading()

    def resume_input(self) -> None:
        self._input_paused = False
        if self._pty is not None:
            self._pty.resume_reading()
        if self._rfc is not None:
            self._rfc.resume_reading()

    def _update_dtr(self) -> None:
        if self._rfc is not None and self._rfc.client_connected:
            dtr = self._rfc.client_dtr
        else:
            dtr = self._pty is not None and self._pty.client_open
        if not dtr and self.faults.wedged:
            self.faults.wedged = False
            self._log.debug("wedge cleared by DTR drop")
        self.dce.set_dtr(dtr)

    # Output protocol (the interpreter writes through these) ----------------
    def echo(self, data: bytes) -> None:
        self._emit(data)

    def response(self, infos: list[bytes], final: bytes | None) -> None:
        if final is not None and self.faults.lose_final:
            self.faults.lose_final -= 1
            final = None
        if self.faults.unsolicited and (infos or final is not None):
            extra = b"".join(self._format_unsolicited(t) for t in self.faults.unsolicited.pop(0))
            self._emit(b"".join(weave_response(infos, final, extra)))
            return
        self._emit(b"".join(infos) + (final or b""))

    def unsolicited(self, data: bytes) -> None:
        self._emit(data)

    def data(self, data: bytes) -> None:
        self._emit(data, call_data=True)

    def discard_data(self) -> None:
        """The DTE hung up: call data the ``slow`` fault still holds goes, as a
        real modem's transmit buffer does on ATH or a DTR drop (its result codes
        stay, in order).  What is already written to the port is the DTE's."""
        kept = [chunk for chunk in self._slow_queue if not chunk[0]]
        self._slow_queue.clear()
        self._slow_queue.extend(kept)

    def lines_changed(self) -> None:
        if self._rfc is not None:
            self._rfc.lines_changed()

    def flow_stop(self, stop: bool) -> None:
        """Class 1 hardware flow control: stop (or resume) reading the DTE."""
        if stop:
            self.pause_input()
        else:
            self.resume_input()

    def _format_unsolicited(self, text: str) -> bytes:
        return self.dce.format_result(text) or self.dce.format_info([text])

    def _emit(self, data: bytes, *, call_data: bool = False) -> None:
        if not data or self.unplugged or self.faults.wedged:
            return
        if self._clock.now() < self.faults.stalled_until:
            return
        if self.faults.slow_delay > 0 or self._slow_queue:
            self._slow_queue.append((call_data, bytearray(data)))
            if self._slow_task is None:
                self._slow_task = asyncio.get_running_loop().create_task(self._drain_slow())
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self._pty is not None:
            self._pty.write(data)
        if self._rfc is not None:
            self._rfc.write(data)

    async def _drain_slow(self) -> None:
        try:
            while self._slow_queue:
                if self.faults.slow_delay <= 0:
                    data = b"".join(chunk for _, chunk in self._slow_queue)
                    self._slow_queue.clear()
                    self._write(data)
                    break
                _, chunk = self._slow_queue[0]
                self._write(bytes(chunk[:1]))
                del chunk[:1]
                if not chunk:
                    self._slow_queue.popleft()
                await self._clock.sleep(self.faults.slow_delay)
        finally:
            self._slow_task = None

    # ------------------------------------------------------------------ faults
    def inject(self, kind: str, **params: Any) -> None:
        """Make the line misbehave; see :mod:`modemctl.fake.faults` for kinds and params."""
        if kind not in FAULT_KINDS:
            raise FaultError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self._log.debug("inject", kind=kind, params=params)
        f = self.faults
        if kind == "garbage":
            self._emit(garbage_bytes(params, self._rng))
        elif kind == "stall":
            f.stalled_until = self._clock.now() + param_float(params, "duration", 5.0)
        elif kind == "lose-final":
            count = params.get("count", 1)
            if not isinstance(count, int) or count < 1:
                raise FaultError("lose-final: count must be an int >= 1")
            f.lose_final += count
        elif kind == "unsolicited":
            f.unsolicited.append(param_lines(params))
        elif kind == "wedge":
            f.wedged = True
        elif kind == "slow":
            f.slow_delay = param_float(params, "delay", 0.01)
        elif kind == "clear":
            f.clear()
        elif kind == "reboot":
            self._reboot(params)
        elif kind == "stored-profile":
            self.dce.stored = stored_profile(params, self.dce.stored, self.spec)
            if params.get("reboot") is True and not self.unplugged:
                self._reboot({})
        elif kind == "blacklist":
            number, result = blacklist_entry(params, self.spec)
            if result is None:
                self.dce.blacklist.pop(number, None)
            else:
                self.dce.blacklist[number] = result
        elif kind == "replug":
            if self.unplugged:             # now, even if a timed replug is pending
                self._cancel_replug()
                self._replug_task = asyncio.get_running_loop().create_task(self._replug(0.0))
        else:
            self._unplug(param_float(params, "duration", 0.0) if "duration" in params else None)

    def _reboot(self, params: dict[str, Any]) -> None:
        banner = params.get("banner", self.spec.boot_banner)
        if not isinstance(banner, str | bytes):
            raise FaultError("reboot: banner must be str or bytes")
        self.faults.clear()
        self._slow_queue.clear()
        self.dce.power_cycle()
        self.switch.hangup(self)          # also an incoming call still ringing
        if banner:
            raw = banner.encode("latin-1") if isinstance(banner, str) else banner
            self._emit(raw)

    def _unplug(self, replug_after: float | None) -> None:
        if self.unplugged:
            return
        self.dce.power_cycle()           # the power goes with the device
        self.switch.hangup(self)
        self.unplugged = True
        self.faults.clear()
        self._slow_queue.clear()
        self._close_ports()
        self.dce.dtr = False
        self.switch.plugging_changed(self)
        if replug_after is not None:
            self._replug_task = asyncio.get_running_loop().create_task(
                self._replug(replug_after))

    async def replug(self) -> None:
        """Plug an unplugged line back in (see the ``replug`` fault); no-op if plugged in."""
        if self.unplugged:
            self._cancel_replug()
            await self._replug(0.0)

    def _cancel_replug(self) -> None:
        task, self._replug_task = self._replug_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _replug(self, after: float) -> None:
        try:
            if after > 0:
                await self._clock.sleep(after)
            self.dce.power_cycle()       # powered up: the stored profile, whatever it says now
            self.unplugged = False
            self._open_pty()
            if self._want_rfc2217:
                with contextlib.suppress(OSError):
                    await self._open_rfc2217()
        finally:
            if self._replug_task is asyncio.current_task():
                self._replug_task = None
        self._log.debug("replugged", port=self.port)
        self.switch.plugging_changed(self)
