"""The T.30 machine for both directions: events in, actions out.

Sans-IO, like :class:`modemctl.at.ATConnection`: no I/O, no clock, no
asyncio.  :meth:`T30.receive` takes one event, looks up the handler in
:data:`~modemctl.fax.t30.state.RULES` and queues the actions the handler
emits; :meth:`T30.next_action` hands them out in order.  The runner does
each action and feeds back what happened.  Every call ends with exactly one
:class:`~modemctl.fax.t30.events.Finished` action carrying the
:class:`~modemctl.fax.t30.results.Outcome`.

Policies that T.30 leaves open, chosen here:

* Commands (DCS with its TCF, post-page messages) are tried 3 times: again
  on T4 expiry, on CRP, and on a response with a bad FCS.
* After FTT the sender steps one rung down :data:`~modemctl.fax.t30.caps.LADDER`.
* After RTN it trains again at the same rate and sends the page again, up to
  ``max_page_attempts`` in all, then gives up with DCN.  After RTP it trains
  again and goes on.  PIP is taken as MCF; PIN ends the call (no operator).
* The receiver repeats DIS every T4 until T1, answers a repeated post-page
  message with its last response (the response was lost), and judges TCF
  good when the longest run of zeros lasts at least 1 s of the 1.5 s.
* The receiver does not send CRP; a garbled command is left to the
  sender's T4 repeat.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from modemctl.errors import FrameError
from modemctl.fax.page import PageQuality, Resolution
from modemctl.fax.t30.caps import (
    Capabilities,
    Modulation,
    Params,
    accepts,
    choose_params,
    decode_dcs,
    decode_dis,
    encode_dcs,
    encode_dis,
    ladder,
)
from modemctl.fax.t30.events import (
    Abort,
    Action,
    BadFrame,
    CancelTimer,
    Event,
    Finished,
    FrameReceived,
    LineLost,
    Negotiated,
    PageDone,
    PageReceived,
    ReceiveFrames,
    ReceivePage,
    ReceiveTraining,
    SendFrames,
    SendPage,
    SendTraining,
    StartTimer,
    TcfReceived,
    Timer,
    TimerExpired,
)
from modemctl.fax.t30.frames import (
    FCF,
    ID_FRAMES,
    POST_PAGE,
    Frame,
    decode_station_id,
    encode_station_id,
)
from modemctl.fax.t30.hangup import Cause, Direction, Hangup
from modemctl.fax.t30.results import CopyQuality, Outcome, PageResult
from modemctl.fax.t30.state import (
    ANY_STATE,
    DEFAULT_HANDLER,
    FRAME_TRIGGER,
    PHASE,
    RULES,
    State,
    Trigger,
)

#: TCF is good when the longest zero run lasts this long (of the 1.5 s sent).
TCF_GOOD_SECONDS = 1.0
TCF_SECONDS = 1.5

_NO_RESPONSE = {FCF.MPS: Cause.MPS_NO_RESPONSE, FCF.EOP: Cause.EOP_NO_RESPONSE,
                FCF.EOM: Cause.EOM_NO_RESPONSE}


@dataclass(frozen=True)
class T30Config:
    """What a station offers and how patient it is.

    ``capabilities`` are the local ones: for a receiver they go into its
    DIS; for a sender they limit what it chooses (its modulations are what
    the modem lists in ``+FTM=?``).  ``resolution`` is what the sender's
    pages are rendered at (fine falls back to standard if the far end cannot
    take it).
    """

    capabilities: Capabilities = field(default_factory=Capabilities)
    local_id: str = ""
    resolution: Resolution = Resolution.STANDARD
    copy_quality: CopyQuality = field(default_factory=CopyQuality)
    command_tries: int = 3
    max_page_attempts: int = 3
    timers: Mapping[Timer, float] = field(
        default_factory=lambda: {t: t.value for t in Timer})

    def __post_init__(self) -> None:
        encode_station_id(self.local_id)          # fail early on a bad ID
        if self.command_tries < 1 or self.max_page_attempts < 1:
            raise ValueError("command_tries and max_page_attempts must be at least 1")


class T30:
    """One fax call's T.30 procedure, sending or receiving.

    Build with :meth:`sender` or :meth:`receiver` right after the call is
    connected in fax mode, call :meth:`start`, then alternate
    :meth:`next_action` (until it returns None) and :meth:`receive`.
    """

    def __init__(self, direction: Direction, config: T30Config, page_count: int) -> None:
        if direction is Direction.SEND and page_count < 1:
            raise ValueError("a fax to send needs at least one page")
        self.direction = direction
        self.config = config
        self.page_count = page_count
        self.state = State.DONE
        self.remote_id: str | None = None
        self.remote_caps: Capabilities | None = None
        self.params: Params | None = None
        self.outcome: Outcome | None = None
        self._actions: deque[Action] = deque()
        self._timers: set[Timer] = set()
        self._listen: Action = ReceiveFrames()
        self._pages: dict[int, PageResult] = {}
        self._page = 0             # index of the page in progress
        self._attempt = 1          # attempt at that page
        self._tries = 1            # tries of the command in flight
        self._rungs: tuple[Modulation, ...] = ()
        self._rung = 0
        self._ppm = FCF.MPS        # post-page message in flight / last received
        self._last_response: tuple[Frame, ...] = ()
        self._quality: PageQuality | None = None
        self._lines = 0
        self._page_sent = False
        self._started = False

    @classmethod
    def sender(cls, config: T30Config, page_count: int) -> T30:
        """A station that called out to send ``page_count`` pages."""
        return cls(Direction.SEND, config, page_count)

    @classmethod
    def receiver(cls, config: T30Config) -> T30:
        """A station that answered to receive."""
        return cls(Direction.RECEIVE, config, 0)

    # --- the sans-IO interface --------------------------------------------

    def start(self) -> None:
        """Begin Phase B: the caller listens for DIS, the answerer sends it."""
        if self._started:
            raise RuntimeError("T30.start() called twice")
        self._started = True
        if self.direction is Direction.SEND:
            self.state = State.S_WAIT_DIS
            self._await(ReceiveFrames(), Timer.T1)
        else:
            self._start(Timer.T1)
            self._send_dis()

    def receive(self, event: Event) -> None:
        """Feed one event; its actions queue up for :meth:`next_action`.

        Events after the end are ignored (a late frame or timer is harmless).
        """
        if not self._started:
            raise RuntimeError("T30.receive() before start()")
        if self.state is State.DONE:
            return
        trigger = self._trigger(event)
        handler_name = RULES[self.state].get(trigger) or ANY_STATE.get(trigger) \
            or DEFAULT_HANDLER
        handler: Callable[[Event], None] = getattr(self, "_on_" + handler_name)
        handler(event)

    def next_action(self) -> Action | None:
        """The next action to perform, or None while waiting for an event."""
        return self._actions.popleft() if self._actions else None

    @property
    def finished(self) -> bool:
        """True once the Finished action has been queued."""
        return self.outcome is not None

    # --- plumbing -----------------------------------------------------------

    @staticmethod
    def _trigger(event: Event) -> Trigger:
        if isinstance(event, FrameReceived):
            return FRAME_TRIGGER.get(event.frame.fcf, Trigger.OTHER)
        if isinstance(event, BadFrame):
            return Trigger.BAD_FRAME
        if isinstance(event, TimerExpired):
            return Trigger[event.timer.name]
        if isinstance(event, TcfReceived):
            return Trigger.TCF
        if isinstance(event, PageReceived):
            return Trigger.PAGE
        if isinstance(event, LineLost):
            return Trigger.LINE_LOST
        if isinstance(event, Abort):
            return Trigger.ABORT
        raise TypeError(f"not a T.30 event: {event!r}")

    def _emit(self, *actions: Action) -> None:
        self._actions.extend(actions)

    def _start(self, timer: Timer) -> None:
        self._timers.add(timer)
        self._emit(StartTimer(timer, self.config.timers[timer]))

    def _cancel(self, *timers: Timer) -> None:
        for timer in timers:
            if timer in self._timers:
                self._timers.discard(timer)
                self._emit(CancelTimer(timer))

    def _await(self, action: Action, timer: Timer) -> None:
        # The timer starts before the receive action, which blocks the runner.
        self._start(timer)
        self._listen = action
        self._emit(action)

    @property
    def _x(self) -> bool:
        # The station that received DIS (the sender) sets the X bit.
        return self.direction is Direction.SEND

    def _frame(self, fcf: FCF, fif: bytes = b"", final: bool = True) -> Frame:
        return Frame(fcf, fif, x=self._x and fcf.has_x_bit, final=final)

    def _id_frames(self, fcf: FCF) -> tuple[Frame, ...]:
        if not self.config.local_id:
            return ()
        return (self._frame(fcf, encode_station_id(self.config.local_id), final=False),)

    def _finish(self, cause: Cause, detail: str = "", *, dcn: bool = False) -> None:
        phase = PHASE[self.state]
        if dcn:
            self._emit(SendFrames((self._frame(FCF.DCN),)))
        self._cancel(*sorted(self._timers, key=lambda t: t.name))
        if (self.direction is Direction.SEND and self._page_sent
                and self._page not in self._pages and self.params is not None):
            self._pages[self._page] = PageResult(self._page, False, self._attempt,
                                                 self.params, None)
        self.state = State.DONE
        self.outcome = Outcome(
            direction=self.direction,
            hangup=Hangup(phase, cause, self.direction, detail),
            pages=tuple(self._pages[i] for i in sorted(self._pages)),
            remote_id=self.remote_id, params=self.params)
        self._emit(Finished(self.outcome))

    # --- handlers shared by both directions -----------------------------------

    def _on_listen(self, event: Event) -> None:
        """Keep listening after a frame nobody acts on (timers: ignored)."""
        if isinstance(event, BadFrame) or (
                isinstance(event, FrameReceived) and event.frame.final):
            self._emit(self._listen)

    def _on_remember(self, event: Event) -> None:
        assert isinstance(event, FrameReceived)
        if event.frame.fcf in ID_FRAMES:
            self.remote_id = decode_station_id(event.frame.fif)
        self._on_listen(event)

    def _on_remote_disconnect(self, event: Event) -> None:
        self._finish(Cause.REMOTE_DISCONNECT)

    def _on_finish_normal(self, event: Event) -> None:
        self._finish(Cause.NORMAL)

    def _on_line_lost(self, event: Event) -> None:
        assert isinstance(event, LineLost)
        self._finish(Cause.MODEM_ERROR if event.modem_error else Cause.CALL_LOST, event.detail)

    def _on_abort(self, event: Event) -> None:
        self._finish(Cause.ABORTED, dcn=True)

    def _on_give_up_t1(self, event: Event) -> None:
        self._timers.discard(Timer.T1)
        self._finish(Cause.T1_TIMEOUT)

    # --- sender -------------------------------------------------------------------

    def _on_send_dcs(self, event: Event) -> None:
        assert isinstance(event, FrameReceived)
        try:
            remote = decode_dis(event.frame.fif)
        except FrameError:
            self._emit(self._listen)       # unreadable DIS: the far end repeats it
            return
        self.remote_caps = remote
        self._cancel(Timer.T1)
        if not remote.can_receive:
            self._finish(Cause.INCOMPATIBLE, "the far end is not ready to receive", dcn=True)
            return
        self._rungs = ladder(remote.modulations & self.config.capabilities.modulations)
        if not self._rungs:
            self._finish(Cause.INCOMPATIBLE, "no common modulation", dcn=True)
            return
        self._rung = 0
        self._tries = 1
        self._send_dcs_tcf()

    def _send_dcs_tcf(self) -> None:
        assert self.remote_caps is not None
        self.params = choose_params(self.config.capabilities, self.remote_caps,
                                    self.config.resolution, self._rungs[self._rung])
        self.params = replace(self.params, raw=encode_dcs(self.params))
        self._emit(Negotiated(self.params, self.remote_id))
        self._emit(SendFrames((*self._id_frames(FCF.TSI),
                               self._frame(FCF.DCS, self.params.raw))))
        self._emit(SendTraining(self.params.modulation, TCF_SECONDS))
        self.state = State.S_WAIT_CFR
        self._await(ReceiveFrames(), Timer.T4)

    def _on_fall_back(self, event: Event) -> None:
        self._cancel(Timer.T4)
        if self._rung + 1 >= len(self._rungs):
            self._finish(Cause.TRAINING_FAILED, f"FTT at {self._rungs[self._rung]}", dcn=True)
            return
        self._rung += 1
        self._tries = 1
        self._send_dcs_tcf()

    def _on_repeat_dcs(self, event: Event) -> None:
        self._repeat_dcs(Cause.DCS_NO_RESPONSE)

    def _on_dis_again(self, event: Event) -> None:
        self._repeat_dcs(Cause.DIS_REPEATED)

    def _repeat_dcs(self, cause: Cause) -> None:
        self._cancel(Timer.T4)
        if self._tries >= self.config.command_tries:
            self._finish(cause, f"after {self._tries} tries", dcn=True)
            return
        self._tries += 1
        self._send_dcs_tcf()

    def _on_send_page(self, event: Event) -> None:
        self._cancel(Timer.T4)
        self._send_page_and_ppm()

    def _send_page_and_ppm(self) -> None:
        assert self.params is not None
        self._emit(SendPage(self._page, self._attempt, self.params))
        self._page_sent = True
        self._ppm = FCF.MPS if self._page + 1 < self.page_count else FCF.EOP
        self._tries = 1
        self._send_ppm()

    def _send_ppm(self) -> None:
        self._emit(SendFrames((self._frame(self._ppm),)))
        self.state = State.S_WAIT_PPR
        self._await(ReceiveFrames(), Timer.T4)

    def _on_repeat_ppm(self, event: Event) -> None:
        self._cancel(Timer.T4)
        if self._tries >= self.config.command_tries:
            self._finish(_NO_RESPONSE[self._ppm], f"page {self._page + 1}", dcn=True)
            return
        self._tries += 1
        self._send_ppm()

    def _record_sent(self, response: FCF, accepted: bool) -> None:
        assert self.params is not None
        result = PageResult(self._page, accepted, self._attempt, self.params, response)
        self._pages[self._page] = result
        self._emit(PageDone(result))

    def _on_page_confirmed(self, event: Event) -> None:
        assert isinstance(event, FrameReceived)
        self._cancel(Timer.T4)
        self._record_sent(event.frame.fcf, True)
        if self._page + 1 < self.page_count:
            self._page += 1
            self._attempt = 1
            self._send_page_and_ppm()
        else:
            self._finish(Cause.NORMAL, dcn=True)

    def _on_page_confirmed_retrain(self, event: Event) -> None:
        self._cancel(Timer.T4)
        self._record_sent(FCF.RTP, True)
        if self._page + 1 < self.page_count:
            self._page += 1
            self._attempt = 1
            self._page_sent = False
            self._tries = 1
            self._send_dcs_tcf()
        else:
            self._finish(Cause.NORMAL, dcn=True)

    def _on_page_rejected(self, event: Event) -> None:
        self._cancel(Timer.T4)
        self._record_sent(FCF.RTN, False)
        if self._attempt >= self.config.max_page_attempts:
            self._finish(Cause.PAGE_REJECTED,
                         f"page {self._page + 1} after {self._attempt} attempts", dcn=True)
            return
        self._attempt += 1
        self._tries = 1
        self._send_dcs_tcf()

    def _on_interrupted(self, event: Event) -> None:
        self._cancel(Timer.T4)
        self._record_sent(FCF.PIN, False)
        self._finish(Cause.PROCEDURE_INTERRUPT, f"PIN after page {self._page + 1}", dcn=True)

    def _on_invalid_response(self, event: Event) -> None:
        assert isinstance(event, FrameReceived)
        self._finish(Cause.INVALID_RESPONSE,
                     f"{event.frame.fcf.name} after {self._ppm.name}", dcn=True)

    # --- receiver -----------------------------------------------------------------

    def _send_dis(self) -> None:
        dis = encode_dis(self.config.capabilities)
        self._emit(SendFrames((*self._id_frames(FCF.CSI), self._frame(FCF.DIS, dis))))
        self.state = State.R_WAIT_DCS
        self._await(ReceiveFrames(), Timer.T4)

    def _on_repeat_dis(self, event: Event) -> None:
        self._cancel(Timer.T4)
        self._send_dis()

    def _on_check_dcs(self, event: Event) -> None:
        assert isinstance(event, FrameReceived)
        try:
            params = decode_dcs(event.frame.fif)
        except FrameError:
            self._on_listen(event)          # garbled DCS: the sender repeats it
            return
        why_not = accepts(self.config.capabilities, params)
        if why_not is not None:
            self._finish(Cause.INCOMPATIBLE, why_not, dcn=True)
            return
        self._cancel(Timer.T1, Timer.T2, Timer.T4)
        self.params = params
        self._emit(Negotiated(params, self.remote_id))
        self.state = State.R_WAIT_TCF
        self._await(ReceiveTraining(params.modulation), Timer.T2)

    def _on_judge_tcf(self, event: Event) -> None:
        assert isinstance(event, TcfReceived) and self.params is not None
        self._cancel(Timer.T2)
        good = event.longest_zero_run * 8 >= self.params.modulation.rate * TCF_GOOD_SECONDS
        if good:
            self._respond(FCF.CFR)
            self._await_page()
        else:
            self._respond(FCF.FTT)
            self._await_command()

    def _respond(self, fcf: FCF) -> None:
        self._last_response = (self._frame(fcf),)
        self._emit(SendFrames(self._last_response))

    def _await_page(self) -> None:
        assert self.params is not None
        self.state = State.R_WAIT_PAGE
        self._await(ReceivePage(self._page, self._attempt, self.params), Timer.T2)

    def _await_command(self) -> None:
        self.state = State.R_WAIT_CMD
        self._await(ReceiveFrames(), Timer.T2)

    def _on_await_command(self, event: Event) -> None:
        self._cancel(Timer.T2)
        self._await_command()

    def _on_page_received(self, event: Event) -> None:
        assert isinstance(event, PageReceived)
        self._cancel(Timer.T2)
        self._quality = event.quality
        self._lines = event.lines
        self.state = State.R_WAIT_PPM
        self._await(ReceiveFrames(), Timer.T2)

    def _on_answer_ppm(self, event: Event) -> None:
        assert isinstance(event, FrameReceived) and self.params is not None
        assert self._quality is not None
        self._cancel(Timer.T2)
        self._ppm = POST_PAGE[event.frame.fcf]
        good = self.config.copy_quality.acceptable(self._lines, self._quality)
        response = FCF.MCF if good else FCF.RTN
        result = PageResult(self._page, good, self._attempt, self.params, response,
                            self._lines, self._quality)
        self._pages[self._page] = result
        self._emit(PageDone(result))
        self._respond(response)
        if not good:
            self._attempt += 1
            self._await_command()
            return
        self._page += 1
        self._attempt = 1
        if self._ppm is FCF.MPS:
            self._await_page()
        elif self._ppm is FCF.EOP:
            self.state = State.R_WAIT_DCN
            self._await(ReceiveFrames(), Timer.T2)
        else:                               # EOM: back to Phase B, DIS again
            self._start(Timer.T1)
            self._send_dis()

    def _on_repeat_response(self, event: Event) -> None:
        if not self._last_response:
            self._on_listen(event)
            return
        if isinstance(event, FrameReceived) and not event.frame.final:
            return
        self._cancel(Timer.T2)
        self._emit(SendFrames(self._last_response))
        self._await(self._listen, Timer.T2)

    def _on_give_up_t2_page(self, event: Event) -> None:
        self._timers.discard(Timer.T2)
        self._finish(Cause.T2_NO_PAGE, f"page {self._page + 1}")

    def _on_give_up_t2_command(self, event: Event) -> None:
        self._timers.discard(Timer.T2)
        self._finish(Cause.T2_NO_COMMAND)
