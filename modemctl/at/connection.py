"""The sans-IO AT protocol core: bytes in, events out.

:class:`ATConnection` does no I/O, reads no clock and knows nothing of
asyncio (the same shape as h11): the engine feeds it the bytes it read with
:meth:`~ATConnection.receive_data`, pulls events with
:meth:`~ATConnection.next_event` until it gets :data:`NEED_DATA`, and asks
it for the bytes of a command with :meth:`~ATConnection.send_command`.  That
keeps every framing rule testable byte by byte, with no timing involved.

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
4. Any other line is :class:`Information` for the command in flight, or
   :class:`Noise` when nothing is in flight.

Numeric mode has one real ambiguity.  In V0 a result code is ``<n>CR`` and
information text is ``text CR LF``, so ``000\\r\\n`` (an S-register read) is
information while ``0\\r`` is OK: the terminator decides, whatever format
the core last saw (a register value is information in verbose mode too).
Padding (NUL, XON, ...) inside the line or between its CR and LF is ignored
on both sides of that decision, so ``\\x00003\\r\\n`` is the value ``003``.
A digits-only line whose CR is the last significant byte received cannot be
classified until one more byte arrives (LF → information, anything else →
result code).  The core holds
such a line (:attr:`~ATConnection.holding_tail` is True) and waits.  If the
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

import enum
import re
from collections import deque
from types import MappingProxyType

from modemctl.at.codes import FinalCode, NumericFamily, ResultCode, numeric_text, parse_final
from modemctl.at.commands import DEFAULT_MAX_LENGTH, REPEAT, encode_command, validate_command
from modemctl.at.events import (
    NEED_DATA,
    CarrierLost,
    Data,
    Echo,
    Event,
    Information,
    NeedData,
    Noise,
    ParseFailure,
    Response,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.at.unsolicited import classify
from modemctl.errors import InvalidCallState, ParseError

DEFAULT_MAX_LINE = 4096
DEFAULT_MAX_INFO = 1000     # information lines kept per command (a runaway ATI)
ESCAPE_COMMAND = "+++"

# Control characters that can appear inside a line without meaning anything
# (NUL padding, XON/XOFF, BEL, DEL); they are dropped before classification.
_DROP_CONTROLS = {c: None for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F)}
_PADDING = frozenset(_DROP_CONTROLS)
_NUMERIC_TOKEN = re.compile(r"^\s*(?:\d{1,3}|\+F4)\s*$")


class ProtocolMode(enum.Enum):
    """What the byte stream currently carries."""

    COMMAND = "command"      # lines: echo, information, results, unsolicited
    DATA = "data"            # a call is online: bytes are data
    ESCAPING = "escaping"    # +++ sent: data until the OK that answers it


def _clean(raw: bytes) -> str:
    """A line as text, with the meaningless control characters dropped."""
    return raw.decode("latin-1").translate(_DROP_CONTROLS)


def _is_numeric_token(text: str) -> bool:
    """Whether a cleaned line could be a numeric result code (``0``, ``84``, ``+F4``)."""
    return _NUMERIC_TOKEN.match(text) is not None


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def _changes_echo(command: str) -> bool:
    """Whether a command may switch echo (E, Z, &F): then echo is unknown again."""
    body = command[2:].upper()
    return "E" in body or "Z" in body or "&F" in body


class ATConnection:
    """One AT conversation seen from the DTE side, without any I/O."""

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
        self.reset()

    # --- state ----------------------------------------------------------

    def reset(self) -> None:
        """Forget everything (after the port was reopened or the modem reset)."""
        self._buf = bytearray()
        self._events: deque[Event] = deque()
        self._mode = ProtocolMode.COMMAND
        self._escape_from = ProtocolMode.DATA
        self._pending: str | None = None
        self._echo_seen = False
        self._info: list[str] = []
        self._echo_on: bool | None = None
        self._aborted = False
        self._verbose: bool | None = None
        self._skip_lf = False
        self._flush = False
        self._tail_held = False

    @property
    def mode(self) -> ProtocolMode:
        """Whether the stream is in command, data or escaping state."""
        return self._mode

    @property
    def pending(self) -> str | None:
        """The command in flight (``"+++"`` while escaping), or None."""
        return self._pending

    @property
    def verbose(self) -> bool | None:
        """Whether the last final code was verbose (None: none seen yet)."""
        return self._verbose

    @property
    def holding_tail(self) -> bool:
        """True when bytes are held for one-byte lookahead (see module docs).

        The engine calls :meth:`end_of_input` after a quiet period only
        while this is True.
        """
        return self._tail_held

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events."""
        return len(self._buf)

    # --- output side ----------------------------------------------------

    def send_command(self, command: str) -> bytes:
        """Validate ``command`` and return the bytes to write; it is now in flight.

        Raises :class:`~modemctl.errors.InvalidCommand` for a malformed line
        and :class:`~modemctl.errors.InvalidCallState` in data mode or when
        another command is still in flight.
        """
        if self._mode is not ProtocolMode.COMMAND:
            raise InvalidCallState(f"cannot send {command!r}: the line is in "
                                   f"{self._mode.value} mode")
        if self._pending is not None:
            raise InvalidCallState(f"cannot send {command!r}: {self._pending!r} is in flight")
        cmd = validate_command(command, s3=self._cr, max_length=self._max_command_length)
        self._pending = cmd
        self._echo_seen = False
        self._info = []
        return encode_command(cmd, s3=self._cr)

    def send_escape(self, *, force: bool = False) -> bytes:
        """Return the escape characters and enter ESCAPING state.

        Normally only allowed in DATA mode; ``force=True`` also allows it in
        command mode (the recovery ladder sends a guarded ``+++`` when it
        does not know which state the modem is in).  Guard times are the
        caller's business: the core has no clock.
        """
        if self._mode is ProtocolMode.ESCAPING or self._pending is not None:
            raise InvalidCallState("an escape or command is already in flight")
        if self._mode is not ProtocolMode.DATA and not force:
            raise InvalidCallState("escape is only meaningful in data mode")
        self._escape_from = self._mode
        self._mode = ProtocolMode.ESCAPING
        self._pending = ESCAPE_COMMAND
        self._echo_seen = True
        self._info = []
        return bytes([self._s2]) * 3

    def send_data(self, data: bytes) -> bytes:
        """Return ``data`` for writing; only legal while online (DATA mode)."""
        if self._mode is not ProtocolMode.DATA:
            raise InvalidCallState(f"cannot send data in {self._mode.value} mode")
        return bytes(data)

    def abort_command(self) -> None:
        """The engine gave up on the command in flight (timeout).

        A late answer that still arrives must not become the next command's:
        while echo is known to be on, whatever precedes the next command's
        echo is stale and reported as Noise.  A second abort in a row
        forgets what echo was (the echo itself may be what is garbled), so a
        resync cannot be locked out by it.
        """
        if self._mode is ProtocolMode.ESCAPING:
            self._mode = self._escape_from
        self._pending = None
        self._info = []
        if self._aborted:
            self._echo_on = None
        self._aborted = True

    def carrier_lost(self) -> None:
        """The engine saw the call end (DCD drop, DTR hang-up): leave data mode.

        Held-back bytes are released as data first, so nothing is lost.
        """
        if self._mode is not ProtocolMode.COMMAND:
            self._release_tail()
            self._mode = ProtocolMode.COMMAND
            if self._pending == ESCAPE_COMMAND:
                self._pending = None

    # --- input side -----------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Add bytes read from the modem."""
        if data:
            self._buf += data
            self._tail_held = False

    def end_of_input(self) -> None:
        """Nothing more is coming for now: resolve a held tail (see module docs)."""
        self._flush = True

    def next_event(self) -> Event | NeedData:
        """Return the next event, or :data:`NEED_DATA` when more bytes are needed."""
        while not self._events:
            if not self._step():
                self._flush = False
                return NEED_DATA
        return self._events.popleft()

    # --- internals ------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self._events.append(event)

    def _step(self) -> bool:
        buf = self._buf
        if self._skip_lf and buf:
            if buf[0] == self._lf:
                del buf[0]
            self._skip_lf = False
        if not buf:
            self._tail_held = False
            return False
        if self._mode is ProtocolMode.COMMAND:
            return self._step_line()
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
        line = bytes(buf[:i])
        # After a CR, padding (NUL, XON...) says nothing: the next significant
        # byte decides between information (LF) and a numeric result code.
        j = self._significant_after(i + 1)
        if buf[i] == self._lf:
            consumed, numeric_term = i + 1, False
        elif j < len(buf):
            if buf[j] == self._lf:
                consumed, numeric_term = j + 1, False
            else:
                consumed, numeric_term = i + 1, True
        else:
            if _is_numeric_token(_clean(line)) and not self._flush:
                self._tail_held = True
                return False
            # CR is the last byte: classify now, swallow an LF that may follow.
            consumed, numeric_term = i + 1, True
            self._skip_lf = True
        del buf[:consumed]
        self._tail_held = False
        if i > self._max_line:
            self._overflow(i, whole_buffer=False)
            return True
        self._handle_line(line, numeric_term)
        return True

    def _significant_after(self, start: int) -> int:
        """Index of the first byte from ``start`` on that is not padding."""
        buf = self._buf
        j = start
        while j < len(buf) and buf[j] != self._lf and buf[j] in _PADDING:
            j += 1
        return j

    def _overflow(self, n: int, *, whole_buffer: bool = True) -> None:
        """Discard a runaway line: the whole buffer while it is unterminated,
        only the line itself once its terminator has arrived."""
        if whole_buffer:
            self._buf.clear()
            self._skip_lf = False
        self._emit(ParseFailure(ParseError(
            f"line longer than {self._max_line} bytes; {n} bytes discarded"), n))

    def _handle_line(self, raw: bytes, cr_terminated: bool) -> None:
        text = _clean(raw).strip()
        if not text:
            return
        cmd = self._pending
        if cmd is not None and not self._echo_seen and self._is_echo(text, cmd):
            self._echo_seen = True
            self._emit(Echo(text))
            return
        stale = cmd is not None and self._echo_on is True and not self._echo_seen
        if cr_terminated and _is_numeric_token(text):
            verbose = numeric_text(text.strip(), self.numeric_family)
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
            urc = classify(text, cmd)
            if urc is not None:
                self._emit(urc)
                return
            final = parse_final(text)
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

    def _is_echo(self, text: str, command: str) -> bool:
        if command.upper() == REPEAT:
            return _squash(text) == REPEAT
        got, want = _squash(text), _squash(command)
        # Line noise before the echo (a stray byte) still leaves the echo at the end.
        return got == want or (len(want) >= 2 and got.endswith(want))

    def _handle_final(self, final: FinalCode, *, numeric: bool) -> None:
        cmd = self._pending
        if cmd is None:
            if final.code is ResultCode.NO_CARRIER:
                self._emit(CarrierLost(final.text))
            elif final.code is ResultCode.CONNECT:
                self._enter_data()
                fields = {"suffix": final.suffix}
                if final.rate is not None:
                    fields["rate"] = str(final.rate)
                self._emit(Unsolicited(UnsolicitedKind.CONNECT, final.text,
                                       MappingProxyType(fields)))
            else:
                self._emit(Noise(final.text, "final result with no command in flight"))
            return
        if self._echo_on and not self._echo_seen:
            self._emit(Noise(final.text, "final result before the echo of the command "
                                         "in flight: a late answer to an earlier command"))
            return
        self._verbose = not numeric
        self._aborted = False
        self._echo_on = None if _changes_echo(cmd) else self._echo_seen
        response = Response(final.code, final.text, tuple(self._info), final.rate,
                            final.suffix, cmd, numeric)
        self._pending = None
        self._info = []
        if final.code is ResultCode.CONNECT:
            self._enter_data()
        self._emit(response)

    def _enter_data(self) -> None:
        self._mode = ProtocolMode.DATA

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
            self._tail_held = False
            if pattern == self._ok:
                self._escape_answered(numeric=False)
            else:
                self._data_carrier_lost()
            return True
        hold = self._hold_length()
        if self._flush and hold:
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
        self._tail_held = hold > 0
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
        if self._mode is not ProtocolMode.COMMAND and self._buf:
            self._emit_data(len(self._buf))
        self._tail_held = False

    def _escape_answered(self, *, numeric: bool) -> None:
        self._mode = ProtocolMode.COMMAND
        self._pending = None
        self._emit(Response(ResultCode.OK, "OK", (), None, "", ESCAPE_COMMAND, numeric))

    def _data_carrier_lost(self) -> None:
        self._mode = ProtocolMode.COMMAND
        if self._pending == ESCAPE_COMMAND:
            self._pending = None
        self._emit(CarrierLost("NO CARRIER"))
