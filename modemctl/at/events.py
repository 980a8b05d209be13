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


class NeedData:
    """Sentinel type: the core has no complete event until more bytes arrive."""

    _instance: NeedData | None = None

    def __new__(cls) -> NeedData:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA: Final = NeedData()


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
        return self.final is ResultCode.OK


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
