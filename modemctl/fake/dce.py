"""The V.250 / Hayes DCE: bytes from the DTE in, bytes and telephony requests out.

:class:`Dce` is the modem's firmware without any I/O.  The line feeds it the
bytes the DTE wrote (:meth:`Dce.feed`); it answers through an
:class:`Output` (echo, responses, unsolicited lines, online data) and asks the
telephone network for things through a :class:`Telco` (dial tone?, place this
call, answer, hang up, send data).  The exchange reports back by calling
event methods (:meth:`Dce.ring`, :meth:`Dce.connected`, :meth:`Dce.call_failed`,
:meth:`Dce.remote_data`, :meth:`Dce.remote_hangup`,
:meth:`Dce.carrier_interruption`, :meth:`Dce.call_waiting`).  Timers (S6, S7,
S8, S10, S12 guard, S1 reset) run on a :class:`~modemctl.fake.clock.Clock`, so
tests drive a :class:`~modemctl.fake.clock.ManualClock` and check output byte
for byte.

The pieces live in their own modules: command lines are executed by the
handler tables of :mod:`~modemctl.fake.commands`, dial strings parsed by
:mod:`~modemctl.fake.dialstring`, the settings ``&W`` stores are
:class:`~modemctl.fake.settings.StoredSettings`, and the legal state changes
are the table in :mod:`~modemctl.fake.callstate`.  This class is the call
state machine that ties them to timers and the network.  Everything that
differs between modem families comes from the
:class:`~modemctl.fake.personality.Personality`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Protocol

from modemctl.fake.callerid import mdmf
from modemctl.fake.callstate import (
    CwOutcome,
    DceEvent,
    DceState,
    StateChange,
    may,
    next_state,
)
from modemctl.fake.clock import Clock, TimerHandle
from modemctl.fake.cmdline import LineAssembler
from modemctl.fake.commands import execute_line
from modemctl.fake.dialstring import DialPlan, DialRequest, Segments
from modemctl.fake.faxwire import Signal
from modemctl.fake.modulation import rate_cap
from modemctl.fake.outcomes import SetupFailure
from modemctl.fake.personality import CLASS1, Personality
from modemctl.fake.settings import StoredSettings, factory_settings
from modemctl.fake.t31 import T31
from modemctl.log import get_logger

_log = get_logger()

StateObserver = Callable[[StateChange], None]
"""Called with each :class:`~modemctl.fake.callstate.StateChange`
(see :meth:`Dce.on_state_change`)."""

ABORT_IGNORE = 0.125
"""Characters arriving this soon after the command line are not an abort (V.250 / §1.1)."""
TRAINING_TIME = 3.0
"""Protocol seconds of modem training between answer and CONNECT."""
CW_INTERRUPTION_MS = 300
"""A call-waiting tone interrupts the carrier this long (design.md rule 3)."""
RI_PULSE = 1.0
"""RI toggle length (protocol seconds) when +PCW=0 reports call waiting."""
REPEAT_PAUSE = 2.0
"""Protocol seconds between ``A>`` repetitions.  Assumption: [V5] says only "repeat
continuously"; a pause like a redial's keeps a repeated non-dial line from flooding."""
MOH_TIMEOUTS: tuple[float | None, ...] = (0, 10, 20, 30, 40, 60, 120, 180, 240, 360, 480, 720,
                                          960, None)
"""Seconds of modem-on-hold each ``+PMHT``/``+PMHR`` value grants (13: indefinite)
([V1 p.124; V3 p.112; V9 ZPX])."""
MOH_RETRAIN = TRAINING_TIME
"""Protocol seconds a modem retrains for when it comes back from hold.  Assumption: the
notes give no figure for V.92's quick reconnect; the fake's answer training time is used."""
MOH_FLASH = 0.5
"""``+PMHF``'s hook flash: about 0.5 s on-hook ([V9; V12 Tornado])."""


class Telco(Protocol):
    """What the DCE needs from the telephone line it is plugged into."""

    def has_dial_tone(self) -> bool: ...
    def place_call(self, request: DialRequest) -> None: ...
    def answer(self) -> bool: ...
    def hangup(self) -> None: ...
    def send(self, data: bytes) -> None: ...
    def far_moh_timeout(self) -> int: ...
    def fax_send(self, signal: Signal) -> None: ...


class Output(Protocol):
    """Where the DCE's bytes go (the line applies faults and writes the port)."""

    def echo(self, data: bytes) -> None: ...
    def response(self, infos: list[bytes], final: bytes | None) -> None: ...
    def unsolicited(self, data: bytes) -> None: ...
    def data(self, data: bytes) -> None: ...
    def discard_data(self) -> None:
        """Drop call data accepted by :meth:`data` but not yet out of the port
        (the modem's buffer toward the DTE; called when the DTE hangs up)."""
    def lines_changed(self) -> None: ...
    def flow_stop(self, stop: bool) -> None: ...


class Dce:
    """One modem's call state machine, with its command executor and settings (no I/O)."""

    def __init__(self, personality: Personality, clock: Clock, telco: Telco, output: Output
                 ) -> None:
        self.personality = personality
        self._clock = clock
        self.telco = telco
        self.output = output
        self.settings = factory_settings(personality)
        self.stored = self.settings.copy()
        self.fclass = "0"
        self.vcid = 0
        self.country = personality.country
        self.state = DceState.COMMAND
        self.off_hook = False
        self.call_up = False
        self.carrier = False
        self.rate: int | None = None
        self.dtr = True
        self.ri = False
        self.ringing = False
        self.pulse_default = False
        self.pending_dial: Segments = ()
        """Digits of a ``D...;`` dialled so far, which the next ``D`` continues."""
        self.numbers = [""] * personality.stored_numbers
        """``&Zn=`` dial strings: non-volatile, so neither ``Z``, ``&F`` nor a power
        cycle clears them ([V10 00000181])."""
        self.blacklist: dict[str, str] = {}
        """Numbers this modem refuses to dial, with the result (``DELAYED`` or
        ``BLACKLISTED``); set by the ``blacklist`` fault, gone at power-off
        (assumption: blacklists are kept in RAM)."""
        self.last_dial: str | None = None
        """The last dial string (``L`` redials it); volatile (assumption: kept in RAM)."""
        self.sreg_pointer = 0
        """The register a bare ``?`` reads (the last one ``Sn`` named)."""
        # command-line assembly
        self._assembler = LineAssembler(personality.max_line, personality.echo_backspace,
                                        personality.repeat_continuous)
        self._repeating = False
        """``A>`` is in force: the last line runs again after each result but CONNECT."""
        self._repeat_timer: TimerHandle | None = None
        self._repeat_body = b""
        self._line_end_time = -1e9
        # dialing / online
        self._dial_timer: TimerHandle | None = None
        self._wait_timer: TimerHandle | None = None
        self._quiet_answer = False
        self._ringback = False
        """The far end is ringing for the current dial (ringback heard, not ceased)."""
        self._plus = 0
        self._last_rx = 0.0
        self._escape_timer: TimerHandle | None = None
        self._held_data = bytearray()
        self._carrier_timer: TimerHandle | None = None
        self._s1_timer: TimerHandle | None = None
        self._ri_timer: TimerHandle | None = None
        self.fax = T31(self, personality.fax) if personality.fax is not None else None
        """The Class 1 engine (:mod:`~modemctl.fake.t31`), on personalities that offer it."""
        # modem-on-hold
        self.on_hold = False
        """Held by the far end (V.92 MOH): no carrier, data kept until the call resumes."""
        self._hold_timer: TimerHandle | None = None
        self._hold_tx = bytearray()
        self._connect_on_resume = False
        # state observers (a testing seam): subscription number -> callback
        self._observers: dict[int, StateObserver] = {}
        self._subscriptions = itertools.count()

    # ------------------------------------------------------------------ settings
    @property
    def clock(self) -> Clock:
        """The protocol clock the modem's timers run on."""
        return self._clock

    @property
    def line_end_time(self) -> float:
        """When the last command line ended (for the 125 ms abort rule)."""
        return self._line_end_time

    @property
    def in_class1(self) -> bool:
        """True when ``+FCLASS`` selects Class 1 / 1.0 on a modem that has it."""
        return self.fax is not None and self.fclass in CLASS1

    @property
    def registers(self) -> dict[int, int]:
        """Live S-register values (S1 included)."""
        return self.settings.regs

    @property
    def v92(self) -> dict[str, int]:
        """Live V.92 parameter values (empty on non-V.92 personalities)."""
        return self.settings.v92

    @property
    def max_rate(self) -> int:
        """The fastest this modem will connect now: its top rate, capped by ``+MS``."""
        pers, mod = self.personality, self.settings.modulation
        if mod is None:
            return pers.max_rate
        return rate_cap(mod, pers.modulations, pers.max_rate)

    @property
    def dcd(self) -> bool:
        """Data Carrier Detect as the DTE sees it (&C0: always on)."""
        return True if self.settings.amp_c == 0 else self.carrier

    @property
    def dsr(self) -> bool:
        """Data Set Ready: the modem is powered (&S0 behaviour)."""
        return True

    @property
    def cts(self) -> bool:
        """Clear To Send: always; flow control acts by not reading the DTE instead."""
        return True

    def factory(self) -> StoredSettings:
        """What ``&F`` loads: factory settings, V.92 kept where the firmware keeps it, S1 live."""
        fac = factory_settings(self.personality)
        if self.personality.v92_survive_factory:
            fac.v92 = dict(self.settings.v92)
        fac.regs[1] = self.settings.regs[1]
        return fac

    def restore(self, settings: StoredSettings) -> None:
        """Make ``settings`` live (Z, &F, reset); unstored registers go to their defaults."""
        s1 = self.settings.regs[1]
        self.settings = settings.copy()
        for num, spec in self.personality.registers.items():
            if not spec.stored:
                self.settings.regs[num] = spec.default
        self.settings.regs[1] = s1
        self.fclass = "0"
        self.vcid = 0
        self.output.lines_changed()

    def _cr(self) -> bytes:
        return bytes([self.settings.regs[3] & 0x7F])

    def _lf(self) -> bytes:
        return bytes([self.settings.regs[4] & 0x7F])

    # ------------------------------------------------------------------ output formatting
    def format_result(self, text: str) -> bytes | None:
        """A result code in the current V/Q format, or None when suppressed (Q1)."""
        if self.settings.quiet:
            return None
        cr, lf = self._cr(), self._lf()
        if self.settings.verbose:
            return cr + lf + text.encode("ascii") + cr + lf
        code = self.personality.numeric(text)
        if code is None and text.startswith("CONNECT"):
            code = self.personality.result_codes["CONNECT"]
        if code is None:
            return None
        return str(code).encode("ascii") + cr

    def format_info(self, lines: list[str]) -> bytes:
        """Information text: framed by CR LF in V1, ``text CR LF`` per line in V0."""
        cr, lf = self._cr(), self._lf()
        if self.settings.verbose:
            return cr + lf + (cr + lf).join(s.encode("latin-1") for s in lines) + cr + lf
        return b"".join(s.encode("latin-1") + cr + lf for s in lines)

    def _connect_text(self) -> str:
        if self.settings.x in self.personality.plain_connect_x or self.fclass != "0" \
                or self.rate is None:
            return "CONNECT"
        return f"CONNECT {self.rate}"

    def _final(self, text: str) -> None:
        self.output.response([], self.format_result(text))
        self._after_result(text)

    # ------------------------------------------------------------------ A> repetition
    def _after_result(self, text: str) -> None:
        """With ``A>`` in force, schedule the next run, unless the line connected."""
        if not self._repeating:
            return
        if text.startswith("CONNECT") or self.state is not DceState.COMMAND:
            self._repeating = False
            return
        self._cancel(self._repeat_timer)
        self._repeat_timer = self._clock.call_later(REPEAT_PAUSE, self._repeat)

    def _repeat(self) -> None:
        self._repeat_timer = None
        if self._repeating:
            self._execute(self._repeat_body)

    def stop_repeating(self) -> None:
        """End ``A>`` (a key from the DTE, a reset, a DTR drop)."""
        self._repeating = False
        self._cancel(self._repeat_timer)
        self._repeat_timer = None

    def refuse_dial(self, text: str) -> None:
        """A dial the modem will not start (a blacklisted number): ``text`` at once, on-hook."""
        self._final(text)

    def fax_result(self, text: str) -> None:
        """A Class 1 result (``CONNECT``, ``OK``, ``ERROR``, ``NO CARRIER``, ``+FCERROR``)."""
        if text == "+FCERROR" and not self.settings.verbose:
            if not self.settings.quiet:
                self.output.response([], b"+F4" + self._cr())
            return
        self._final(text)

    def _unsolicited_result(self, text: str) -> None:
        data = self.format_result(text)
        if data:
            self.output.unsolicited(data)

    # ------------------------------------------------------------------ states
    def current_state(self) -> DceState:
        """The state now (a method, so type narrowing does not outlive a state change)."""
        return self.state

    def on_state_change(self, observer: StateObserver) -> Callable[[], None]:
        """Call ``observer`` at every step the DCE takes through the state table;
        returns the function that unsubscribes it (calling that again does nothing).

        A testing seam: it lets a test or bench act at an exact point of a call
        (cancel a dial the moment the modem goes online, its ``CONNECT`` still
        unwritten) without reaching into the fake.  The observer runs
        synchronously, after the new state and the flags that go with it
        (``off_hook``, ``call_up``, ``carrier``, ``rate``) are set and before
        the DCE tells anyone: no result code, port-line change or network
        request of that step has gone out yet.  Observers run in subscription
        order and may unsubscribe (themselves or others) while being called.
        An observer must not drive the DCE (feed it, hang it up): that would
        nest a step inside a step; it should record, or schedule work (set an
        event, cancel a task).  One that raises is logged at error level and
        stays subscribed; the others are still called and the DCE's step goes
        on: an observer's bug never changes what the modem does.  A hang-up of
        a modem that is already idle (``ATZ``, a power cycle with nothing in
        progress) is not a step and is not reported.
        """
        key = next(self._subscriptions)
        self._observers[key] = observer

        def unsubscribe() -> None:
            self._observers.pop(key, None)
        return unsubscribe

    def _go(self, event: DceEvent) -> None:
        old = self.state
        self.state = next_state(old, event)
        if self._observers:
            self._notify(StateChange(old, event, self.state))

    def _notify(self, change: StateChange) -> None:
        for key, observer in list(self._observers.items()):
            if key not in self._observers:
                continue                # unsubscribed by an earlier observer of this step
            try:
                observer(change)
            except Exception:
                _log.error("fake state observer raised", old=change.old.value,
                           step=change.event.value, new=change.new.value, exc_info=True)

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Bytes from the DTE."""
        if not data:
            return
        if self.state is DceState.FAX and self.fax is not None and self.fax.busy:
            data = data[self.fax.feed(data):]     # a transfer's bytes; the rest are commands
            if not data:
                return
        if self.state is DceState.ONLINE_DATA:
            self._feed_online(data)
            return
        if self.state in (DceState.DIALING, DceState.ANSWERING):
            if self._clock.now() - self._line_end_time >= ABORT_IGNORE:
                self.stop_repeating()
                self._end_call("NO CARRIER")      # any character aborts the set-up
            return
        if self._repeating:
            self.stop_repeating()                 # "until a key is pressed": the key is eaten
            return
        for i, byte in enumerate(data):
            self._feed_command_byte(byte)
            state = self.current_state()
            if state is DceState.ONLINE_DATA and i + 1 < len(data):
                # e.g. "ATO\r" followed by data in the same write
                self._feed_online(data[i + 1:])
                return
            if state in (DceState.DIALING, DceState.ANSWERING):
                return  # the rest (a trailing LF) falls in the abort-ignore window
            if state is DceState.FAX and self.fax is not None and self.fax.busy \
                    and i + 1 < len(data):
                rest = data[i + 1:]
                used = self.fax.feed(rest)   # +FTH/+FTM data in the same write
                if used:
                    self.feed(rest[used:])
                    return

    def _feed_command_byte(self, byte: int) -> None:
        regs = self.settings.regs
        echo, line = self._assembler.push(byte, regs[3], regs[5])
        if echo and self.settings.echo:
            self.output.echo(echo)
        if line is None:
            return
        if line.overflow:
            self._final("ERROR")
            return
        if line.repeat:
            self._repeating = True
            self._repeat_body = line.body
        self._execute(line.body)

    def _execute(self, body: bytes) -> None:
        """Run one command line body (typed, ``A/`` or an ``A>`` repetition)."""
        self._line_end_time = self._clock.now()
        infos, ok, deferred = execute_line(self, body)
        if deferred:
            if infos:
                self.output.response(infos, None)
            return
        text = "OK" if ok else "ERROR"
        self.output.response(infos, self.format_result(text))
        self._after_result(text)

    # ------------------------------------------------------------------ dialing
    def dial(self, plan: DialPlan, dial_string: str) -> None:
        """Go off-hook and dial ``plan``: check dial tone, then dial after the dialling time."""
        regs = self.settings.regs
        duration = plan.duration
        fresh = not self.off_hook
        self.last_dial = dial_string
        self.pulse_default = plan.pulse
        self._quiet_answer = plan.quiet_answer
        self._ringback = False
        self.off_hook = True
        self._go(DceEvent.DIAL)
        x = self.settings.x
        detect = x in (2, 4) or x >= 5 or plan.wait_for_tone
        if fresh and not detect:
            duration += regs[6]           # blind dialling: wait S6, then dial regardless
        if detect and not self.telco.has_dial_tone():
            # listen S6 seconds for a dial tone that never comes
            text = self.personality.no_dialtone_text
            self._dial_timer = self._clock.call_later(regs[6], lambda: self._setup_failed(text))
            return
        request = DialRequest(plan.segments, plan.quiet_answer, dial_string, plan.reverse)
        self._dial_timer = self._clock.call_later(
            duration, lambda: self._dialled(request, plan.stay_in_command))

    def _dialled(self, request: DialRequest, stay_in_command: bool) -> None:
        self._dial_timer = None
        if self.state is not DceState.DIALING:
            return
        if stay_in_command:
            self.pending_dial = request.segments
            self._go(DceEvent.DIALLED)
            self._final("OK")
            return
        self.pending_dial = ()
        self._wait_timer = self._clock.call_later(self.settings.regs[7], self._wait_expired)
        self.telco.place_call(request)

    def _setup_failed(self, text: str) -> None:
        self._dial_timer = None
        if self.state is DceState.DIALING:
            self._end_call(text)

    def _wait_expired(self) -> None:
        self._wait_timer = None
        if self.state not in (DceState.DIALING, DceState.ANSWERING):
            return
        dialing = self.state is DceState.DIALING
        no_answer = dialing and (self._quiet_answer or (
            self._ringback and self.personality.no_answer_on_ringback))
        self._end_call("NO ANSWER" if no_answer else "NO CARRIER")

    def ringback(self, ringing: bool = True) -> None:
        """The called line rings once more (``ringing``: the caller hears a ringback
        cycle), or has stopped ringing (answered or withdrawn: ringback ceased, so S7
        running out is NO CARRIER, not NO ANSWER)."""
        if self.state is not DceState.DIALING:
            return
        self._ringback = ringing
        if not ringing:
            return
        pers = self.personality
        if pers.ringback_text and self.settings.x >= pers.ringback_min_x:
            self._unsolicited_result(pers.ringback_text)

    def call_failed(self, reason: SetupFailure) -> None:
        """The network reports a failed set-up: ``busy`` or ``no-carrier``.

        A busy tone is only heard with busy detection on (X3 and up, §1.3; Agere
        X0-X2 "ignore any busy tones", Toshiba V.90 X table): then BUSY at once.
        Below X3 the modem keeps waiting for a carrier that never comes, so S7
        ends the attempt with NO CARRIER (NO ANSWER with ``@``), as with no answer;
        Conexant's X0 text says a busy line "is reported as NO CARRIER" (§1.3 [V1]).
        """
        if self.state is not DceState.DIALING:
            return
        if reason == "busy":
            if self.settings.x >= 3:
                self._end_call("BUSY")
            return
        self._end_call("NO CARRIER")

    # ------------------------------------------------------------------ answering / ringing
    def answer(self) -> None:
        """Go off-hook to answer (A, or S0 auto-answer) and wait S7 for carrier."""
        self.off_hook = True
        self._go(DceEvent.ANSWER)
        self._quiet_answer = False
        self._set_s1(0)
        self._wait_timer = self._clock.call_later(self.settings.regs[7], self._wait_expired)
        self.telco.answer()

    def ring(self, on: bool) -> None:
        """The line rings (``on``) or falls silent between rings."""
        self.ringing = on
        self.ri = on
        self.output.lines_changed()
        if not on:
            return
        self._set_s1(min(self.settings.regs[1] + 1, 255))
        if self._s1_timer is not None:
            self._s1_timer.cancel()
        self._s1_timer = self._clock.call_later(self.personality.ring_counter_reset,
                                                lambda: self._set_s1(0))
        if self.state is DceState.COMMAND and not self.off_hook:
            self._unsolicited_result("RING")
            s0 = self.settings.regs[0]
            dtr_blocks = not self.dtr and self.settings.amp_d == 2
            if s0 and self.settings.regs[1] >= s0 and not dtr_blocks:
                self.answer()

    def _set_s1(self, value: int) -> None:
        self.settings.regs[1] = value

    def caller_id(self, fields: list[tuple[str, str]]) -> None:
        """Caller ID between the first and second ring, shown when +VCID=1 (or 2)."""
        if not self.personality.caller_id or self.vcid == 0:
            return
        if self.state is not DceState.COMMAND or self.off_hook:
            return
        if self.vcid == 2:
            self.output.unsolicited(self.format_info([mdmf(fields).hex().upper()]))
            return
        self.output.unsolicited(self.format_info([f"{k} = {v}" for k, v in fields]))

    def fax_call_up(self) -> None:
        """The exchange put a fax call through: the Class 1 engine takes over the set-up
        (CED then V.21 when answering; CNG and the implied +FRH=3 when calling)."""
        if self.fax is not None and self.state in (DceState.DIALING, DceState.ANSWERING):
            self.fax.call_up(answering=self.state is DceState.ANSWERING)

    def fax_online(self) -> None:
        """The fax call is established (V.21 heard or sent): off-hook in fax state."""
        if not may(self.state, DceEvent.FAX_CONNECT):
            return
        self._cancel(self._wait_timer)
        self._wait_timer = None
        self.ringing = self.ri = False
        self.call_up = True
        self.carrier = True
        self._set_s1(0)
        self._go(DceEvent.FAX_CONNECT)
        self.output.lines_changed()

    def fax_signal(self, signal: Signal) -> None:
        """A fax signal from the far modem (see :mod:`~modemctl.fake.faxwire`)."""
        if self.fax is not None and self.off_hook:
            self.fax.signal(signal)

    def offer_withdrawn(self) -> None:
        """The caller gave up before the call was answered."""
        if self.state is DceState.ANSWERING:
            return  # keeps waiting for carrier until S7, like a real modem
        self.ringing = False
        if self.ri:
            self.ri = False
            self.output.lines_changed()

    # ------------------------------------------------------------------ connected call
    def connected(self, rate: int) -> None:
        """Training finished: both modems report CONNECT."""
        if not may(self.state, DceEvent.CONNECT):
            return
        self._cancel(self._wait_timer)
        self._wait_timer = None
        self.ringing = False
        self.ri = False
        self.call_up = True
        self.carrier = True
        self.rate = rate
        self._set_s1(0)
        self._go(DceEvent.CONNECT)
        self._enter_online()
        self._final(self._connect_text())

    def _enter_online(self) -> None:
        self._plus = 0
        self._last_rx = self._clock.now()
        self.output.lines_changed()

    def _feed_online(self, data: bytes) -> None:
        now = self._clock.now()
        regs = self.settings.regs
        s2 = regs[2]
        guard = regs[12] * 0.02
        if s2 > 127:
            pluses = 0
            self._plus = 0
        else:
            # Only the trailing run of escape characters can matter: any other byte resets
            # the count, and bytes after it in the same chunk arrive inside the guard time.
            head = data.rstrip(bytes([s2]))
            pluses = len(data) - len(head)
            if head:
                self._plus = 0
                self._last_rx = now
        for _ in range(pluses):
            if self._plus == 0:
                self._plus = 1 if guard == 0 or now - self._last_rx >= guard else 0
            elif self._plus < 3 and (guard == 0 or now - self._last_rx < guard):
                self._plus += 1
            else:
                self._plus = 0
            self._last_rx = now
        self._last_rx = now
        self._cancel(self._escape_timer)
        self._escape_timer = None
        if self.on_hold:
            self._hold_tx += data       # sent when the call resumes
        else:
            self.telco.send(data)
        if self._plus == 3:
            if guard == 0:
                self._escape()
            else:
                self._escape_timer = self._clock.call_later(guard, self._escape)

    def _escape(self) -> None:
        self._escape_timer = None
        if self.state is not DceState.ONLINE_DATA or self._plus != 3:
            return
        self._plus = 0
        self._go(DceEvent.ESCAPE)
        self._final("OK")

    def return_online(self) -> None:
        """O: back to online data with the held call (NO CARRIER if its carrier is gone).

        On modem-on-hold the call is still there: the DCE goes back online and says
        CONNECT when the call resumes after its retrain."""
        if self.on_hold:
            self._go(DceEvent.RETURN_ONLINE)
            self._enter_online()
            self._connect_on_resume = True
            return
        if not self.carrier:
            self._end_call("NO CARRIER")
            return
        self._go(DceEvent.RETURN_ONLINE)
        self._enter_online()
        self._final(self._connect_text())
        if self._held_data:
            held = bytes(self._held_data)
            self._held_data.clear()
            self.output.data(held)

    def remote_data(self, data: bytes) -> None:
        """Bytes from the far end of the call."""
        if self.state is DceState.ONLINE_DATA and not self.on_hold:
            self.output.data(data)
        elif self.call_up and (self.on_hold or self.state is DceState.ONLINE_COMMAND):
            self._held_data += data     # delivered on ATO; the exchange's flow control bounds it

    @property
    def held_backlog(self) -> int:
        """Far-end bytes kept during online-command state (counted by flow control)."""
        return len(self._held_data)

    def remote_hangup(self) -> None:
        """The far end cleared the call (orderly disconnect): NO CARRIER at once.

        In fax state only a modem in a transfer notices (Class 1 has no carrier
        between commands); one in fax command state goes on-hook silently.
        """
        if self.state is DceState.FAX and self.fax is not None:
            text = self.fax.remote_hangup()
            self.hang_up(notify=False)
            if text is not None:
                self._final(text)
            return
        if self.call_up:
            self._end_call("NO CARRIER", notify=False)

    def carrier_interruption(self, duration: float | None) -> bool:
        """The carrier goes away for ``duration`` seconds (None: for good).

        Decided by rule, not by racing timers: the modem survives when
        ``(S10 - S9) * 100 ms > duration`` or S10 = 255.  A lost call ends with
        NO CARRIER after the S10-S9 delay; with S10 = 255 the modem stays
        off-hook without carrier (DCD off) until the DTE hangs up.
        """
        if not self.call_up or self.on_hold:
            return True                 # on hold there is no carrier to interrupt
        s9, s10 = self.settings.regs[9], self.settings.regs[10]
        self.carrier = False
        self.output.lines_changed()
        if duration is not None:
            survive = s10 == 255 or (s10 - s9) * 100 > round(duration * 1000)
            if survive:
                self._carrier_timer = self._clock.call_later(duration, self._carrier_back)
                return True
        if s10 == 255:
            return duration is not None
        self._cancel(self._carrier_timer)
        self._carrier_timer = self._clock.call_later(max(s10 - s9, 0) / 10, self._carrier_gone)
        return False

    def _carrier_back(self) -> None:
        self._carrier_timer = None
        if self.call_up:
            self.carrier = True
            self.output.lines_changed()

    def _carrier_gone(self) -> None:
        self._carrier_timer = None
        if self.call_up:
            self._end_call("NO CARRIER")

    def call_waiting(self, far_grants_moh: bool) -> CwOutcome:
        """A third party calls while this modem is in a call (design.md rules 2-3).

        Rule 1 (cancel code) is the exchange's: it never calls this then.
        """
        if not self.call_up:
            return CwOutcome.IGNORED
        pers, v92 = self.personality, self.settings.v92
        if pers.call_waiting_text and self.settings.x >= pers.call_waiting_min_x \
                and self.state is DceState.ONLINE_COMMAND:
            self._unsolicited_result(pers.call_waiting_text)
        if pers.v92:
            if v92["PCW"] == 2:
                return CwOutcome.IGNORED
            if v92["PCW"] == 1:
                self._end_call("NO CARRIER")
                return CwOutcome.DROPPED
            self._pulse_ri()
            if v92["PMH"] == 0:
                if far_grants_moh:
                    self._hold(self.telco.far_moh_timeout())
                    return CwOutcome.HELD
                self._end_call("NO CARRIER")
                return CwOutcome.DROPPED
        s10 = self.settings.regs[10]
        if pers.cw_detect_s10_min is not None and s10 >= pers.cw_detect_s10_min \
                and self.country in pers.cw_detect_countries:
            self._end_call("NO CARRIER")
            return CwOutcome.DROPPED
        if self.carrier_interruption(CW_INTERRUPTION_MS / 1000):
            return CwOutcome.RODE_THROUGH
        return CwOutcome.DROPPED

    # ------------------------------------------------------------------ modem-on-hold
    def _hold(self, granted: int) -> None:
        """The far end granted modem-on-hold for ``granted`` (a +PMHT value): the carrier
        goes, data waits, and after the granted time the modem retrains and resumes."""
        self.on_hold = True
        self.carrier = False
        self.output.lines_changed()
        seconds = MOH_TIMEOUTS[min(max(granted, 0), len(MOH_TIMEOUTS) - 1)]
        if seconds is not None:
            self._hold_timer = self._clock.call_later(seconds, self._retrain)

    def flash_hold(self) -> None:
        """``+PMHF``: a hook flash back to the held data call, before the granted time ends."""
        self._cancel(self._hold_timer)
        self._hold_timer = self._clock.call_later(MOH_FLASH, self._retrain)

    def _retrain(self) -> None:
        self._hold_timer = self._clock.call_later(MOH_RETRAIN, self._resume)

    def _resume(self) -> None:
        self._hold_timer = None
        if not (self.call_up and self.on_hold):
            return
        self.on_hold = False
        self.carrier = True
        self.output.lines_changed()
        if self._hold_tx:
            self.telco.send(bytes(self._hold_tx))
            self._hold_tx.clear()
        if self.state is not DceState.ONLINE_DATA:
            return                               # online command: delivered on ATO
        if self._connect_on_resume:
            self._connect_on_resume = False
            self._final(self._connect_text())
        if self._held_data:
            held = bytes(self._held_data)
            self._held_data.clear()
            self.output.data(held)

    def _pulse_ri(self) -> None:
        self.ri = True
        self.output.lines_changed()
        self._cancel(self._ri_timer)

        def off() -> None:
            self.ri = False
            self.output.lines_changed()
        self._ri_timer = self._clock.call_later(RI_PULSE, off)

    # ------------------------------------------------------------------ hang-up, DTR, reset
    def _end_call(self, result: str, *, notify: bool = True) -> None:
        """The one way a call or call set-up ends: on-hook, then ``result`` to the DTE.

        ``notify`` is False only when the network ended it (the far end hung up).
        """
        self.hang_up(notify=notify)
        self._final(result)

    def hang_up(self, notify: bool = True) -> None:
        """Go on-hook from any state; tell the network unless it told us."""
        was_active = self.off_hook or self.call_up or self.state is not DceState.COMMAND
        for timer in (self._dial_timer, self._wait_timer, self._escape_timer,
                      self._carrier_timer, self._hold_timer):
            self._cancel(timer)
        self._dial_timer = self._wait_timer = self._escape_timer = self._carrier_timer = None
        self._hold_timer = None
        self.on_hold = self._connect_on_resume = False
        self._hold_tx.clear()
        self.off_hook = False
        self.call_up = False
        self.carrier = False
        self.rate = None
        self._plus = 0
        self.pending_dial = ()
        self._held_data.clear()
        if notify:
            # A hang-up of the DTE's (ATH, DTR drop, ATZ) discards the call data
            # still buffered toward the DTE: nobody will read it, and a modem's
            # result codes never wait behind a dead call's data.  One the far end
            # ended (notify False) delivers it first, then NO CARRIER.
            self.output.discard_data()
        if was_active:
            self._go(DceEvent.HANG_UP)
        if self.fax is not None:
            self.fax.reset()
        self.output.lines_changed()
        if notify and was_active:
            self.telco.hangup()

    def set_dtr(self, on: bool) -> None:
        """DTR from the DTE; a drop acts as &D says (§1.8)."""
        if on == self.dtr:
            return
        self.dtr = on
        if not on:
            self.stop_repeating()
        if on:
            return
        mode = self.settings.amp_d
        if mode == 1 and self.state is DceState.ONLINE_DATA:
            self._go(DceEvent.ESCAPE)
            self._final("OK")
        elif mode == 2:
            if self.call_up or self.state in (DceState.DIALING, DceState.ANSWERING):
                self._end_call("NO CARRIER")
            else:
                self.hang_up()
        elif mode == 3:
            self.reset()

    def reset(self) -> None:
        """Soft reset: on-hook, stored settings back (ATZ, &D3)."""
        self.stop_repeating()
        self.hang_up()
        self.restore(self.stored)
        self._assembler.reset()

    def power_cycle(self) -> None:
        """Power off and on (reboot, replug): the stored settings come back and
        everything volatile goes, the ring counter and dialling method too."""
        self.reset()
        for timer in (self._s1_timer, self._ri_timer):
            self._cancel(timer)
        self._s1_timer = self._ri_timer = None
        self.settings.regs[1] = 0
        self.ringing = self.ri = False
        self.pulse_default = False
        self.sreg_pointer = 0
        self.last_dial = None
        self.blacklist.clear()
        self.output.lines_changed()

    @staticmethod
    def _cancel(timer: TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
