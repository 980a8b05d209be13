"""Events into the T.30 machine and actions out of it.

The machine does no I/O and reads no clock.  Whoever runs it (the Class 1
session, driven by an async loop) performs each action in order and reports
what happened as events.  Receive actions complete with exactly one event:
a frame (or bad frame), a TCF report, a received page, a timer expiry or a
lost line.  Timers are actions too: the runner starts and cancels them and
reports :class:`TimerExpired`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from modemctl.fax.page import PageQuality
from modemctl.fax.t30.caps import Modulation, Params
from modemctl.fax.t30.frames import Frame
from modemctl.fax.t30.results import Outcome, PageResult


class Timer(enum.Enum):
    """T.30 timers; the value is the nominal duration in seconds."""

    T1 = 35.0      # identify the far end (DIS / DCS) before giving up
    T2 = 6.0       # a command (or page) is due
    T4 = 3.0       # a response to our command is due


# --- events in ---------------------------------------------------------------


class Event:
    """Base class of everything fed to :meth:`T30.receive`."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class FrameReceived(Event):
    """A V.21 frame arrived with a good FCS."""

    frame: Frame


@dataclass(frozen=True, slots=True)
class BadFrame(Event):
    """A V.21 frame arrived with a bad FCS, or bytes that are not a T.30 frame."""

    reason: str = "bad FCS"


@dataclass(frozen=True, slots=True)
class TcfReceived(Event):
    """The training check ended: how many bytes, and the longest run of zeros."""

    octets: int
    longest_zero_run: int


@dataclass(frozen=True, slots=True)
class PageReceived(Event):
    """Page data ended (RTC / carrier drop): scan lines decoded, and the damage."""

    lines: int
    quality: PageQuality


@dataclass(frozen=True, slots=True)
class TimerExpired(Event):
    """A timer started by :class:`StartTimer` ran out."""

    timer: Timer


@dataclass(frozen=True, slots=True)
class LineLost(Event):
    """The call is gone (NO CARRIER, port closed) or the modem refused a command."""

    detail: str = ""
    modem_error: bool = False


@dataclass(frozen=True, slots=True)
class Abort(Event):
    """The local user wants the call ended now (sends DCN, then stops)."""


# --- actions out -----------------------------------------------------------


class Action:
    """Base class of everything :meth:`T30.next_action` hands out."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SendFrames(Action):
    """Send these frames in one V.21 burst (the last one carries the final bit)."""

    frames: tuple[Frame, ...]


@dataclass(frozen=True, slots=True)
class ReceiveFrames(Action):
    """Listen for V.21 frames; completes with a final FrameReceived or a BadFrame.

    Frames without the final bit are reported as they come and leave the
    receive open (the rest of the burst follows).
    """


@dataclass(frozen=True, slots=True)
class SendTraining(Action):
    """Send TCF: ``seconds`` of zeros at ``modulation`` (long training)."""

    modulation: Modulation
    seconds: float = 1.5


@dataclass(frozen=True, slots=True)
class ReceiveTraining(Action):
    """Receive TCF at ``modulation``; completes with TcfReceived (or a frame,
    when the far end repeated its command instead)."""

    modulation: Modulation


@dataclass(frozen=True, slots=True)
class SendPage(Action):
    """Send page ``index`` (0-based), encoded per ``params``, at ``params.modulation``."""

    index: int
    attempt: int
    params: Params


@dataclass(frozen=True, slots=True)
class ReceivePage(Action):
    """Receive page ``index`` per ``params``; completes with PageReceived (or a
    frame, when the far end sent a command instead of page data)."""

    index: int
    attempt: int
    params: Params


@dataclass(frozen=True, slots=True)
class StartTimer(Action):
    """Start (or restart) ``timer`` for ``seconds``."""

    timer: Timer
    seconds: float


@dataclass(frozen=True, slots=True)
class CancelTimer(Action):
    """Stop ``timer`` if it is running."""

    timer: Timer


@dataclass(frozen=True, slots=True)
class Negotiated(Action):
    """Information: a DCS was sent or accepted (for progress reports)."""

    params: Params
    remote_id: str | None


@dataclass(frozen=True, slots=True)
class PageDone(Action):
    """Information: a page got its post-page response (for progress reports)."""

    result: PageResult


@dataclass(frozen=True, slots=True)
class Finished(Action):
    """The call is over; hang up.  Always the last action."""

    outcome: Outcome
