"""Call states and disconnect reasons (TAPI's LINECALLSTATE_ / LINEDISCONNECTMODE_).

The names follow TAPI so that people who know lineMakeCall recognise them;
:func:`reason_for_result` is the one place where Hayes final result codes
are turned into disconnect reasons (reference §3.3).
"""

from __future__ import annotations

import enum

from modemctl.errors import InvalidCallState


class CallState(enum.Enum):
    """Where a call is (TAPI LINECALLSTATE_ subset a modem can observe).

    A Hayes modem reports nothing between ``ATD`` and the final result
    except an optional ``RINGING``, so an outgoing call goes IDLE →
    DIALTONE (off-hook, waiting for dial tone) → DIALING (the dial string
    is being sent) → RINGBACK (only if the modem reports ``RINGING``) →
    CONNECTED or DISCONNECTED.  PROCEEDING is used after ``ATA`` while the
    modems train on an answered call; ACCEPTED is not used.
    """

    IDLE = "idle"
    OFFERING = "offering"
    DIALTONE = "dialtone"
    DIALING = "dialing"
    PROCEEDING = "proceeding"
    RINGBACK = "ringback"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


_S = CallState

#: Every legal change of call state, in one place (as h11's ``_state.py``):
#: anything not listed is a bug in the line and raises.  DISCONNECTED is
#: reachable from every live state and leaves to none - a call is not reused.
TRANSITIONS: dict[CallState, frozenset[CallState]] = {
    _S.IDLE: frozenset({_S.DIALTONE, _S.DISCONNECTED}),
    _S.OFFERING: frozenset({_S.PROCEEDING, _S.DISCONNECTED}),
    _S.DIALTONE: frozenset({_S.DIALING, _S.DISCONNECTED}),
    _S.DIALING: frozenset({_S.RINGBACK, _S.CONNECTED, _S.DISCONNECTED}),
    _S.RINGBACK: frozenset({_S.CONNECTED, _S.DISCONNECTED}),
    _S.PROCEEDING: frozenset({_S.CONNECTED, _S.DISCONNECTED}),
    _S.CONNECTED: frozenset({_S.DISCONNECTED}),
    _S.DISCONNECTED: frozenset(),
}


def check_transition(call_id: str, old: CallState, new: CallState) -> None:
    """Raise InvalidCallState unless ``old`` → ``new`` is in :data:`TRANSITIONS`."""
    if new not in TRANSITIONS[old]:
        raise InvalidCallState(f"call {call_id} cannot go from {old.name} to {new.name}")


class DisconnectReason(enum.Enum):
    """Why a call ended (TAPI LINEDISCONNECTMODE_ names, plus CARRIERLOST).

    ``CARRIERLOST`` is not a TAPI value: it is kept apart from NORMAL
    because a modem that loses carrier mid-call (line noise, call waiting
    on an unsecured call, far end lost power) is not the same event as the
    far end clearing the call down, and a caller deciding whether to retry
    needs to know which it was.
    """

    NORMAL = "normal"              # we dropped it, or the far end cleared down
    CARRIERLOST = "carrierlost"    # carrier lost mid-call (not a clear-down we saw)
    CALLWAITING = "callwaiting"    # the modem reported call waiting and lost the call
    BUSY = "busy"
    NOANSWER = "noanswer"          # unanswered (far end; or an offer whose caller gave up)
    NODIALTONE = "nodialtone"
    UNAVAIL = "unavail"            # NO CARRIER during set-up: no modem answered / no training
    BLOCKED = "blocked"            # BLACKLISTED / DIALING DISABLED
    TEMPFAILURE = "tempfailure"    # DELAYED (redial delay)
    CANCELLED = "cancelled"        # we gave up before it connected
    REJECT = "reject"              # an offered call we dropped instead of answering
    UNKNOWN = "unknown"


#: Final result codes of a failed set-up (canonical V.250 spelling).
_SETUP_RESULTS: dict[str, DisconnectReason] = {
    "BUSY": DisconnectReason.BUSY,
    "NO ANSWER": DisconnectReason.NOANSWER,
    "NO DIALTONE": DisconnectReason.NODIALTONE,
    "NO CARRIER": DisconnectReason.UNAVAIL,
    "BLACKLISTED": DisconnectReason.BLOCKED,
    "DIALING DISABLED": DisconnectReason.BLOCKED,
    "DELAYED": DisconnectReason.TEMPFAILURE,
    "ERROR": DisconnectReason.UNKNOWN,
}


def reason_for_result(canonical: str) -> DisconnectReason:
    """The disconnect reason of a dial/answer that ended with ``canonical``.

    ``canonical`` is the result text with vendor spellings already mapped to
    V.250 (``NO DIAL TONE`` → ``NO DIALTONE``, done by the profile); a
    trailing number (``DELAYED 24``) is ignored.
    """
    text = canonical.strip().upper()
    for code, reason in _SETUP_RESULTS.items():
        if text == code or text.startswith(code + " "):
            return reason
    return DisconnectReason.UNKNOWN
