"""The asyncio AT driver engine (see :mod:`modemctl.driver.engine`)."""

from modemctl.driver.engine import Engine, EngineMode
from modemctl.driver.subscription import EventSubscription
from modemctl.driver.timing import MIN_REAL_TIMEOUT
from modemctl.errors import CallLost  # raised by the engine; importable from here too

__all__ = ["MIN_REAL_TIMEOUT", "CallLost", "Engine", "EngineMode", "EventSubscription"]
