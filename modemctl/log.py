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


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "exception": logging.ERROR, "critical": logging.CRITICAL}


def _unconfigured_fallback() -> Any:
    """Where modemctl logs while the application has not set structlog up:
    warnings and errors to the *current* stderr (made per event: they are
    rare, and a stream cached at first use may since have been replaced)."""
    return structlog.wrap_logger(
        structlog.PrintLogger(sys.stderr),
        processors=[structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    _redact_processor, structlog.dev.ConsoleRenderer(colors=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )


class Logger:
    """modemctl's logger: lazy, and quiet until the application configures logging.

    A library must not print its DEBUG chatter into a script's stdout, which
    is what structlog's development defaults would do.  So while structlog is
    unconfigured, only warnings and errors are written (to stderr); once the
    application (or the CLI, via :func:`configure`, or a test capturing logs)
    configures structlog, every event goes through that configuration, read
    at the moment of logging, so loggers made earlier follow it too.
    """

    __slots__ = ("_bound", "_bound_under", "_context")

    def __init__(self, context: dict[str, Any]) -> None:
        self._context = context
        self._bound: Any = None
        self._bound_under: tuple[Any, ...] = ()

    def bind(self, **values: Any) -> Logger:
        """A logger with more context (e.g. ``call_id``)."""
        return Logger({**self._context, **values})

    def _structlog(self) -> Any:
        """The structlog logger bound with our context, bound once per
        configuration: binding on every call cost ~5 µs even for a DEBUG
        event the filtering logger then drops, while a bound filtering
        logger's disabled methods return at once."""
        config = structlog.get_config()
        under = (config["wrapper_class"], config["processors"], config["logger_factory"],
                 config["context_class"])
        if self._bound is None or under != self._bound_under:
            self._bound = structlog.get_logger("modemctl", **self._context).bind()
            self._bound_under = under
        return self._bound

    def _log(self, method: str, event: str, **kw: Any) -> None:
        if structlog.is_configured():
            getattr(self._structlog(), method)(event, **kw)
        elif _LEVELS[method] >= logging.WARNING:
            getattr(_unconfigured_fallback().bind(**self._context), method)(event, **kw)

    def debug(self, event: str, **kw: Any) -> None:
        self._log("debug", event, **kw)

    def info(self, event: str, **kw: Any) -> None:
        self._log("info", event, **kw)

    def warning(self, event: str, **kw: Any) -> None:
        self._log("warning", event, **kw)

    def error(self, event: str, **kw: Any) -> None:
        self._log("error", event, **kw)

    def exception(self, event: str, **kw: Any) -> None:
        self._log("exception", event, **kw)

    def critical(self, event: str, **kw: Any) -> None:
        self._log("critical", event, **kw)


def get_logger(**bound: Any) -> Logger:
    """A modemctl logger with ``bound`` context (e.g. ``line=...``)."""
    return Logger(dict(bound))


def trace_bytes(log: Logger, direction: Literal["tx", "rx"], data: bytes) -> None:
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
