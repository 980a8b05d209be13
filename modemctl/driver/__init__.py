"""The asyncio AT driver engine (see :mod:`modemctl.driver.engine`)."""

from modemctl.driver.engine import MIN_REAL_TIMEOUT, Engine, EngineMode
from modemctl.driver.errors import CallLost
from modemctl.driver.subscription import EventSubscription

__all__ = ["MIN_REAL_TIMEOUT", "CallLost", "Engine", "EngineMode", "EventSubscription"]
