"""TAPI-shaped line and call API over the AT driver, with secure calls.

``open_line`` gives a :class:`Line`; ``Line.make_call`` / ``wait_for_call``
give :class:`Call` objects whose ``secure`` flag protects a data or fax
session from call waiting (see ``secure.py`` for how, and
``modemctl.line.sync`` for the synchronous facade).
"""

from modemctl.line.call import Call
from modemctl.line.caps import LineCaps, MechanismCap
from modemctl.line.events import (
    CallerId,
    CallWaitingSeen,
    LineEvent,
    MessageWaiting,
    Ring,
    Secured,
    StateChanged,
    Subscription,
)
from modemctl.line.line import Line, open_line
from modemctl.line.report import Mechanism, MechanismReport, SecureReport
from modemctl.line.states import CallState, DisconnectReason

__all__ = [
    "Call",
    "CallState",
    "CallWaitingSeen",
    "CallerId",
    "DisconnectReason",
    "Line",
    "LineCaps",
    "LineEvent",
    "Mechanism",
    "MechanismCap",
    "MechanismReport",
    "MessageWaiting",
    "Ring",
    "SecureReport",
    "Secured",
    "StateChanged",
    "Subscription",
    "open_line",
]
