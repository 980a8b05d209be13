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

from typing import Protocol

from modemctl.fake.callerid import mdmf
from modemctl.fake.callstate import CwOutcome, DceEvent, DceState, may, next_state
from modemctl.fake.clock import Clock, TimerHandle
from modemctl.fake.cmdline import LineAssembler
from modemctl.fake.commands import execute_line
from modemctl.fake.dialstring import DialPlan, DialRequest, Segments
from modemctl.fake.outcomes import SetupFailure
from modemctl.fake.personality import Personality
from modemctl.fake.settings import StoredSettings, factory_settings

ABORT_IGNORE = 0.125
"""Characters arriving this soon after the command line are not an abort (V.250 / §1.1)."""
TRAINING_TIME = 3.0
"""Protocol seconds of modem training between answer and CONNECT."""
CW_INTERRUPTION_MS = 300
"""A call-waiting tone interrupts the carrier this long (design.md rule 3)."""
RI_PULSE = 1.0
"""RI toggle length (protocol seconds) when +PCW=0 reports call waiting."""


class Telco(Protocol):
    """What the DCE needs from the telephone line it is plugged into."""

    def has_dial_tone(self) -> bool: ...
    def place_call(self, request: DialRequest) -> None: ...
    def answer(self) -> bool: ...
    def hangup(self) -> None: ...
    def send(self, data: bytes) -> None: ...
    def far_moh_timeout(self) -> int: ...


class Output(Protocol):
    """Where the DCE's bytes go (the line applies faults and writes the port)."""

    def echo(self, data: bytes) -> None: ...
    def response(self, infos: list[bytes], final: bytes | None) -> None: ...
    def unsolicited(self, data: bytes) -> None: ...
    def data(self, data: bytes) -> None: ...
    def lines_changed(self) -> None: ...


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
        self.sreg_pointer = 0
        """The register a bare ``?`` reads (the last one ``Sn`` named)."""
        # command-line assembly
        self._assembler = LineAssembler(personality.max_line, personality.echo_backspace)
        self._line_end_time = -1e9
        # dialing / online
        self._dial_timer: TimerHandle | None = None
        self._wait_timer: TimerHandle | None = None
        self._quiet_answer = False
        self._plus = 0
        self._last_rx = 0.0
        self._escape_timer: TimerHandle | None = None
        self._held_data = bytearray()
        self._carrier_timer: TimerHandle | None = None
        self._s1_timer: TimerHandle | None = None
        self._ri_timer: TimerHandle | None = None

    # ------------------------------------------------------------------ settings
    @property
    def registers(self) -> dict[int, int]:
        """Live S-register values (S1 included)."""
        return self.settings.regs

    @property
    def v92(self) -> dict[str, int]:
        """Live V.92 parameter values (empty on non-V.92 personalities)."""
        return self.settings.v92

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
        if self.settings.x == 0 or self.fclass != "0" or self.rate is None:
            return "CONNECT"
        return f"CONNECT {self.rate}"

    def _final(self, text: str) -> None:
        self.output.response([], self.format_result(text))

    def _unsolicited_result(self, text: str) -> None:
        data = self.format_result(text)
        if data:
            self.output.unsolicited(data)

    # ------------------------------------------------------------------ states
    def current_state(self) -> DceState:
        """The state now (a method, so type narrowing does not outlive a state change)."""
        return self.state

    def _go(self, event: DceEvent) -> None:
        self.state = next_state(self.state, event)

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """Bytes from the DTE."""
        if not data:
            return
        if self.state is DceState.ONLINE_DATA:
            self._feed_online(data)
            return
        if self.state in (DceState.DIALING, DceState.ANSWERING):
            if self._clock.now() - self._line_end_time >= ABORT_IGNORE:
                self._end_call("NO CARRIER")      # any character aborts the set-up
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

    def _feed_command_byte(self, byte: int) -> None:
        regs = self.settings.regs
        echo, line = self._assembler.push(byte, regs[3], regs[5])
        if echo and self.settings.echo:
            self.output.echo(echo)
        if line is None:
            return
        self._line_end_time = self._clock.now()
        if line.overflow:
            self._final("ERROR")
            return
        infos, ok, deferred = execute_line(self, line.body)
        if deferred:
            if infos:
                self.output.response(infos, None)
            return
        self.output.response(infos, self.format_result("OK" if ok else "ERROR"))

    # ------------------------------------------------------------------ dialing
    def dial(self, plan: DialPlan, dial_string: str) -> None:
        """Go off-hook and dial ``plan``: check dial tone, then dial after the dialling time."""
        regs = self.settings.regs
        duration = plan.duration
        fresh = not self.off_hook
        self.pulse_default = plan.pulse
        self._quiet_answer = plan.quiet_answer
        self._go(DceEvent.DIAL)
        x = self.settings.x
        detect = x in (2, 4) or x >= 5 or plan.wait_for_tone
        if fresh:
            self.off_hook = True
            if not detect:
                duration += regs[6]       # blind dialling: wait S6, then dial regardless
        if detect and not self.telco.has_dial_tone():
            # listen S6 seconds for a dial tone that never comes
            text = self.personality.no_dialtone_text
            self._dial_timer = self._clock.call_later(regs[6], lambda: self._setup_failed(text))
            return
        request = DialRequest(plan.segments, plan.quiet_answer, dial_string)
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
        quiet_dial = self._quiet_answer and self.state is DceState.DIALING
        self._end_call("NO ANSWER" if quiet_dial else "NO CARRIER")

    def call_failed(self, reason: SetupFailure) -> None:
        """The network reports a failed set-up: ``busy`` or ``no-carrier``."""
        if self.state is not DceState.DIALING:
            return
        busy = reason == "busy" and self.settings.x >= 3
        self._end_call("BUSY" if busy else "NO CARRIER")

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
        """O: back to online data with the held call (NO CARRIER if its carrier is gone)."""
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
        if self.state is DceState.ONLINE_DATA:
            self.output.data(data)
        elif self.state is DceState.ONLINE_COMMAND and self.call_up:
            self._held_data += data     # delivered on ATO; the exchange's flow control bounds it

    @property
    def held_backlog(self) -> int:
        """Far-end bytes kept during online-command state (counted by flow control)."""
        return len(self._held_data)

    def remote_hangup(self) -> None:
        """The far end cleared the call (orderly disconnect): NO CARRIER at once."""
        if self.call_up:
            self._end_call("NO CARRIER", notify=False)

    def carrier_interruption(self, duration: float | None) -> bool:
        """The carrier goes away for ``duration`` seconds (None: for good).

        Decided by rule, not by racing timers: the modem survives when
        ``(S10 - S9) * 100 ms > duration`` or S10 = 255.  A lost call ends with
        NO CARRIER after the S10-S9 delay; with S10 = 255 the modem stays
        off-hook without carrier (DCD off) until the DTE hangs up.
        """
        if not self.call_up:
            return True
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
                      self._carrier_timer):
            self._cancel(timer)
        self._dial_timer = self._wait_timer = self._escape_timer = self._carrier_timer = None
        self._go(DceEvent.HANG_UP)
        self.off_hook = False
        self.call_up = False
        self.carrier = False
        self.rate = None
        self._plus = 0
        self.pending_dial = ()
        self._held_data.clear()
        self.output.lines_changed()
        if notify and was_active:
            self.telco.hangup()

    def set_dtr(self, on: bool) -> None:
        """DTR from the DTE; a drop acts as &D says (§1.8)."""
        if on == self.dtr:
            return
        self.dtr = on
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
        self.output.lines_changed()

    @staticmethod
    def _cancel(timer: TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()
