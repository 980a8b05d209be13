"""The V.250 / Hayes DCE interpreter: bytes from the DTE in, bytes and telephony requests out.

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

States follow V.250: *command* (on- or off-hook), *dialing* / *answering*
(abortable call set-up), *online data*, and *online command* (after a guarded
``+++`` escape, call held).  Everything that differs between modem families
comes from the :class:`~modemctl.fake.personality.Personality`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Protocol

from modemctl.fake.callerid import mdmf
from modemctl.fake.clock import Clock, TimerHandle
from modemctl.fake.cmdline import LineAssembler
from modemctl.fake.personality import V92_PARAMS, Personality

ABORT_IGNORE = 0.125
"""Characters arriving this soon after the command line are not an abort (V.250 / §1.1)."""
TRAINING_TIME = 3.0
"""Protocol seconds of modem training between answer and CONNECT."""
CW_INTERRUPTION_MS = 300
"""A call-waiting tone interrupts the carrier this long (design.md rule 3)."""
RI_PULSE = 1.0
"""RI toggle length (protocol seconds) when +PCW=0 reports call waiting."""


class DceState(enum.Enum):
    """Where the interpreter is in the V.250 state machine."""

    COMMAND = "command"
    DIALING = "dialing"
    ANSWERING = "answering"
    ONLINE_DATA = "online-data"
    ONLINE_COMMAND = "online-command"


class CwOutcome(enum.Enum):
    """What a modem in a call did when call waiting interrupted it."""

    IGNORED = "ignored"            # +PCW=2: the modem ignores the tone
    RODE_THROUGH = "rode-through"  # the 300 ms interruption was shorter than S10-S9
    HELD = "held"                  # modem-on-hold granted by the far end, call resumes
    DROPPED = "dropped"            # NO CARRIER: the data session is lost


@dataclass(frozen=True)
class DialRequest:
    """A call the DCE asks the network to place.

    ``segments`` are the dialled digits grouped by dialling method (``"T"``
    tone, ``"P"`` pulse) in order, so the exchange can recognise a call-waiting
    cancel code (``*70`` by tone, ``1170`` by pulse) before the number.
    """

    segments: tuple[tuple[str, str], ...]
    quiet_answer: bool
    dial_string: str

    @property
    def digits(self) -> str:
        """All dialled digits, in order, without method."""
        return "".join(d for _, d in self.segments)


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


@dataclass
class Profile:
    """The settings &W stores and Z restores."""

    echo: int = 1
    quiet: int = 0
    verbose: int = 1
    x: int = 4
    amp_c: int = 1
    amp_d: int = 2
    regs: dict[int, int] = field(default_factory=dict)
    v92: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Profile:
        return replace(self, regs=dict(self.regs), v92=dict(self.v92),
                       accepted=dict(self.accepted))


def factory_profile(pers: Personality) -> Profile:
    """The &F configuration of a personality."""
    return Profile(regs={n: r.default for n, r in pers.registers.items()},
                   v92=dict(pers.v92_defaults),
                   accepted={name: lo for name, (lo, _hi) in pers.accepted.items()})


class _CommandError(Exception):
    """Internal: the current command failed, stop executing the line."""


_DIAL_DIGITS = frozenset("0123456789ABCD*#+")


class Dce:
    """One modem's command interpreter and call state machine (no I/O)."""

    def __init__(self, personality: Personality, clock: Clock, telco: Telco, output: Output
                 ) -> None:
        self.personality = personality
        self._clock = clock
        self._telco = telco
        self._out = output
        self.profile = factory_profile(personality)
        self.stored = self.profile.copy()
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
        # command-line assembly
        self._assembler = LineAssembler(personality.max_line, personality.echo_backspace)
        self._sreg_pointer = 0
        self._line_end_time = -1e9
        # dialing / online
        self._pending_dial: list[tuple[str, str]] = []
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
        return self.profile.regs

    @property
    def v92(self) -> dict[str, int]:
        """Live V.92 parameter values (empty on non-V.92 personalities)."""
        return self.profile.v92

    @property
    def dcd(self) -> bool:
        """Data Carrier Detect as the DTE sees it (&C0: always on)."""
        return True if self.profile.amp_c == 0 else self.carrier

    @property
    def dsr(self) -> bool:
        """Data Set Ready: the modem is powered (&S0 behaviour)."""
        return True

    @property
    def cts(self) -> bool:
        """Clear To Send: always; flow control acts by not reading the DTE instead."""
        return True

    def _cr(self) -> bytes:
        return bytes([self.profile.regs[3] & 0x7F])

    def _lf(self) -> bytes:
        return bytes([self.profile.regs[4] & 0x7F])

    # ------------------------------------------------------------------ output formatting
    def format_result(self, text: str) -> bytes | None:
        """A result code in the current V/Q format, or None when suppressed (Q1)."""
        if self.profile.quiet:
            return None
        cr, lf = self._cr(), self._lf()
        if self.profile.verbose:
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
        if self.profile.verbose:
            return cr + lf + (cr + lf).join(s.encode("latin-1") for s in lines) + cr + lf
        return b"".join(s.encode("latin-1") + cr + lf for s in lines)

    def _connect_text(self) -> str:
        if self.profile.x == 0 or self.fclass != "0" or self.rate is None:
            return "CONNECT"
        return f"CONNECT {self.rate}"

    def _final(self, text: str) -> None:
        self._out.response([], self.format_result(text))

    def _unsolicited_result(self, text: str) -> None:
        data = self.format_result(text)
        if data:
            self._out.unsolicited(data)

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
                self._abort_setup()
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

    def current_state(self) -> DceState:
        """The state now (a method, so type narrowing does not outlive a state change)."""
        return self.state

    def _feed_command_byte(self, byte: int) -> None:
        regs = self.profile.regs
        echo, line = self._assembler.push(byte, regs[3], regs[5])
        if echo and self.profile.echo:
            self._out.echo(echo)
        if line is None:
            return
        self._line_end_time = self._clock.now()
        if line.overflow:
            self._final("ERROR")
        else:
            self._execute(line.body)

    # ------------------------------------------------------------------ execution
    def _execute(self, body: bytes) -> None:
        """Run one command line: stop at the first error, report only the last result."""
        text = body.decode("ascii", "replace")
        infos: list[bytes] = []
        pos = 0
        try:
            while pos < len(text):
                pos, deferred = self._one_command(text, pos, infos)
                if deferred:
                    if infos:
                        self._out.response(infos, None)
                    return
        except _CommandError:
            self._out.response(infos, self.format_result("ERROR"))
            return
        self._out.response(infos, self.format_result("OK"))

    def _one_command(self, text: str, pos: int, infos: list[bytes]) -> tuple[int, bool]:
        """Execute the command at ``pos``; return (next position, result deferred?)."""
        ch = text[pos].upper()
        if ch == " ":
            return pos + 1, False
        if ch == "+":
            return self._extended(text, pos + 1, infos), False
        if ch in "&\\%":
            if pos + 1 >= len(text):
                raise _CommandError
            name = ch + text[pos + 1].upper()
            num, nxt = _number(text, pos + 2)
            self._basic(name, num, infos)
            return nxt, False
        if ch == "D":
            self._dial(text[pos + 1:])
            return len(text), True
        if ch == "S":
            return self._sreg(text, pos + 1, infos), False
        if ch == "?":
            infos.append(self.format_info([f"{self.profile.regs[self._sreg_pointer]:03d}"]))
            return pos + 1, False
        if ch == "A":
            self._answer()
            return len(text), True
        if ch == "O":
            num, _ = _number(text, pos + 1)
            self._online(num)
            return len(text), True
        if not ch.isalpha():
            raise _CommandError
        num, nxt = _number(text, pos + 1)
        self._basic(ch, num, infos)
        return nxt, False

    def _basic(self, name: str, num: int, infos: list[bytes]) -> None:
        prof = self.profile
        pers = self.personality
        if name == "E" and num <= 1:
            prof.echo = num
        elif name == "Q" and num <= 1:
            prof.quiet = num
        elif name == "V" and num <= 1:
            prof.verbose = num
        elif name == "X" and num <= pers.x_max:
            prof.x = num
        elif name == "&C" and num <= 1:
            prof.amp_c = num
            self._out.lines_changed()
        elif name == "&D" and num <= 3:
            prof.amp_d = num
        elif name == "I":
            info = pers.identity.get(f"I{num}")
            if info is None:
                raise _CommandError
            infos.append(self.format_info(info.replace("{country}", self.country).split("\n")))
        elif name == "H" and num <= 1:
            if num == 0:
                self._hangup()
            elif self.call_up:
                raise _CommandError
            else:
                self.off_hook = True
        elif name == "Z" and num <= 1:
            self._hangup()
            self._restore(self.stored)
        elif name == "&F" and num == 0:
            self._restore(self._factory())
        elif name == "&W" and num <= 1:
            self.stored = self.profile.copy()
        elif name == "&V" and num <= 1:
            infos.append(self.format_info(self._profile_dump()))
        elif name in pers.accepted and pers.accepted[name][0] <= num <= pers.accepted[name][1]:
            prof.accepted[name] = num
        else:
            raise _CommandError

    def _factory(self) -> Profile:
        fac = factory_profile(self.personality)
        if self.personality.v92_survive_factory:
            fac.v92 = dict(self.profile.v92)
        fac.regs[1] = self.profile.regs[1]
        return fac

    def _restore(self, profile: Profile) -> None:
        s1 = self.profile.regs[1]
        self.profile = profile.copy()
        for num, spec in self.personality.registers.items():
            if not spec.stored:
                self.profile.regs[num] = spec.default
        self.profile.regs[1] = s1
        self.fclass = "0"
        self.vcid = 0
        self._out.lines_changed()

    def _profile_dump(self) -> list[str]:
        def line(p: Profile) -> list[str]:
            head = (f"E{p.echo} Q{p.quiet} V{p.verbose} X{p.x} &C{p.amp_c} &D{p.amp_d}"
                    + "".join(f" {k}{v}" for k, v in sorted(p.accepted.items())))
            regs = [f"S{n:02d}:{v:03d}" for n, v in sorted(p.regs.items())]
            rows = [head] + [" ".join(regs[i:i + 8]) for i in range(0, len(regs), 8)]
            if p.v92:
                rows.append(" ".join(f"+{k}:{v}" for k, v in p.v92.items()))
            return rows
        return ["ACTIVE PROFILE:", *line(self.profile), "", "STORED PROFILE 0:",
                *line(self.stored)]

    def _sreg(self, text: str, pos: int, infos: list[bytes]) -> int:
        num, pos = _number(text, pos)
        spec = self.personality.registers.get(num)
        if spec is None:
            raise _CommandError
        self._sreg_pointer = num
        if pos < len(text) and text[pos] == "?":
            infos.append(self.format_info([f"{self.profile.regs[num]:03d}"]))
            return pos + 1
        if pos < len(text) and text[pos] == "=":
            value, pos = _number(text, pos + 1)
            if not spec.allows(value):
                raise _CommandError
            self.profile.regs[num] = value
        return pos

    def _extended(self, text: str, pos: int, infos: list[bytes]) -> int:
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] in "!%-./:_"):
            pos += 1
        name = text[start:pos].upper()
        op, value = "action", ""
        if text.startswith("=?", pos):
            op, pos = "test", pos + 2
        elif text.startswith("?", pos):
            op, pos = "read", pos + 1
        elif text.startswith("=", pos):
            end = text.find(";", pos)
            end = len(text) if end < 0 else end
            op, value, pos = "set", text[pos + 1:end].strip(), end
        if pos < len(text) and text[pos] == ";":
            pos += 1
        reply = self._extended_command(name, op, value)
        if reply is not None:
            infos.append(self.format_info([reply]))
        return pos

    def _extended_command(self, name: str, op: str, value: str) -> str | None:
        pers = self.personality
        if name in ("GMI", "GMM", "GMR"):
            if op == "test":
                return None
            if op != "action":
                raise _CommandError
            return pers.identity[name.lower()]
        if name == "FCLASS":
            if op == "test":
                return ",".join(pers.fax_classes)
            if op == "read":
                return self.fclass
            if op == "set" and value in pers.fax_classes:
                self.fclass = value
                return None
            raise _CommandError
        if name == "VCID" and pers.caller_id:
            if op == "test":
                return "(0-2)"
            if op == "read":
                return str(self.vcid)
            if op == "set" and value in ("0", "1", "2"):
                self.vcid = int(value)
                return None
            raise _CommandError
        if name == "GCI" and pers.countries:
            if op == "test":
                return f"+GCI: ({','.join(pers.countries)})"
            if op == "read":
                return f"+GCI: {self.country}"
            if op == "set" and value.upper() in pers.countries:
                self.country = value.upper()
                return None
            raise _CommandError
        if pers.v92 and name in V92_PARAMS:
            lo, hi = V92_PARAMS[name]
            if op == "test":
                return f"+{name}: ({','.join(str(v) for v in range(lo, hi + 1))})" if hi <= 2 \
                    else f"+{name}: ({lo}-{hi})"
            if op == "read":
                return f"+{name}: {self.profile.v92[name]}"
            if op == "set" and value.isdigit() and lo <= int(value) <= hi:
                self.profile.v92[name] = int(value)
                return None
            raise _CommandError
        if pers.v92 and name == "PMHR" and op == "action":
            if self.profile.v92["PMH"] != 0 or not self.call_up:
                raise _CommandError
            return f"+PMHR: {self._telco.far_moh_timeout()}"
        raise _CommandError

    # ------------------------------------------------------------------ dialing
    def _dial(self, dial: str) -> None:
        """D: parse modifiers, check dial tone, then dial after the simulated dialling time."""
        if self.state is DceState.ONLINE_COMMAND or self.call_up:
            raise _CommandError
        regs = self.profile.regs
        pulse = self.pulse_default
        segments: list[tuple[str, str]] = list(self._pending_dial)
        duration = 0.0
        quiet = False
        stay_in_command = False
        force_tone_check = False
        fresh = not self.off_hook
        for i, raw in enumerate(dial):
            ch = raw.upper()
            if ch in _DIAL_DIGITS:
                if pulse and not ch.isdigit():
                    continue  # DTMF-only symbols cannot be pulsed
                method = "P" if pulse else "T"
                if segments and segments[-1][0] == method:
                    segments[-1] = (method, segments[-1][1] + ch)
                else:
                    segments.append((method, ch))
                duration += (0.1 * (int(ch) or 10) + 0.7) if pulse else 2 * regs[11] / 1000
            elif ch == "T":
                pulse = False
            elif ch == "P":
                pulse = True
            elif ch == ",":
                duration += regs[8]
            elif ch == "W":
                force_tone_check = True
                duration += 1.0
            elif ch == "!":
                duration += 1.0
            elif ch == "@":
                quiet = True
            elif ch == ";":
                if dial[i + 1:].strip():
                    raise _CommandError
                stay_in_command = True
            # anything else (punctuation, R, L, S=n, $) is ignored, as V.250 says
        self.pulse_default = pulse
        self._quiet_answer = quiet
        self.state = DceState.DIALING
        x = self.profile.x
        detect = x in (2, 4) or x >= 5 or force_tone_check
        if fresh:
            self.off_hook = True
            if not detect:
                duration += regs[6]       # blind dialling: wait S6, then dial regardless
        if detect and not self._telco.has_dial_tone():
            # listen S6 seconds for a dial tone that never comes
            text = self.personality.no_dialtone_text
            self._dial_timer = self._clock.call_later(regs[6], lambda: self._setup_failed(text))
            return
        request = DialRequest(tuple(segments), quiet, dial)
        self._dial_timer = self._clock.call_later(
            duration, lambda: self._dialled(request, stay_in_command))

    def _dialled(self, request: DialRequest, stay_in_command: bool) -> None:
        self._dial_timer = None
        if self.state is not DceState.DIALING:
            return
        if stay_in_command:
            self._pending_dial = list(request.segments)
            self.state = DceState.COMMAND
            self._final("OK")
            return
        self._pending_dial = []
        self._wait_timer = self._clock.call_later(self.profile.regs[7], self._wait_expired)
        self._telco.place_call(request)

    def _setup_failed(self, text: str) -> None:
        self._dial_timer = None
        if self.state is DceState.DIALING:
            self._hangup()
            self._final(text)

    def _wait_expired(self) -> None:
        self._wait_timer = None
        if self.state not in (DceState.DIALING, DceState.ANSWERING):
            return
        text = "NO ANSWER" if self._quiet_answer and self.state is DceState.DIALING \
            else "NO CARRIER"
        self._hangup()
        self._final(text)

    def call_failed(self, reason: str) -> None:
        """The network reports a failed set-up: ``busy`` or ``no-carrier``."""
        if self.state is not DceState.DIALING:
            return
        text = "NO CARRIER"
        if reason == "busy" and self.profile.x >= 3:
            text = "BUSY"
        self._hangup()
        self._final(text)

    def _abort_setup(self) -> None:
        self._hangup()
        self._final("NO CARRIER")

    # ------------------------------------------------------------------ answering / ringing
    def _answer(self) -> None:
        if self.state is DceState.ONLINE_COMMAND or self.call_up:
            raise _CommandError
        self._start_answer()

    def _start_answer(self) -> None:
        self.off_hook = True
        self.state = DceState.ANSWERING
        self._quiet_answer = False
        self._set_s1(0)
        self._wait_timer = self._clock.call_later(self.profile.regs[7], self._wait_expired)
        self._telco.answer()

    def ring(self, on: bool) -> None:
        """The line rings (``on``) or falls silent between rings."""
        self.ringing = on
        self.ri = on
        self._out.lines_changed()
        if not on:
            return
        self._set_s1(min(self.profile.regs[1] + 1, 255))
        if self._s1_timer is not None:
            self._s1_timer.cancel()
        self._s1_timer = self._clock.call_later(self.personality.ring_counter_reset,
                                                lambda: self._set_s1(0))
        if self.state is DceState.COMMAND and not self.off_hook:
            self._unsolicited_result("RING")
            s0 = self.profile.regs[0]
            dtr_blocks = not self.dtr and self.profile.amp_d == 2
            if s0 and self.profile.regs[1] >= s0 and not dtr_blocks:
                self._start_answer()

    def _set_s1(self, value: int) -> None:
        self.profile.regs[1] = value

    def caller_id(self, fields: list[tuple[str, str]]) -> None:
        """Caller ID between the first and second ring, shown when +VCID=1 (or 2)."""
        if not self.personality.caller_id or self.vcid == 0:
            return
        if self.state is not DceState.COMMAND or self.off_hook:
            return
        if self.vcid == 2:
            self._out.unsolicited(self.format_info([mdmf(fields).hex().upper()]))
            return
        self._out.unsolicited(self.format_info([f"{k} = {v}" for k, v in fields]))

    def offer_withdrawn(self) -> None:
        """The caller gave up before the call was answered."""
        if self.state is DceState.ANSWERING:
            return  # keeps waiting for carrier until S7, like a real modem
        self.ringing = False
        if self.ri:
            self.ri = False
            self._out.lines_changed()

    # ------------------------------------------------------------------ connected call
    def connected(self, rate: int) -> None:
        """Training finished: both modems report CONNECT."""
        if self.state not in (DceState.DIALING, DceState.ANSWERING):
            return
        self._cancel(self._wait_timer)
        self._wait_timer = None
        self.ringing = False
        self.ri = False
        self.call_up = True
        self.carrier = True
        self.rate = rate
        self._set_s1(0)
        self._enter_online()
        self._final(self._connect_text())

    def _enter_online(self) -> None:
        self.state = DceState.ONLINE_DATA
        self._plus = 0
        self._last_rx = self._clock.now()
        self._out.lines_changed()

    def _feed_online(self, data: bytes) -> None:
        now = self._clock.now()
        regs = self.profile.regs
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
        self._telco.send(data)
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
        self.state = DceState.ONLINE_COMMAND
        self._final("OK")

    def _online(self, num: int) -> None:
        if num > 1 or self.state is not DceState.ONLINE_COMMAND or not self.call_up:
            raise _CommandError
        if not self.carrier:
            self._hangup()
            self._final("NO CARRIER")
            return
        self._enter_online()
        self._final(self._connect_text())
        if self._held_data:
            held = bytes(self._held_data)
            self._held_data.clear()
            self._out.data(held)

    def remote_data(self, data: bytes) -> None:
        """Bytes from the far end of the call."""
        if self.state is DceState.ONLINE_DATA:
            self._out.data(data)
        elif self.state is DceState.ONLINE_COMMAND and self.call_up:
            self._held_data += data     # delivered on ATO; the exchange's flow control bounds it

    @property
    def held_backlog(self) -> int:
        """Far-end bytes kept during online-command state (counted by flow control)."""
        return len(self._held_data)

    def remote_hangup(self) -> None:
        """The far end cleared the call (orderly disconnect): NO CARRIER at once."""
        if not self.call_up:
            return
        self._hangup(notify=False)
        self._final("NO CARRIER")

    def carrier_interruption(self, duration: float | None) -> bool:
        """The carrier goes away for ``duration`` seconds (None: for good).

        Decided by rule, not by racing timers: the modem survives when
        ``(S10 - S9) * 100 ms > duration`` or S10 = 255.  A lost call ends with
        NO CARRIER after the S10-S9 delay; with S10 = 255 the modem stays
        off-hook without carrier (DCD off) until the DTE hangs up.
        """
        if not self.call_up:
            return True
        s9, s10 = self.profile.regs[9], self.profile.regs[10]
        self.carrier = False
        self._out.lines_changed()
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
            self._out.lines_changed()

    def _carrier_gone(self) -> None:
        self._carrier_timer = None
        if self.call_up:
            self._hangup()
            self._final("NO CARRIER")

    def call_waiting(self, far_grants_moh: bool) -> CwOutcome:
        """A third party calls while this modem is in a call (design.md rules 2-3).

        Rule 1 (cancel code) is the exchange's: it never calls this then.
        """
        if not self.call_up:
            return CwOutcome.IGNORED
        pers, v92 = self.personality, self.profile.v92
        if pers.call_waiting_text and self.profile.x >= pers.call_waiting_min_x \
                and self.state is DceState.ONLINE_COMMAND:
            self._unsolicited_result(pers.call_waiting_text)
        if pers.v92:
            if v92["PCW"] == 2:
                return CwOutcome.IGNORED
            if v92["PCW"] == 1:
                self._drop_now()
                return CwOutcome.DROPPED
            self._pulse_ri()
            if v92["PMH"] == 0:
                if far_grants_moh:
                    return CwOutcome.HELD
                self._drop_now()
                return CwOutcome.DROPPED
        s10 = self.profile.regs[10]
        if pers.cw_detect_s10_min is not None and s10 >= pers.cw_detect_s10_min \
                and self.country in pers.cw_detect_countries:
            self._drop_now()
            return CwOutcome.DROPPED
        if self.carrier_interruption(CW_INTERRUPTION_MS / 1000):
            return CwOutcome.RODE_THROUGH
        return CwOutcome.DROPPED

    def _drop_now(self) -> None:
        self._hangup()
        self._final("NO CARRIER")

    def _pulse_ri(self) -> None:
        self.ri = True
        self._out.lines_changed()
        self._cancel(self._ri_timer)

        def off() -> None:
            self.ri = False
            self._out.lines_changed()
        self._ri_timer = self._clock.call_later(RI_PULSE, off)

    # ------------------------------------------------------------------ hang-up, DTR, reset
    def _hangup(self, notify: bool = True) -> None:
        """Go on-hook from any state; tell the network unless it told us."""
        was_active = self.off_hook or self.call_up or self.state is not DceState.COMMAND
        for timer in (self._dial_timer, self._wait_timer, self._escape_timer,
                      self._carrier_timer):
            self._cancel(timer)
        self._dial_timer = self._wait_timer = self._escape_timer = self._carrier_timer = None
        self.state = DceState.COMMAND
        self.off_hook = False
        self.call_up = False
        self.carrier = False
        self.rate = None
        self._plus = 0
        self._pending_dial = []
        self._held_data.clear()
        self._out.lines_changed()
        if notify and was_active:
            self._telco.hangup()

    def set_dtr(self, on: bool) -> None:
        """DTR from the DTE; a drop acts as &D says (§1.8)."""
        if on == self.dtr:
            return
        self.dtr = on
        if on:
            return
        mode = self.profile.amp_d
        if mode == 1 and self.state is DceState.ONLINE_DATA:
            self.state = DceState.ONLINE_COMMAND
            self._final("OK")
        elif mode == 2:
            active = self.call_up or self.state in (DceState.DIALING, DceState.ANSWERING)
            self._hangup()
            if active:
                self._final("NO CARRIER")
        elif mode == 3:
            self.reset()

    def reset(self) -> None:
        """Soft reset: on-hook, stored profile back (ATZ, &D3, reboot)."""
        self._hangup()
        self._restore(self.stored)
        self._assembler.reset()

    @staticmethod
    def _cancel(timer: TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()


def _number(text: str, pos: int) -> tuple[int, int]:
    """Parse a decimal parameter at ``pos`` (missing means 0, V.250 basic syntax)."""
    end = pos
    while end < len(text) and text[end].isdigit():
        end += 1
    return (int(text[pos:end]) if end > pos else 0), end
