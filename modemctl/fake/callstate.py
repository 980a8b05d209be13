"""The fake DCE's call states and every legal transition between them, as one table.

States follow V.250: *command* (on- or off-hook), *dialing* / *answering*
(abortable call set-up), *online data*, *online command* (after a guarded
``+++`` escape or an ``&D1`` DTR drop, call held), and *fax* (off-hook in a
Class 1 fax call, where :mod:`~modemctl.fake.t31` runs each transfer).  :data:`TRANSITIONS` is the
whole state machine: the DCE asks :func:`next_state` for every change, so a
change not listed here is a bug that raises instead of a modem that drifts
into a state no real modem has.  "What may happen while dialing?" is
answered by reading the table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DceState(enum.Enum):
    """Where the interpreter is in the V.250 state machine."""

    COMMAND = "command"
    DIALING = "dialing"
    ANSWERING = "answering"
    ONLINE_DATA = "online-data"
    ONLINE_COMMAND = "online-command"
    FAX = "fax"                    # off-hook in a Class 1 fax call (modemctl.fake.t31)


class DceEvent(enum.Enum):
    """What moves the DCE from one state to another."""

    DIAL = "dial"                  # D command (or a continued D...;)
    DIALLED = "dialled"            # a D...; string has been dialled: back to commands
    ANSWER = "answer"              # A command, or S0 auto-answer on a ring
    CONNECT = "connect"            # training finished: CONNECT
    ESCAPE = "escape"              # guarded +++, or DTR drop with &D1
    RETURN_ONLINE = "return"       # O command
    HANG_UP = "hang-up"            # H, Z, DTR drop, NO CARRIER, set-up failure, abort
    FAX_CONNECT = "fax-connect"    # class 1: V.21 heard after ATD, or sent after ATA + CED


class CwOutcome(enum.Enum):
    """What a modem in a call did when call waiting interrupted it."""

    IGNORED = "ignored"            # +PCW=2: the modem ignores the tone
    DAMAGED = "damaged"            # fax call: what was in flight arrived damaged
    RODE_THROUGH = "rode-through"  # the 300 ms interruption was shorter than S10-S9
    HELD = "held"                  # modem-on-hold granted by the far end, call resumes
    DROPPED = "dropped"            # NO CARRIER: the data session is lost


S, E = DceState, DceEvent

TRANSITIONS: dict[tuple[DceState, DceEvent], DceState] = {
    (S.COMMAND, E.DIAL): S.DIALING,
    (S.COMMAND, E.ANSWER): S.ANSWERING,
    (S.DIALING, E.DIALLED): S.COMMAND,
    (S.DIALING, E.CONNECT): S.ONLINE_DATA,
    (S.ANSWERING, E.CONNECT): S.ONLINE_DATA,
    (S.ONLINE_DATA, E.ESCAPE): S.ONLINE_COMMAND,
    (S.ONLINE_COMMAND, E.RETURN_ONLINE): S.ONLINE_DATA,
    (S.DIALING, E.FAX_CONNECT): S.FAX,
    (S.ANSWERING, E.FAX_CONNECT): S.FAX,
    **{(state, E.HANG_UP): S.COMMAND for state in DceState},
}
"""(state, event) → next state; anything else is illegal."""

del S, E


@dataclass(frozen=True)
class StateChange:
    """One step the DCE took through :data:`TRANSITIONS`: what a state observer is told.

    The event is part of it because states alone do not say what happened
    (online data is reached by CONNECT and by ``ATO``; a hang-up may leave an
    off-hook modem in command state, where it already was)."""

    old: DceState
    event: DceEvent
    new: DceState


class IllegalTransition(RuntimeError):
    """The DCE tried a state change the table does not allow (a bug in the fake)."""


def may(state: DceState, event: DceEvent) -> bool:
    """True when ``event`` is legal in ``state``."""
    return (state, event) in TRANSITIONS


def next_state(state: DceState, event: DceEvent) -> DceState:
    """The state after ``event``; raises :class:`IllegalTransition` if it is not legal."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(f"{event.value} is not legal in state {state.value}") from None
