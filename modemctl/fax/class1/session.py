"""The Class 1 (T.31) session: T.30 actions in AT terms, sans-IO.

:class:`Class1Session` owns a :class:`~modemctl.fax.t30.T30` machine and
turns each of its actions into the T.31 command sequence, and the modem's
answers back into T.30 events.  Like the AT core it does no I/O and reads
no clock: the async driver asks :meth:`Class1Session.next_op` what to do,
does it, and reports with :meth:`Class1Session.receive`.

Sequences (T.31; HylaFAX ``Class1*.c++`` and efax ``c1sndrcv`` do the same):

* frames out: ``AT+FTS=8`` (75 ms turnaround), ``AT+FTH=3`` -> CONNECT, each
  frame DLE-stuffed + DLE ETX -> CONNECT (more follow) / OK (final frame);
* frames in: ``AT+FRH=3`` -> CONNECT, data up to DLE ETX, then OK (good
  FCS) or ERROR (bad FCS: a :class:`~modemctl.fax.t30.BadFrame`); a frame
  without the final bit is followed by another ``AT+FRH=3``;
* TCF / page out: ``AT+FTS=8``, ``AT+FTM=<code>`` -> CONNECT, data, DLE ETX -> OK;
* TCF / page in: ``AT+FRM=<code>`` -> CONNECT, data up to DLE ETX, then a
  result.  ``+FCERROR`` means the far end sent V.21 instead (it repeated a
  command): the session switches to ``AT+FRH=3`` and delivers the frame.

Vendor differences are :class:`Class1Quirks` values (profile data).

Right after the call connected, the modem is already in V.21: after ``ATD``
it receives (implied ``+FRH=3``), after ``ATA`` it transmits (implied
``+FTH=3``); the first receive or send skips its command.  V.17 trains TCF
long and page data short (T.30; spandsp's fax tester checks the same).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from dataclasses import dataclass

from modemctl.at.codes import ResultCode
from modemctl.fax.class1.hdlc import DleDecoder, frame_to_wire, strip_fcs
from modemctl.fax.class1.modulation import Training, carrier_code
from modemctl.fax.t30 import (
    T30,
    Abort,
    Action,
    BadFrame,
    CancelTimer,
    Event,
    Finished,
    FrameError,
    FrameReceived,
    LineLost,
    Negotiated,
    PageDone,
    PageQuality,
    PageReceived,
    Params,
    ReceiveFrames,
    ReceivePage,
    ReceiveTraining,
    SendFrames,
    SendPage,
    SendTraining,
    StartTimer,
    TcfReceived,
    TimerExpired,
    decode_frame,
    encode_frame,
)
from modemctl.fax.t30.caps import Modulation
from modemctl.fax.t30.hangup import Direction

#: ``+FCERROR`` / NO CARRIER answers tolerated in one receive before giving up.
MAX_RECEIVE_RETRIES = 3


@dataclass(frozen=True)
class Class1Quirks:
    """How a modem family's Class 1 differs; filled from its profile, not branched on.

    ``fcs_octets``: octets the modem passes on after each received frame's
    data (T.31 DCEs deliver the two FCS octets; spandsp's T.31 does too);
    they are removed only when they are the frame's FCS, since some modems
    (and the fake exchange) pass none.  0: never look for them.
    ``tm_connect_delay``: protocol seconds to wait after ``+FTM``'s CONNECT
    before sending data, for modems that say CONNECT before their training
    is out (Agere; HylaFAX ``Class1TMConnectDelay``, 400 ms).
    ``turnaround_silence``: the ``+FTS`` value before each transmission, in
    10 ms units (T.30 asks 75 ms +-20 between signals; efax sends 8).
    """

    fcs_octets: int = 2
    tm_connect_delay: float = 0.0
    turnaround_silence: int = 8

    def __post_init__(self) -> None:
        if self.fcs_octets < 0 or self.tm_connect_delay < 0 or self.turnaround_silence < 0:
            raise ValueError("Class 1 quirk values must not be negative")


# --- ops out (what the driver does) ---------------------------------------------


class Op:
    """Base class of everything :meth:`Class1Session.next_op` hands out."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class AtCommand(Op):
    """Send this command line; report its final result with :class:`Result`."""

    command: str


@dataclass(frozen=True, slots=True)
class WriteData(Op):
    """Write these bytes (already stuffed, ending in DLE ETX); report the
    modem's answer with :class:`Result`."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Pause(Op):
    """Wait this many protocol seconds (scaled like every timer); no report."""

    seconds: float


@dataclass(frozen=True, slots=True)
class ReadData(Op):
    """Read data-mode bytes and report each chunk with :class:`Data` until
    the session hands out :class:`ReadResult`."""


@dataclass(frozen=True, slots=True)
class ReadResult(Op):
    """The data ended (DLE ETX): ``leftover`` is what followed it in the last
    chunk; read the final result line and report it with :class:`Result`."""

    leftover: bytes


@dataclass(frozen=True, slots=True)
class SendPageData(Op):
    """The modem said CONNECT to ``+FTM``: stream page ``index`` encoded per
    ``params`` (T.4 -> :func:`~modemctl.fax.class1.hdlc.page_to_wire`), then
    report the modem's answer with :class:`Result`."""

    index: int
    attempt: int
    params: Params


@dataclass(frozen=True, slots=True)
class ReceivePageData(Op):
    """The modem said CONNECT to ``+FRM``: read page data through a
    :class:`~modemctl.fax.class1.hdlc.PageDataDecoder` into the T.4 decoder
    until DLE ETX, read the final result, and report :class:`PageEnded`."""

    index: int
    attempt: int
    params: Params


@dataclass(frozen=True, slots=True)
class AbortReceive(Op):
    """Stop the receive in progress: write CAN (0x18), discard data, and
    report the final result that follows with :class:`Result`."""


@dataclass(frozen=True, slots=True)
class T30Notice(Op):
    """A T.30 action the driver performs itself: StartTimer, CancelTimer
    (its clock), Negotiated, PageDone (progress) and Finished (hang up).
    No report is expected."""

    action: Action


# --- events in (what the driver reports) ------------------------------------------


class Report:
    """Base class of everything fed to :meth:`Class1Session.receive`."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Result(Report):
    """The final result code that answered the op in progress."""

    code: ResultCode


@dataclass(frozen=True, slots=True)
class Data(Report):
    """Bytes read in data mode during :class:`ReadData`."""

    data: bytes


@dataclass(frozen=True, slots=True)
class PageEnded(Report):
    """Page data ended after :class:`ReceivePageData`: lines decoded, and the damage."""

    lines: int
    quality: PageQuality


@dataclass(frozen=True, slots=True)
class Timeout(Report):
    """A timer from a StartTimer notice ran out (T.30's TimerExpired)."""

    event: TimerExpired


@dataclass(frozen=True, slots=True)
class Hangup(Report):
    """The line or port is gone (DCD dropped, port closed), or the user aborts."""

    detail: str = ""
    user_abort: bool = False


_Step = Generator[Op | None, Report | None, None]
_MORE = None        # a step's way of saying "nothing to do, feed me more data"


class Class1Session:
    """One Class 1 fax call: T.30 on the host, T.31 towards the modem."""

    def __init__(self, t30: T30, quirks: Class1Quirks | None = None) -> None:
        self.t30 = t30
        self.quirks = quirks or Class1Quirks()
        self._ops: deque[Op] = deque()
        self._actions: deque[Action] = deque()
        self._step: _Step | None = None
        self._receiving = False
        self._sent_anything = False
        # After ATD the modem listens (implied +FRH=3); after ATA it talks.
        self._implied: str | None = "rx" if t30.direction is Direction.SEND else "tx"

    # --- the sans-IO interface ----------------------------------------------

    def start(self) -> None:
        """Start T.30; call once, right after CONNECT from ATD or ATA."""
        self.t30.start()
        self._pull()
        self._run()

    def next_op(self) -> Op | None:
        """The next thing to do, or None while the session waits for a report."""
        return self._ops.popleft() if self._ops else None

    def receive(self, report: Report) -> None:
        """Report what happened to the op in progress (or a timer / hang-up)."""
        if isinstance(report, Timeout):
            self._timeout(report.event)
        elif isinstance(report, Hangup):
            self._hangup(report)
        elif self._step is not None:
            self._resume(report)

    @property
    def finished(self) -> bool:
        """True when T.30 is over and every op has been handed out."""
        return self.t30.finished and not self._ops and not self._actions \
            and self._step is None

    # --- plumbing --------------------------------------------------------------------

    def _t30(self, event: Event) -> None:
        self.t30.receive(event)
        self._pull()

    def _end(self, event: Abort | LineLost) -> None:
        """End the call: what T.30 had queued will not happen any more."""
        self._actions.clear()
        self._t30(event)

    def _hangup(self, report: Hangup) -> None:
        if not report.user_abort:
            self._step = None              # the line is gone: nothing to finish
            self._receiving = False
            self._end(LineLost(report.detail or "hang-up"))
            self._run()
            return
        receiving = self._receiving
        self._end(Abort())
        if receiving:
            self._step = self._abort()     # stop listening, then send DCN
            self._resume(None)
        elif self._step is None:
            self._run()
        # else: a transmission is under way; DCN follows when it is done

    def _pull(self) -> None:
        while (action := self.t30.next_action()) is not None:
            self._actions.append(action)

    def _timeout(self, event: TimerExpired) -> None:
        before = len(self._actions)
        self._t30(event)
        if len(self._actions) == before or not self._receiving:
            self._run()                # T.30 ignored it, or we are sending: carry on
            return
        self._step = self._abort()     # T.30 moved on: stop listening first
        self._resume(None)

    def _resume(self, report: Report | None) -> None:
        assert self._step is not None
        while True:
            try:
                op = self._step.send(report)
            except StopIteration:
                self._step = None
                self._receiving = False
                self._run()
                return
            if not isinstance(op, Pause):
                break
            self._ops.append(op)           # performed in order, nothing to report
            report = None
        if op is not None:
            self._ops.append(op)

    def _run(self) -> None:
        """Start steps for queued T.30 actions until one waits for a report."""
        while self._step is None and self._actions:
            action = self._actions.popleft()
            if isinstance(action, (StartTimer, CancelTimer, Negotiated, PageDone, Finished)):
                self._ops.append(T30Notice(action))
                continue
            self._step = self._step_for(action)
            self._resume(None)

    def _step_for(self, action: Action) -> _Step:
        if isinstance(action, SendFrames):
            return self._send_frames(action)
        if isinstance(action, SendTraining):
            return self._send_training(action)
        if isinstance(action, SendPage):
            return self._send_page(action)
        if isinstance(action, ReceiveFrames):
            return self._receive_frames()
        if isinstance(action, ReceiveTraining):
            return self._receive_training(action.modulation)
        if isinstance(action, ReceivePage):
            return self._receive_page(action)
        raise TypeError(f"unknown T.30 action {action!r}")

    def _fail(self, command: str, code: ResultCode | None) -> None:
        text = code.value if code is not None else "no result"
        self._end(LineLost(f"{text} after {command}",
                           modem_error=code is not ResultCode.NO_CARRIER))

    # --- steps: each yields ops and receives the reports that answer them ----------

    def _command(self, command: str) -> Generator[Op | None, Report | None, ResultCode | None]:
        report = yield AtCommand(command)
        return report.code if isinstance(report, Result) else None

    def _transmit(self, command: str) -> Generator[Op | None, Report | None, bool]:
        """Turn the line around and start a carrier; False (after failing) if refused."""
        if self._implied == "tx" and command == "AT+FTH=3":
            self._implied = None
            return True
        self._implied = None
        silence = f"AT+FTS={self.quirks.turnaround_silence}"
        code = yield from self._command(silence)
        if code is not ResultCode.OK:
            self._fail(silence, code)
            return False
        code = yield from self._command(command)
        if code is not ResultCode.CONNECT:
            self._fail(command, code)
            return False
        if command.startswith("AT+FTM") and self.quirks.tm_connect_delay:
            yield Pause(self.quirks.tm_connect_delay)
        return True

    def _send_frames(self, action: SendFrames) -> _Step:
        if not (yield from self._transmit("AT+FTH=3")):
            return
        for frame in action.frames:
            report = yield WriteData(frame_to_wire(encode_frame(frame)))
            code = report.code if isinstance(report, Result) else None
            expected = ResultCode.OK if frame.final else ResultCode.CONNECT
            if code is not expected:
                self._fail(f"frame {frame.fcf.name}", code)
                return

    def _send_training(self, action: SendTraining) -> _Step:
        command = f"AT+FTM={carrier_code(action.modulation, Training.LONG)}"
        if not (yield from self._transmit(command)):
            return
        zeros = bytes(int(action.modulation.rate * action.seconds) // 8)
        report = yield WriteData(zeros + b"\x10\x03")
        if not (isinstance(report, Result) and report.code is ResultCode.OK):
            self._fail("TCF", report.code if isinstance(report, Result) else None)

    def _send_page(self, action: SendPage) -> _Step:
        command = f"AT+FTM={carrier_code(action.params.modulation, Training.SHORT)}"
        if not (yield from self._transmit(command)):
            return
        report = yield SendPageData(action.index, action.attempt, action.params)
        if not (isinstance(report, Result) and report.code is ResultCode.OK):
            self._fail(f"page {action.index + 1}",
                       report.code if isinstance(report, Result) else None)

    def _read_until_end(self, decoder: DleDecoder) -> Generator[Op | None, Report | None,
                                                                 ResultCode | None]:
        """ReadData, feed chunks to ``decoder`` until DLE ETX, then the result."""
        report = yield ReadData()
        while True:
            if isinstance(report, Data):
                decoder.feed(report.data)
                if decoder.ended:
                    report = yield ReadResult(decoder.leftover)
                    return report.code if isinstance(report, Result) else None
                report = yield _MORE
            elif isinstance(report, Result):      # the modem ended it without DLE ETX
                return report.code
            else:
                report = yield _MORE

    def _receive_frames(self) -> _Step:
        """Frames until one with the final bit (or a bad one) answers T.30."""
        self._receiving = True
        retries = 0
        while True:
            if self._implied == "rx":
                self._implied = None
            else:
                self._implied = None
                code = yield from self._command("AT+FRH=3")
                if code in (ResultCode.FCERROR, ResultCode.NO_CARRIER) \
                        and retries < MAX_RECEIVE_RETRIES:
                    retries += 1
                    continue
                if code is not ResultCode.CONNECT:
                    self._receiving = False
                    self._fail("AT+FRH=3", code)
                    return
            event = yield from self._one_frame()
            self._receiving = False
            queued = len(self._actions)
            self._t30(event)
            more = isinstance(event, FrameReceived) and not event.frame.final
            if not more or len(self._actions) > queued:
                return                     # the burst is over, or T.30 acted already
            self._receiving = True

    def _one_frame(self) -> Generator[Op | None, Report | None, BadFrame | FrameReceived]:
        collector = _Collector()
        code = yield from self._read_until_end(collector)
        if code is not ResultCode.OK:
            return BadFrame(f"{code.value if code else 'no result'} after the frame")
        body = bytes(collector.data)
        if self.quirks.fcs_octets:
            body = strip_fcs(body)
        try:
            return FrameReceived(decode_frame(body))
        except FrameError as exc:
            return BadFrame(exc.reason)

    def _high_speed(self, modulation: Modulation, training: Training
                    ) -> Generator[Op | None, Report | None, bool]:
        """``AT+FRM``; on +FCERROR the far end is talking V.21: take its frames."""
        command = f"AT+FRM={carrier_code(modulation, training)}"
        self._implied = None
        self._receiving = True
        code = yield from self._command(command)
        if code is ResultCode.CONNECT:
            return True
        if code is ResultCode.FCERROR:
            yield from self._receive_frames()
        else:
            self._receiving = False
            self._fail(command, code)
        return False

    def _receive_training(self, modulation: Modulation) -> _Step:
        if not (yield from self._high_speed(modulation, Training.LONG)):
            return
        counter = _ZeroRun()
        yield from self._read_until_end(counter)
        self._receiving = False
        self._t30(TcfReceived(counter.octets, counter.longest))

    def _receive_page(self, action: ReceivePage) -> _Step:
        if not (yield from self._high_speed(action.params.modulation, Training.SHORT)):
            return
        report = yield ReceivePageData(action.index, action.attempt, action.params)
        self._receiving = False
        if isinstance(report, PageEnded):
            self._t30(PageReceived(report.lines, report.quality))
        else:
            self._fail(f"page {action.index + 1}",
                       report.code if isinstance(report, Result) else None)

    def _abort(self) -> _Step:
        yield AbortReceive()          # any result will do: the receive is over


class _Collector(DleDecoder):
    """Keeps what it decodes (one HDLC frame: a few dozen octets)."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def feed(self, chunk: bytes) -> bytes:
        data = super().feed(chunk)
        self.data += data
        return data


class _ZeroRun(DleDecoder):
    """Counts TCF: octets received and the longest run of zero octets."""

    def __init__(self) -> None:
        super().__init__()
        self.octets = 0
        self.longest = 0
        self._run = 0

    def feed(self, chunk: bytes) -> bytes:
        data = super().feed(chunk)
        self.octets += len(data)
        for byte in data:
            self._run = self._run + 1 if byte == 0 else 0
            self.longest = max(self.longest, self._run)
        return data
