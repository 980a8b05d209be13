"""Line events and their fan-out to subscribers.

``Line.events()`` yields these values: call state changes, rings, caller
ID, call waiting seen during a call, message waiting.  Each subscriber has
its own bounded queue, filled from the moment ``events()`` is called; a
subscriber that stops reading loses the oldest events (counted in
``dropped``) rather than stalling the line, because the line must keep
reading the modem whatever a slow consumer does.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.hub import Hub
from modemctl.hub import Subscription as HubSubscription
from modemctl.line.report import SecureReport
from modemctl.line.states import CallState, DisconnectReason


@dataclass(frozen=True)
class StateChanged:
    """A call moved from one state to another."""

    call_id: str
    old: CallState
    new: CallState
    reason: DisconnectReason | None = None


@dataclass(frozen=True)
class Ring:
    """The line rang (``count`` since the last call or ring timeout)."""

    count: int
    tag: str | None = None


@dataclass(frozen=True)
class CallerId:
    """Caller ID as delivered between the first and second ring."""

    number: str | None
    name: str | None
    date: str | None = None
    time: str | None = None
    withheld: str | None = None


@dataclass(frozen=True)
class CallWaitingSeen:
    """A third party called while a call was up (``source`` says how we know)."""

    call_id: str | None
    source: str


@dataclass(frozen=True)
class MessageWaiting:
    """The exchange signalled voicemail (``state`` as the modem gave it)."""

    state: str | None


@dataclass(frozen=True)
class Secured:
    """A call was secured (at dial, answer or mid-call); the report says how."""

    call_id: str
    report: SecureReport


LineEvent = StateChanged | Ring | CallerId | CallWaitingSeen | MessageWaiting | Secured

#: One subscriber's line events (``Line.events()``): the generic bounded,
#: drop-oldest fan-out of :mod:`modemctl.hub`, shared with the engine.
Subscription = HubSubscription[LineEvent]
#: Fan-out of line events to any number of subscribers, never blocking the line.
EventHub = Hub[LineEvent]
