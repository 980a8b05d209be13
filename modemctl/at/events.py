"""Events the protocol core hands out.

Every event is an immutable value.  The engine dispatches them: ``Echo`` and
``Information`` belong to the command in flight, ``Response`` completes it,
and everything else (``Unsolicited``, ``CarrierLost``, ``Noise``,
``ParseFailure``) goes to event subscribers, never into a response.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from modemctl.at.codes import ResultCode
from modemctl.errors import ParseError


class NeedData(enum.Enum):
    """The core has no complete event until more bytes arrive.

    A one-member enum rather than a hand-made singleton: ``event is
    NEED_DATA`` then narrows ``Event | NeedData`` to ``Event`` for the type
    checker, and the value survives copying and pickling as itself.
    """

    NEED_DATA = "NEED_DATA"

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA


class Event:
    """Base class of every protocol event."""

    __slots__ = ()


class UnsolicitedKind(enum.Enum):
    """What an unsolicited line announces."""

    RING = "ring"                      # RING, RING n / RING A (distinctive ring), numeric 2
    CALLER_ID = "caller-id"            # DATE/TIME/NMBR/NAME/MESG = value
    MESSAGE_WAITING = "message-waiting"
    CALL_WAITING = "call-waiting"      # CALL WAITING DETECTED (Agere X5)
    RINGBACK = "ringback"              # RRING, RINGING: the far end is ringing
    PROGRESS = "progress"              # DIALING, CED, +A8...: call progress noise
    V92 = "v92"                        # +PCW / +PMH / +PMHR indications
    CONNECT = "connect"                # CONNECT with no command pending (auto-answer)


@dataclass(frozen=True, slots=True)
class Echo(Event):
    """The modem's echo of the command in flight."""

    text: str


@dataclass(frozen=True, slots=True)
class Information(Event):
    """An intermediate (information) line of the command in flight."""

    text: str


@dataclass(frozen=True, slots=True)
class Response(Event):
    """The final result of a command: the only thing that ends it.

    ``text`` is the final line as sent in verbose form (numeric codes are
    translated, ``numeric`` says so); ``info`` the information lines in order;
    ``rate`` the connect rate for ``CONNECT <rate>``; ``suffix`` what follows
    the rate (``/ARQ``, ``EC``, ``V42BIS``) or the delay of ``DELAYED``.
    """

    final: ResultCode
    text: str
    info: tuple[str, ...] = ()
    rate: int | None = None
    suffix: str = ""
    command: str | None = None
    numeric: bool = False

    @property
    def ok(self) -> bool:
        """True when the final code is OK."""
        return self.final is _OK


_OK = ResultCode.OK     # bound once: Response.ok is asked of every answer (see codes.failed)


@dataclass(frozen=True, slots=True)
class Unsolicited(Event):
    """An unsolicited line, taken out before response matching.

    ``fields`` holds what the line carries, e.g. ``{"field": "NMBR",
    "value": "5551234"}`` for caller ID or ``{"tag": "1"}`` for ``RING 1``.
    """

    kind: UnsolicitedKind
    text: str
    fields: MappingProxyType[str, str] = field(
        default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Data(Event):
    """Bytes received in data mode."""

    data: bytes


#: How the end of a call became known: the modem's NO CARRIER, DCD staying
#: low beyond the grace (the engine's line watch), or the port vanishing.
CarrierSource = Literal["result-code", "dcd", "port"]


@dataclass(frozen=True, slots=True)
class FlowControl(Event):
    """The modem paused (XOFF) or resumed (XON) our output while we send
    T.31 fax data (the only time XON/XOFF are taken out of the stream)."""

    paused: bool


@dataclass(frozen=True, slots=True)
class CarrierLost(Event):
    """The call ended under us: NO CARRIER in data mode or with no command
    pending, or (from the engine) DCD dropped."""

    text: str = "NO CARRIER"
    source: CarrierSource = "result-code"


@dataclass(frozen=True, slots=True)
class RingIndicator(Event):
    """The RI modem line went on (only on ports that have one)."""

    state: bool = True


@dataclass(frozen=True, slots=True)
class ResultFormat:
    """The result format the core believes the modem uses (None: not known yet).

    ``verbose``: V1 (``\\r\\nOK\\r\\n``) or V0 (``0\\r``); ``echo``: E1 or E0.
    Quiet (Q1) is not in it: a modem that reports nothing gives the core
    nothing to observe (see :class:`FormatChanged`).  The echo belief is what
    frames answers (see :mod:`modemctl.at.echo`).
    """

    verbose: bool | None = None
    echo: bool | None = None


@dataclass(frozen=True, slots=True)
class FormatChanged(Event):
    """The modem answers in another format than the core believed.

    Reported when what it does contradicts what was last set or seen: a
    verbose result after V0, a numeric one after V1, an echo after E0 (a
    stored profile restored by ``ATZ`` or a power cycle, another program, a
    firmware parser that took an unknown command for V0).  The core frames
    both formats at any time, so nothing is lost; the event is the driver's
    cue to re-assert the format it needs.  It comes just before the
    :class:`Echo` or :class:`Response` that showed the change, once per
    change (the core then believes ``current``).  A command that itself sets
    V does not raise it for its own answer.

    Echo going *off* is not reported: while echo is believed on, an answer
    without its echo cannot be told from a late answer to an earlier
    command, so it is refused and the command times out; that abort makes
    the core forget echo at once, so the next command frames.  (The driver
    runs with echo off, so echo going off needs no re-assert.)  Quiet (Q1)
    cannot be observed at all, except through the echo it may come with.
    """

    previous: ResultFormat
    current: ResultFormat
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Noise(Event):
    """A line that belongs to nothing: no command pending and not a known
    unsolicited line, or a final code that cannot be this command's."""

    text: str
    reason: str = "no command pending"


@dataclass(frozen=True, slots=True)
class ParseFailure(Event):
    """The core had to throw bytes away (runaway line); carries the typed error."""

    error: ParseError
    discarded: int
