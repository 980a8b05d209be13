"""structlog set-up shared by every layer.

Loggers are bound with ``line`` and, once a call exists, ``call_id``.

Secrets: :func:`register_secret` is the one hook through which every layer
(the line layer for secret dial digits, the session layer for its keys)
makes a string unprintable.  Once registered it is replaced by ``***`` in
every string a :class:`Logger` event carries - masked by the logger itself,
before structlog sees the event, so it holds under any structlog
configuration (an application's own, or a test's ``capture_logs``) - and in
the text of every :class:`~modemctl.errors.ModemctlError`.  Byte traces
(:func:`trace_bytes`) mask secret bytes one for one in both the hex and the
text column, also when a secret arrives split across reads.
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
#: Shorter strings are not registered: masking every "12" would hide the trace.
MIN_SECRET = 3


def register_secret(secret: str) -> None:
    """Make ``secret`` (a password, key, PIN...) unprintable in every log event,
    trace and error text from now on (secrets shorter than :data:`MIN_SECRET`
    are ignored; callers refuse them up front, as dial strings do)."""
    if len(secret) >= MIN_SECRET:
        with _secrets_lock:
            _secrets.add(secret)


def _current_secrets() -> list[str]:
    with _secrets_lock:
        return sorted(_secrets, key=len, reverse=True)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret replaced by ``***``."""
    if not _secrets:
        return text
    for s in _current_secrets():
        text = text.replace(s, "***")
    return text


def _redact_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: redact(v) if isinstance(v, str) else v for k, v in values.items()}


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
        context = self._context
        if _secrets:
            context, kw = _redact_values(context), _redact_values(kw)
        if structlog.is_configured():
            # With secrets registered the context itself may hold one (a bound
            # number): bind the masked copy; else the logger bound once.
            target = (structlog.get_logger("modemctl", **context) if context is not self._context
                      else self._structlog())
            getattr(target, method)(event, **kw)
        elif _LEVELS[method] >= logging.WARNING:
            getattr(_unconfigured_fallback().bind(**context), method)(event, **kw)

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


class ByteTrace:
    """Masks registered secrets in one direction of a byte stream, chunk by chunk.

    A secret may arrive split across reads (``12`` then ``34#``).  Chunks are
    logged as they come, never held back, so a chunk whose end could begin a
    secret has that end masked, and the next chunk's head that completes it
    is masked too.  The price is an occasional masked byte that turned out
    not to start a secret; a secret byte is never shown.
    """

    def __init__(self) -> None:
        # (secret, how many of its characters the previous chunks ended with)
        self._pending: set[tuple[str, int]] = set()

    def mask(self, data: bytes) -> bytes:
        """``data`` with every byte that is (or may be) part of a secret as ``*``."""
        if not _secrets and not self._pending:
            return data
        text = data.decode("latin-1")
        hide = [False] * len(text)
        pending: set[tuple[str, int]] = set()
        for secret, k in self._pending:
            rest = secret[k:]
            if text.startswith(rest):
                hide[:len(rest)] = [True] * len(rest)
            elif rest.startswith(text):
                hide = [True] * len(text)
                pending.add((secret, k + len(text)))
        for secret in _current_secrets():
            at = text.find(secret)
            while at >= 0:
                hide[at:at + len(secret)] = [True] * len(secret)
                at = text.find(secret, at + 1)
            for k in range(min(len(secret) - 1, len(text)), 0, -1):
                if text.endswith(secret[:k]):
                    hide[len(text) - k:] = [True] * k
                    pending.add((secret, k))
        self._pending = pending
        return bytes(0x2A if h else b for h, b in zip(hide, data, strict=True))


_traces: dict[tuple[Any, str], ByteTrace] = {}
_traces_lock = threading.Lock()


def trace_bytes(log: Logger, direction: Literal["tx", "rx"], data: bytes) -> None:
    """Log one chunk of serial traffic as hex plus printable text.

    Secrets are masked (one ``*`` per byte) before either rendering is made,
    so that the hex column cannot leak what the text column hides; the
    masking state of each stream (the logger's ``line`` and the direction)
    carries over between chunks, for secrets split across reads.

    Emitted at DEBUG under the event name ``trace``.
    """
    key = (log._context.get("line"), direction)
    with _traces_lock:
        tracer = _traces.setdefault(key, ByteTrace())
    clean = tracer.mask(data).decode("latin-1")
    text = clean.encode("unicode_escape").decode("ascii")
    log.debug("trace", dir=direction, hex=clean.encode("latin-1").hex(" "), text=text,
              n=len(data))
