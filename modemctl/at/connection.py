"""The sans-IO AT protocol core: bytes in, events out.

:class:`ATConnection` does no I/O, reads no clock and knows nothing of
asyncio (the same shape as h11): the engine feeds it the bytes it read with
:meth:`~ATConnection.receive_data`, pulls events with
:meth:`~ATConnection.next_event` until it gets :data:`NEED_DATA`, and asks
it for the bytes of a command with :meth:`~ATConnection.send_command`.  That
keeps every framing rule testable byte by byte, with no timing involved.

What the core may do in each state (idle, awaiting a result, online,
escaping, probing) is one table, :mod:`modemctl.at.state`; the one-byte
lookahead and the echo bookkeeping are small helpers of their own
(:mod:`modemctl.at.lookahead`, :mod:`modemctl.at.echo`).

Rules, in the order they are applied to each line:

1. The echo of the command in flight is recognised and reported as
   :class:`Echo` (echo on or off both work; ``ATE0`` is itself echoed).
2. Unsolicited lines (RING, caller ID, MESSAGE-WAITING, CALL WAITING
   DETECTED, RRING, ``+P...`` indications) are taken out *before* response
   matching, so they never end up in a response.
3. A final result code, verbose (``\\r\\nOK\\r\\n``) or numeric (``0\\r``),
   ends the command.  Framing is by final result code only, never by
   silence.  When echo is known to be on, a final or information line that
   arrives before the command's echo is the tail of an earlier (timed-out)
   command and is reported as :class:`Noise`, so responses cannot skew by one.
   A ``CONNECT`` is only a final for a command that can connect (dial,
   answer, online, a carrier command: :func:`~modemctl.at.commands.may_connect`);
   while ``ATS0?`` or ``ATE0`` is in flight it is :class:`Noise` and the
   command keeps waiting for its own final.  If none comes (the engine's
   timeout), the modem had answered a call as the command went out:
   ``abort_command(timed_out=True)`` then goes ONLINE and reports the
   CONNECT as unsolicited.
4. Any other line is :class:`Information` for the command in flight, or
   :class:`Noise` when nothing is in flight.

Format drift: the core believes a result format
(:attr:`~ATConnection.result_format`: from E and V in the commands it sent,
learnt from answers otherwise).  An answer that contradicts it (numeric
after V1, verbose after V0, an echo after E0) is framed all the same and
reported once, as :class:`FormatChanged` just before the event that showed
it, so the driver can re-assert its format.  A result refused for arriving
before an echo that then never came makes the next abort forget echo.

Numeric mode has one real ambiguity.  In V0 a result code is ``<n>CR`` and
information text is ``text CR LF``, so ``000\\r\\n`` (an S-register read) is
information while ``0\\r`` is OK: the terminator decides, whatever format
the core last saw (a register value is information in verbose mode too).
Padding (NUL, XON, ...) inside the line or between its CR and LF is ignored
on both sides of that decision, so ``\\x00003\\r\\n`` is the value ``003``.
A digits-only line whose CR is the last significant byte received cannot be
classified until one more byte arrives (LF → information, anything else →
result code).  The core holds such a line
(:attr:`~ATConnection.holding_tail` is True) and waits.  If the
modem really sent ``0\\r`` and nothing else, no byte will come: for that
dangling tail only, the engine calls :meth:`~ATConnection.end_of_input`
after a short quiet period, which resolves the tail as CR-terminated.  This
is the single place where silence matters, and it only decides between two
readings of an already complete line; it never ends a response early.

Data mode: after a ``CONNECT`` final the bytes are passed through as
:class:`Data`.  ``\\r\\nNO CARRIER\\r\\n`` in the stream means carrier loss
(:class:`CarrierLost`).  Known limitation: a remote that sends those exact
bytes can spoof it; when the port has DCD the engine relies on DCD as well.
Up to 13 bytes that might begin that pattern are held back (again
``holding_tail``) and released by the next bytes or by ``end_of_input``.

Fax Class 1 (T.31) carriers are data of another kind.  After CONNECT to
``+FRH``/``+FRM`` the bytes are DLE-transparent data that the modem ends
with DLE ETX (reported as :class:`Data`, DLE ETX included, so the fax layer
sees the end), then the *same* command's final result follows as a line
(OK, ERROR, NO CARRIER: no carrier loss, just the end of that carrier).
After CONNECT to ``+FTH``/``+FTM`` we send the data; the modem's bytes are
lines (the final, CONNECT when more frames may follow) apart from XON and
XOFF, reported as :class:`FlowControl`.  Once ``+FCLASS=1`` (or ``1.0``)
was answered OK, the CONNECT that answers ``ATD`` or ``ATA`` starts a fax
carrier too: T.31 has the caller receive V.21 (an implied ``+FRH=3``) and
the answerer transmit (``+FTH=3``), and the core takes it that way.
In numeric mode the data stream carries no recognisable carrier-loss text
(``3\\r`` is ordinary data), so there the engine depends on DCD or the
port closing.  After :meth:`~ATConnection.send_escape` the core is
ESCAPING: bytes are still data until the ``OK`` that answers ``+++``.

Buffers are bounded: a line longer than ``max_line`` bytes is discarded
with a :class:`ParseFailure` event carrying a
:class:`~modemctl.errors.ParseError`, and a command keeps at most
``max_info`` information lines (the rest are reported as Noise).
"""

from __future__ import annotations

import re
from collections import deque
from functools import lru_cache
from types import MappingProxyType

from modemctl.at.codes import FinalCode, NumericFamily, ResultCode, numeric_text, parse_final
from modemctl.at.commands import (
    DEFAULT_MAX_LENGTH,
    command_letter,
    encode_command,
    fax_data_direction,
    may_connect,
    requested_format,
    validate_command,
)
from modemctl.at.echo import EchoState, is_echo
from modemctl.at.events import (
    NEED_DATA,
    CarrierLost,
    Data,
    Echo,
    Event,
    FlowControl,
    FormatChanged,
    Information,
    NeedData,
    Noise,
    ParseFailure,
    Response,
    ResultFormat,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.at.lookahead import Lookahead
from modemctl.at.state import TRANSITIONS, Input, ProtocolMode, State, next_state
from modemctl.at.unsolicited import classify, may_be_unsolicited
from modemctl.errors import ParseError

__all__ = ["DEFAULT_MAX_INFO", "DEFAULT_MAX_LINE", "ESCAPE_COMMAND", "ATConnection",
           "ProtocolMode", "State"]

DEFAULT_MAX_LINE = 4096
DEFAULT_MAX_INFO = 1000     # information lines kept per command (a runaway ATI)
ESCAPE_COMMAND = "+++"
#: What :meth:`ATConnection.check_online` sends (and its OK answers).
CHECK_COMMAND = "AT"

# Control characters that can appear inside a line without meaning anything
# (NUL padding, XON/XOFF, BEL, DEL); they are dropped before classification.
_DROP_CONTROLS = {c: None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
_PADDING = frozenset(_DROP_CONTROLS)
_XON, _XOFF, _ETX = 0x11, 0x13, 0x03
_FCLASS = re.compile(r"\+FCLASS\s*=\s*([0-9.]+)", re.IGNORECASE)
_RESET = re.compile(r"^AT\s*(?:Z|&F)", re.IGNORECASE)
_NUMERIC_TOKEN = re.compile(r"^\s*(?:\d{1,3}|\+F4)\s*$")


def _clean(raw: bytes) -> str:
    """A line as text, with the meaningless control characters dropped."""
    return raw.decode("latin-1").translate(_DROP_CONTROLS)


def _is_numeric_token(text: str) -> bool:
    """Whether a cleaned line could be a numeric result code (``0``, ``84``, ``+F4``)."""
    return _NUMERIC_TOKEN.match(text) is not None


#: What a received line is, as far as its bytes alone tell: the cleaned
#: text, whether it could be a numeric result code, whether an unsolicited
#: rule could match it, and the verbose final it spells (or None).
LineFacts = tuple[str, bool, bool, FinalCode | None]

_CACHED_LINE = 80       # longer lines (ATI text, long info) are not worth remembering


def _read_line(raw: bytes) -> LineFacts:
    text = _clean(raw).strip()
    return text, _is_numeric_token(text), may_be_unsolicited(text), parse_final(text)


_read_line_cached = lru_cache(maxsize=512)(_read_line)


def _line_facts(raw: bytes) -> LineFacts:
    """:data:`LineFacts` of one line without its terminator.

    Cached for short lines: a modem says the same few lines (``OK``, an
    echo, ``RING``) over and over, and cleaning and classifying one took
    more than a microsecond per line; the facts depend on the bytes only.
    """
    if len(raw) <= _CACHED_LINE:
        return _read_line_cached(raw)
    return _read_line(raw)


@lru_cache(maxsize=256)
def _fax_class_after(cmd: str) -> bool | None:
    """Whether an OK to ``cmd`` leaves Class 1 fax in force (True), ends it
    (False: another ``+FCLASS``, or ``Z``/``&F``), or does not touch it
    (None).  Cached: asked on every OK."""
    m = _FCLASS.search(cmd)
    if m is not None:
        return m.group(1) in ("1", "1.0")
    if _RESET.search(cmd):
        return False
    return None


# Enum members the per-line and per-command paths compare against, bound
# once: on Python 3.11 each ``Enum.MEMBER`` lookup goes through EnumType's
# ``__getattr__`` hook (~70 ns), and a command made a few dozen of them.
_COMMAND_MODE = ProtocolMode.COMMAND
_FAX_DATA_MODE = ProtocolMode.FAX_DATA
_ESCAPING_MODE = ProtocolMode.ESCAPING
_FAX_SENDING = State.FAX_SENDING
_IN_FLIGHT = frozenset({State.AWAITING_RESULT, State.FAX_SENDING, State.FAX_RECEIVING})
_SEND_COMMAND = Input.SEND_COMMAND
_RESULT = Input.RESULT
_OK = ResultCode.OK
_CONNECT = ResultCode.CONNECT

#: Each state's protocol mode, for :meth:`ATConnection._move` (``State.mode``
#: is a property; the core moves twice per command).
_MODE_OF = {state: state.mode for state in State}


class ATConnection:
    """One AT conversation seen from the DTE side, without any I/O.

    Which calls are legal when is the table in :mod:`modemctl.at.state`;
    :attr:`state` is where the conversation is.
    """

    def __init__(self, *, numeric_family: NumericFamily = "conexant", s2: int = 43,
                 s3: int = 13, s4: int = 10, max_line: int = DEFAULT_MAX_LINE,
                 max_command_length: int = DEFAULT_MAX_LENGTH,
                 max_info: int = DEFAULT_MAX_INFO) -> None:
        if max_line < 16:
            raise ValueError("max_line must be at least 16 bytes")
        self.numeric_family: NumericFamily = numeric_family
        self._s2, self._cr, self._lf = s2, s3, s4
        self._max_line = max_line
        self._max_command_length = max_command_length
        self._max_info = max_info
        self._no_carrier = bytes([s3, s4]) + b"NO CARRIER" + bytes([s3, s4])
        self._ok = bytes([s3, s4]) + b"OK" + bytes([s3, s4])
        self._numeric_ok = b"0" + bytes([s3])
        self._term = re.compile(re.escape(bytes([s3])) + b"|" + re.escape(bytes([s4])))
        self._terms = (s3, s4)
        self.reset()

    # --- state ----------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (after the port was reopened or the modem reset)."""
        self._buf = bytearray()
        self._events: deque[Event] = deque()
        self._state = State.IDLE
        self._mode = ProtocolMode.COMMAND  # self._state.mode, kept for the per-byte paths
        self._command: str | None = None   # the command line in flight (AWAITING_RESULT)
        self._info: list[str] = []
        self._verbose: bool | None = None
        self._echo = EchoState()
        self._ahead = Lookahead()
        self._fax_dle = False              # FAX_RECEIVING: a DLE ended the last chunk
        self._class1 = False               # +FCLASS=1 / 1.0 in force
        self._stray_connect: FinalCode | None = None   # a CONNECT the command cannot take

    def _move(self, event: Input, what: str = "") -> None:
        self._state = state = next_state(self._state, event, what)
        self._mode = _MODE_OF[state]

    @property
    def state(self) -> State:
        """Where the conversation is (see :mod:`modemctl.at.state`)."""
        return self._state

    @property
    def mode(self) -> ProtocolMode:
        """Whether the stream is in command, data or escaping state."""
        return self._mode

    @property
    def pending(self) -> str | None:
        """The command in flight (``"+++"`` while escaping), or None."""
        if self._state in _IN_FLIGHT:
            return self._command
        if self._mode is _ESCAPING_MODE:
            return CHECK_COMMAND if self._state is State.CHECKING else ESCAPE_COMMAND
        return None

    @property
    def result_format(self) -> ResultFormat:
        """The format the core believes the modem answers in (see
        :class:`~modemctl.at.events.FormatChanged`)."""
        return ResultFormat(self._verbose, self._echo.on)

    @property
    def holding_tail(self) -> bool:
        """True when bytes are held for one-byte lookahead (see module docs).

        The engine calls :meth:`end_of_input` after a quiet period only
        while this is True.
        """
        return self._ahead.held

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events."""
        return len(self._buf)

    # --- output side ----------------------------------------------------

    def send_command(self, command: str) -> bytes:
        """Validate ``command`` and return the bytes to write; it is now in flight.

        Raises :class:`~modemctl.errors.InvalidCommand` for a malformed line
        and :class:`~modemctl.errors.InvalidCallState` unless the core is
        IDLE (in data mode, escaping, or with another command in flight).
        """
        if _SEND_COMMAND not in TRANSITIONS[self._state]:
            next_state(self._state, _SEND_COMMAND, f"send {command!r}")   # raises
        cmd = validate_command(command, s3=self._cr, max_length=self._max_command_length)
        self._move(_SEND_COMMAND)
        self._command = cmd
        self._stray_connect = None
        self._echo.command_sent()
        self._info = []
        return encode_command(cmd, s3=self._cr)

    def send_escape(self, *, force: bool = False) -> bytes:
        """Return the escape characters and enter ESCAPING (or PROBING) state.

        Normally only allowed ONLINE; ``force=True`` also allows it in idle
        command mode (the recovery ladder sends a guarded ``+++`` when it
        does not know which state the modem is in).  Guard times are the
        caller's business: the core has no clock.
        """
        self._move(Input.FORCE_ESCAPE if force else Input.SEND_ESCAPE, "send +++")
        self._echo.escape_sent()
        self._info = []
        return bytes([self._s2]) * 3

    def send_data(self, data: bytes) -> bytes:
        """Return ``data`` for writing; raises unless a call is ONLINE.

        The state table, not the caller, decides when call data may go out
        (never while escaping: it would break the escape's guard time).
        """
        self._move(Input.SEND_DATA, "send call data")
        return bytes(data)

    def check_online(self) -> bytes:
        """Return ``AT`` and CR to write, asking whether the ONLINE the core
        went to on an unsolicited CONNECT is a call (see :meth:`refute_connect`).

        The modem's answer is read as in an escape (CHECKING is data until
        ``OK``): a modem in command mode echoes the ``AT`` (data, like any
        byte before the OK) and answers ``OK``, which moves the core to IDLE;
        a modem online sends the ``AT`` to its caller as data and answers
        nothing, and the engine's :meth:`abort_command` takes the core back to
        ONLINE.  Only the engine knows the CONNECT was unsolicited: the
        table allows this from any ONLINE.
        """
        self._move(Input.CHECK_ONLINE, "check whether a call is up")
        self._echo.escape_sent()        # the echo, if any, arrives as data: none awaited
        self._info = []
        return encode_command(CHECK_COMMAND, s3=self._cr)

    def refute_connect(self) -> None:
        """The engine knows no call is up after an unsolicited CONNECT (DCD,
        known to work, is low): ONLINE → IDLE.  Bytes held back for lookahead
        stay in the buffer and are read as lines: they came from a modem in
        command mode."""
        self._move(Input.CONNECT_REFUTED)
        self._ahead.held = False

    def abort_command(self, *, timed_out: bool = False) -> None:
        """The engine gave up on the command or escape in flight.

        A late answer that still arrives must not become the next command's:
        while echo is known to be on, whatever precedes the next command's
        echo is stale and reported as Noise (see :class:`EchoState`).

        ``timed_out``: the command's deadline passed (not a cancellation).
        If a CONNECT it could not take arrived meanwhile (see
        :func:`~modemctl.at.commands.may_connect`), the silence since says
        that CONNECT was real: the modem answered a call as the command went
        out and took the command for call data.  The core then goes ONLINE
        and reports it as :class:`Unsolicited` ``CONNECT``, as if it had come
        with nothing in flight.
        """
        stray = self._stray_connect if timed_out and self._state is State.AWAITING_RESULT \
            else None
        self._move(Input.TIMEOUT_AFTER_CONNECT if stray is not None else Input.ABORT)
        self._command = None
        self._stray_connect = None
        self._info = []
        self._echo.abandoned()
        if stray is not None:
            self._emit_unsolicited_connect(stray)

    def carrier_lost(self) -> None:
        """The engine saw the call end (DCD drop, DTR hang-up): leave data mode.

        Held-back bytes are released as data first, so nothing is lost.
        """
        if self._mode is not ProtocolMode.COMMAND:
            self._release_tail()
        self._move(Input.CARRIER_LOST)

    # --- input side -----------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the modem."""
        if data:
            self._buf += data
            self._ahead.held = False

    def end_of_input(self) -> None:
        """Nothing more is coming for now: resolve a held tail (see module docs)."""
        self._ahead.quiet = True

    def next_event(self) -> Event | NeedData:
        """Return the next event, or :data:`NEED_DATA` when more bytes are needed."""
        while not self._events:
            if not self._step():
                self._ahead.quiet = False
                return NEED_DATA
        return self._events.popleft()

    # --- internals ------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _step(self) -> bool:
        buf = self._buf
        ahead = self._ahead
        if ahead.swallow_lf:
            ahead.take_swallowed_lf(buf, self._lf)
        if not buf:
            ahead.held = False
            return False
        mode = self._mode
        if mode is _COMMAND_MODE:
            if self._state is _FAX_SENDING and self._take_flow_control():
                return True
            return self._step_line()
        if mode is _FAX_DATA_MODE:
            return self._step_fax_data()
        return self._step_data()

    def _step_line(self) -> bool:
        buf = self._buf
        m = self._term.search(buf)
        if m is None:
            if len(buf) > self._max_line:
                self._overflow(len(buf))
                return True
            return False
        i = m.start()
        if i == 0:
            # An empty line (the LF of a CR LF pair, blank lines): nothing to
            # classify, hold or report, so its terminators go in one step.
            j, n, terms = 1, len(buf), self._terms
            while j < n and buf[j] in terms:
                j += 1
            del buf[:j]
            self._ahead.held = False
            return True
        line = bytes(buf[:i])
        end = self._ahead.line_end(buf, i, lf=self._lf, padding=_PADDING)
        if end is None:
            if _line_facts(line)[1] and not self._ahead.quiet:
                self._ahead.held = True
                return False
            end = self._ahead.ended_at_cr(i)
        consumed, numeric_term = end
        del buf[:consumed]
        self._ahead.held = False
        if i > self._max_line:
            self._overflow(i, whole_buffer=False)
            return True
        self._handle_line(line, numeric_term)
        return True

    def _overflow(self, n: int, *, whole_buffer: bool = True) -> None:
        """Discard a runaway line: the whole buffer while it is unterminated,
        only the line itself once its terminator has arrived."""
        if whole_buffer:
            self._buf.clear()
            self._ahead.swallow_lf = False
        self._emit(ParseFailure(ParseError(
            f"line longer than {self._max_line} bytes; {n} bytes discarded"), n))

    def _handle_line(self, raw: bytes, cr_terminated: bool) -> None:
        text, numeric_token, may_urc, final = _line_facts(raw)
        if not text:
            return
        cmd = self.pending
        if cmd is not None and not self._echo.seen and is_echo(text, cmd):
            if self._echo.on is False:
                self._format_changed(ResultFormat(self._verbose, True), cmd)
            self._echo.seen = True
            self._emit(Echo(text))
            return
        stale = cmd is not None and self._echo.stale
        if cr_terminated and numeric_token:
            verbose = numeric_text(text, self.numeric_family)
            if verbose is not None:
                urc = classify(verbose, cmd)
                if urc is not None:
                    self._emit(urc)
                    return
                final = parse_final(verbose)
                if final is not None:
                    self._handle_final(final, numeric=True)
                    return
        else:
            urc = classify(text, cmd) if may_urc else None
            if urc is not None:
                self._emit(urc)
                return
            if final is not None:
                self._handle_final(final, numeric=False)
                return
        if stale:
            self._emit(Noise(text, "before the echo of the command in flight: left over "
                                   "from an earlier command"))
        elif cmd is not None and len(self._info) >= self._max_info:
            self._emit(Noise(text, f"more than {self._max_info} information lines for "
                                   "one command"))
        elif cmd is not None:
            self._info.append(text)
            self._emit(Information(text))
        else:
            self._emit(Noise(text))

    def _handle_final(self, final: FinalCode, *, numeric: bool) -> None:
        cmd = self._command
        if cmd is None:
            if final.code is ResultCode.NO_CARRIER:
                self._emit(CarrierLost(final.text))
            elif final.code is ResultCode.CONNECT:
                self._move(Input.UNSOLICITED_CONNECT)
                self._emit_unsolicited_connect(final)
            else:
                self._emit(Noise(final.text, "final result with no command in flight"))
            return
        if self._echo.stale:
            self._echo.refused = True
            self._emit(Noise(final.text, "final result before the echo of the command "
                                         "in flight: a late answer to an earlier command"))
            return
        code = final.code
        ok, connect = code is _OK, code is _CONNECT
        if connect and self._state is State.AWAITING_RESULT and not may_connect(cmd):
            # Not this command's answer; its own final follows (noise), or
            # never comes (the modem went online: see abort_command).
            self._stray_connect = final
            self._emit(Noise(final.text, f"CONNECT cannot answer {cmd}: noise, or the modem "
                                         "answered a call as the command went out"))
            return
        self._observe_format(cmd, numeric=numeric, ok=ok)
        response = Response(code, final.text, tuple(self._info), final.rate,
                            final.suffix, cmd, numeric)
        self._observe_fax_class(cmd, ok=ok)
        fax = fax_data_direction(cmd) if connect else None
        if fax is None and connect and self._class1:
            letter = command_letter(cmd)
            if letter in ("D", "A"):      # T.31: the call starts in V.21, implied command
                fax = "rx" if letter == "D" else "tx"
                cmd = self._command = "AT+FRH=3" if fax == "rx" else "AT+FTH=3"
        if fax is not None:
            self._move(Input.FAX_RX_CONNECT if fax == "rx" else Input.FAX_TX_CONNECT)
            self._fax_dle = False          # the command stays in flight: its final follows
        else:
            self._move(Input.CONNECT if connect else _RESULT)
            self._command = None
        self._info = []
        self._emit(response)

    def _emit_unsolicited_connect(self, final: FinalCode) -> None:
        fields = {"suffix": final.suffix}
        if final.rate is not None:
            fields["rate"] = str(final.rate)
        self._emit(Unsolicited(UnsolicitedKind.CONNECT, final.text, MappingProxyType(fields)))

    def _observe_format(self, cmd: str, *, numeric: bool, ok: bool) -> None:
        """Compare the answer's verbosity with the belief, report a
        contradiction, and update the belief (echo was compared at the echo).
        A command that itself sets V is not compared: its own answer may come
        in the old format or the new."""
        asked = requested_format(cmd)
        believed = self._verbose
        if asked.verbose is None and believed is not None and believed == numeric:
            self._format_changed(ResultFormat(not numeric, self._echo.on), cmd)
        self._verbose = asked.verbose if asked.verbose is not None and ok else not numeric
        self._echo.completed(asked.echo if asked.echo is not None and ok
                             else self._echo.seen)

    def _observe_fax_class(self, cmd: str, *, ok: bool) -> None:
        """Follow ``+FCLASS`` (and the resets that put it back to 0)."""
        if not ok:
            return
        class1 = _fax_class_after(cmd)
        if class1 is not None:
            self._class1 = class1

    def _format_changed(self, current: ResultFormat, cmd: str) -> None:
        self._emit(FormatChanged(self.result_format, current, cmd))
        self._verbose, self._echo.on = current.verbose, current.echo

    # fax Class 1 data ------------------------------------------------------

    def _take_flow_control(self) -> bool:
        """FAX_SENDING: take XON/XOFF out of the stream as FlowControl events."""
        buf = self._buf
        for i, byte in enumerate(buf):
            if byte in (_XON, _XOFF):
                del buf[i]
                self._emit(FlowControl(paused=byte == _XOFF))
                return True
        return False

    def _step_fax_data(self) -> bool:
        """FAX_RECEIVING: data up to and including DLE ETX (DLE DLE is data)."""
        buf = self._buf
        i = 0
        if self._fax_dle:
            self._fax_dle = False
            if buf[0] == _ETX:
                self._fax_data_end(1)
                return True
            i = 1
        while True:
            at = buf.find(b"\x10", i)
            if at < 0 or at + 1 == len(buf):
                self._fax_dle = at >= 0
                self._emit(Data(bytes(buf)))
                buf.clear()
                return True
            if buf[at + 1] == _ETX:
                self._fax_data_end(at + 2)
                return True
            i = at + 2                     # DLE DLE (or DLE x): data, the fax layer decodes it

    def _fax_data_end(self, n: int) -> None:
        self._emit(Data(bytes(self._buf[:n])))
        del self._buf[:n]
        self._move(Input.FAX_DATA_END)

    # data mode ------------------------------------------------------------

    def _patterns(self) -> tuple[bytes, ...]:
        if self._mode is ProtocolMode.ESCAPING:
            return (self._no_carrier, self._ok)
        return (self._no_carrier,)

    def _step_data(self) -> bool:
        buf = self._buf
        best: tuple[int, bytes] | None = None
        for pattern in self._patterns():
            idx = buf.find(pattern)
            if idx >= 0 and (best is None or idx < best[0]):
                best = (idx, pattern)
        if best is not None:
            idx, pattern = best
            if idx:
                self._emit(Data(bytes(buf[:idx])))
            del buf[:idx + len(pattern)]
            self._ahead.held = False
            if pattern == self._ok:
                self._escape_answered(numeric=False)
            else:
                self._data_carrier_lost()
            return True
        hold = self._hold_length()
        if self._ahead.quiet and hold:
            tail = bytes(buf[len(buf) - hold:])
            if self._mode is ProtocolMode.ESCAPING and tail.endswith(self._numeric_ok) \
                    and self._verbose is False:
                self._emit_data(len(buf) - len(self._numeric_ok))
                buf.clear()
                self._escape_answered(numeric=True)
                return True
            if tail == self._no_carrier[:-1]:
                self._emit_data(len(buf) - hold)
                buf.clear()
                self._data_carrier_lost()
                return True
            hold = 0
        self._ahead.held = hold > 0
        if len(buf) > hold:
            self._emit_data(len(buf) - hold)
            return True
        return False

    def _emit_data(self, n: int) -> None:
        if n > 0:
            self._emit(Data(bytes(self._buf[:n])))
            del self._buf[:n]

    def _hold_length(self) -> int:
        """How many trailing bytes might start a pattern (or be a numeric OK)."""
        buf = self._buf
        hold = 0
        for pattern in self._patterns():
            for k in range(min(len(pattern) - 1, len(buf)), hold, -1):
                if buf.endswith(pattern[:k]):
                    hold = k
                    break
        if self._mode is ProtocolMode.ESCAPING and self._verbose is False \
                and buf.endswith(self._numeric_ok):
            hold = max(hold, len(self._numeric_ok))
        return hold

    def _release_tail(self) -> None:
        if self._buf:
            self._emit_data(len(self._buf))
        self._ahead.held = False

    def _escape_answered(self, *, numeric: bool) -> None:
        command = CHECK_COMMAND if self._state is State.CHECKING else ESCAPE_COMMAND
        self._move(Input.ESCAPE_OK)
        self._emit(Response(ResultCode.OK, "OK", (), None, "", command, numeric))

    def _data_carrier_lost(self) -> None:
        self._move(Input.NO_CARRIER)
        self._emit(CarrierLost("NO CARRIER"))
