"""The engine's event fan-out: the generic :mod:`modemctl.hub` over AT-core events.

Unsolicited lines, carrier loss, RI and noise reach any number of
subscribers, each with its own bounded drop-oldest queue, so that the reader
task never waits for one of them (see :mod:`modemctl.hub` for why).
"""

from __future__ import annotations

from modemctl.at.events import Event
from modemctl.hub import DEFAULT_MAXSIZE, Hub, Subscription

__all__ = ["DEFAULT_MAXSIZE", "EventHub", "EventSubscription"]

#: One subscriber's view of the engine's events (``Engine.events()``).
EventSubscription = Subscription[Event]
#: The engine's set of subscriptions.
EventHub = Hub[Event]
