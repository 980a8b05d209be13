"""Why a fax call ended: T.30 phase and cause, as readable typed values.

Modelled on the T.32 ``+FHS`` hang-up status table (what a Class 2.0 modem
reports when it runs T.30 itself) and the reasons HylaFAX logs: every
:class:`Hangup` names the phase it happened in, a :class:`Cause`, the
direction, and carries the matching ``+FHS`` code.  Class 2/2.0 (part 2)
maps the modem's ``+FHS``/``+FHNG`` codes onto these same values, so callers
see one result type whichever side runs T.30.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Phase(enum.Enum):
    """T.30 phases: A call set-up, B pre-message, C message, D post-message, E release."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"


class Direction(enum.Enum):
    """Which way pages travel from this station's point of view."""

    SEND = "send"
    RECEIVE = "receive"


class Cause(enum.Enum):
    """What ended the call.  The value is a short readable slug."""

    NORMAL = "normal"
    NO_CONNECTION = "no-connection"             # the call was not set up (busy, no answer...)
    ABORTED = "aborted"                         # the local user stopped it
    CALL_LOST = "call-lost"                     # carrier / line gone (NO CARRIER)
    MODEM_ERROR = "modem-error"                 # the modem refused a Class 1 command
    T1_TIMEOUT = "t1-timeout"                   # no DIS (sender) / no DCS (receiver)
    REMOTE_DISCONNECT = "remote-disconnect"     # DCN where none was due
    INCOMPATIBLE = "incompatible"               # nothing in common / DCS we cannot take
    DCS_NO_RESPONSE = "dcs-no-response"         # DCS sent 3 times without response
    DIS_REPEATED = "dis-repeated"               # DIS received 3 times: DCS not recognised
    TRAINING_FAILED = "training-failed"         # FTT at the lowest speed
    INVALID_RESPONSE = "invalid-response"       # a response that answers nothing we sent
    MPS_NO_RESPONSE = "mps-no-response"         # MPS sent 3 times without response
    EOP_NO_RESPONSE = "eop-no-response"
    EOM_NO_RESPONSE = "eom-no-response"
    PAGE_REJECTED = "page-rejected"             # RTN after the last allowed retransmission
    PROCEDURE_INTERRUPT = "procedure-interrupt"  # PIN: the far end wants an operator
    T2_NO_PAGE = "t2-no-page"                   # CFR/MCF sent, no page came
    T2_NO_COMMAND = "t2-no-command"             # no post-page message / DCS came


#: T.32 +FHS code and text per cause, where T.32 has one of its own.
_FHS: dict[Cause, tuple[str, str]] = {
    Cause.NORMAL: ("00", "normal end of connection"),
    Cause.ABORTED: ("02", "call aborted"),
    Cause.T1_TIMEOUT: ("11", "no answer (T.30 T1 timeout)"),
    Cause.DCS_NO_RESPONSE: ("25", "DCS sent three times without response"),
    Cause.DIS_REPEATED: ("26", "DIS received three times; DCS not recognised"),
    Cause.TRAINING_FAILED: ("27", "failure to train at the lowest speed"),
    Cause.MPS_NO_RESPONSE: ("52", "no response to MPS repeated three times"),
    Cause.EOP_NO_RESPONSE: ("54", "no response to EOP repeated three times"),
    Cause.EOM_NO_RESPONSE: ("56", "no response to EOM repeated three times"),
    Cause.PROCEDURE_INTERRUPT: ("58", "unable to continue after PIN or PIP"),
    Cause.T2_NO_PAGE: ("73", "T.30 T2 timeout, expected page not received"),
}

#: T.32's "unspecified" code per direction and phase, for the other causes.
_UNSPECIFIED: dict[tuple[Direction, Phase], str] = {
    (Direction.SEND, Phase.A): "10", (Direction.RECEIVE, Phase.A): "10",
    (Direction.SEND, Phase.B): "20", (Direction.SEND, Phase.C): "40",
    (Direction.SEND, Phase.D): "50", (Direction.SEND, Phase.E): "50",
    (Direction.RECEIVE, Phase.B): "70", (Direction.RECEIVE, Phase.C): "90",
    (Direction.RECEIVE, Phase.D): "A0", (Direction.RECEIVE, Phase.E): "A0",
}

_TEXT: dict[Cause, str] = {
    Cause.NO_CONNECTION: "the call did not connect",
    Cause.CALL_LOST: "the call was lost",
    Cause.MODEM_ERROR: "the modem refused a fax command",
    Cause.REMOTE_DISCONNECT: "the far end disconnected (DCN)",
    Cause.INCOMPATIBLE: "the far end's capabilities do not match ours",
    Cause.INVALID_RESPONSE: "invalid response received",
    Cause.PAGE_REJECTED: "page rejected (RTN) after the last retransmission",
    Cause.T2_NO_COMMAND: "T.30 T2 timeout, expected command not received",
}


@dataclass(frozen=True)
class Hangup:
    """Where and why a fax call ended; ``detail`` adds specifics (page, code)."""

    phase: Phase
    cause: Cause
    direction: Direction
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True for a normal end."""
        return self.cause is Cause.NORMAL

    @property
    def fhs_code(self) -> str:
        """The T.32 ``+FHS`` code a Class 2.0 modem would report (hex digits)."""
        if self.cause in _FHS:
            return _FHS[self.cause][0]
        return _UNSPECIFIED[(self.direction, self.phase)]

    @property
    def text(self) -> str:
        """One readable line: cause text, phase, and detail."""
        base = _FHS[self.cause][1] if self.cause in _FHS else _TEXT[self.cause]
        more = f": {self.detail}" if self.detail else ""
        return f"{base} (phase {self.phase.value}, {self.direction.value}){more}"

    def __str__(self) -> str:
        return self.text
