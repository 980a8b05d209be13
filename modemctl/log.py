"""structlog set-up shared by every layer.

Loggers are bound with ``line`` and, once a call exists, ``call_id``; byte
traces go through :func:`trace_bytes` so that secrets never reach a log:
anything registered with :func:`register_secret` is replaced by ``***``
before the event is rendered.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog

LogFormat = Literal["console", "json"]

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(secret: str) -> None:
    """Make ``secret`` (a password, key, PIN...) unprintable in every log event."""
    if len(secret) >= 3:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, "***")
    return text


def _redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]
                      ) -> MutableMapping[str, Any]:
    if not _secrets:
        return event
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact(value)
    return event


def configure(level: int = logging.WARNING, fmt: LogFormat = "console",
              stream: Any = None) -> None:
    """Configure structlog for a program (the CLI calls this once)."""
    renderer: Any = (structlog.processors.JSONRenderer() if fmt == "json"
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(**bound: Any) -> Any:
    """A structlog logger with ``bound`` context (e.g. ``line=...``).

    It is structlog's lazy proxy, not a bound logger: it picks up the
    configuration in force when it logs, so a logger made before the CLI
    calls :func:`configure` (or before a test captures logs) still honours
    ``-v``/``-q``/``--log-format``.  Calling ``.bind()`` on it gives a fixed
    logger; bind per call/line when the object is created, after set-up.
    """
    return structlog.get_logger("modemctl", **bound)


def trace_bytes(log: Any, direction: Literal["tx", "rx"], data: bytes) -> None:
    """Log one chunk of serial traffic as hex plus printable text.

    Secrets are redacted before either rendering is made, so that the hex
    column cannot leak what the text column hides.

    Emitted at DEBUG under the event name ``trace``; cheap when DEBUG is off
    because structlog's filtering logger drops it before formatting.
    """
    clean = redact(data.decode("latin-1"))
    text = clean.encode("unicode_escape").decode("ascii")
    log.debug("trace", dir=direction, hex=clean.encode("latin-1").hex(" "), text=text,
              n=len(data))
