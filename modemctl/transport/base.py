"""What every transport backend offers the engine, and URL classification."""

from __future__ import annotations

import abc
import asyncio
import contextlib
import errno
import time
from collections.abc import Callable
from typing import Any, Literal

import serial

from modemctl.errors import PortClosed, PortNotFound, TransportError
from modemctl.log import Logger
from modemctl.transport.linewatch import LineState, LineWatch, WatchMode, start_watch

READ_HIGH_WATER = 1 << 20  # unread bytes before a backend stops reading the port
FLUSH_WAITED = 0.002       # real seconds: a tcdrain that took longer found bytes still leaving

Backend = Literal["thread", "asyncio"]

#: Schemes whose pyserial handler has no real modem lines (they return dummies).
_NO_LINES = ("socket://", "loop://")


def scheme(url: str) -> str:
    """``"rfc2217"``, ``"socket"``, ``"loop"``, ``"spy"``... or ``""`` for a device path."""
    head, sep, _ = url.partition("://")
    return head.lower() if sep else ""


def is_local_device(url: str) -> bool:
    """True for a plain device path (gets a UUCP lock and an exclusive open)."""
    return scheme(url) == ""


def spy_target(url: str) -> str:
    """The device a ``spy://`` URL wraps (what must be locked), else ``url``."""
    if scheme(url) != "spy":
        return url
    return url[len("spy://"):].split("?", 1)[0]


def has_modem_lines(url: str) -> bool:
    """Whether pyserial reports real modem lines for this URL (not dummies)."""
    return not url.lower().startswith(_NO_LINES)


def translate_open_error(url: str, exc: BaseException) -> TransportError:
    """Turn pyserial's open failure into a typed error."""
    err = getattr(exc, "errno", None)
    if err in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return PortNotFound(url, str(exc))
    if isinstance(exc, ValueError):
        return PortNotFound(url, f"invalid URL: {exc}")
    text = str(exc)
    if "No such file" in text:
        return PortNotFound(url, text)
    return TransportError(f"cannot open {url}: {text}")


class ModemLines:
    """Live view of the port's modem-status lines.

    Each property is ``True``/``False``, or ``None`` when the port has no
    such line: a pty answers the ioctl with ENOTTY, and pyserial's
    ``socket://`` and ``loop://`` handlers only return dummy values.
    """

    def __init__(self, port: Any, available: bool) -> None:
        self._port = port
        self._available = available
        self.dtr: bool | None = True if available else None

    @property
    def available(self) -> bool:
        """Whether the port is of a kind that has modem lines at all."""
        return self._available and self._port is not None

    def _read(self, name: str) -> bool | None:
        if not self._available or self._port is None:
            return None
        try:
            return bool(getattr(self._port, name))
        except (OSError, serial.SerialException, AttributeError, ValueError):
            return None

    @property
    def cd(self) -> bool | None:
        """Data Carrier Detect."""
        return self._read("cd")

    @property
    def ri(self) -> bool | None:
        """Ring Indicator."""
        return self._read("ri")

    @property
    def dsr(self) -> bool | None:
        """Data Set Ready."""
        return self._read("dsr")

    @property
    def cts(self) -> bool | None:
        """Clear To Send."""
        return self._read("cts")

    def detach(self) -> None:
        """The port was closed: every line reads None from now on."""
        self._port = None

    def __repr__(self) -> str:
        return f"ModemLines(cd={self.cd}, ri={self.ri}, dsr={self.dsr}, dtr={self.dtr})"


def set_dtr_blocking(port: Any, value: bool) -> bool:
    """Drive DTR; False when the port has no DTR line (pty: ENOTTY)."""
    try:
        port.dtr = value
    except (OSError, serial.SerialException) as e:
        if isinstance(e, OSError) and e.errno not in (errno.ENOTTY, errno.EINVAL, None):
            raise
        return False
    return True


class Transport(abc.ABC):
    """An open serial port as the engine sees it: async bytes plus modem lines."""

    url: str
    lines: ModemLines

    @abc.abstractmethod
    async def read(self, max_bytes: int = 65536) -> bytes:
        """Wait for and return at least one byte; raise PortClosed when the port is gone."""

    @abc.abstractmethod
    def set_receiver(self, on_data: Callable[[bytes], None] | None,
                     on_lost: Callable[[PortClosed], None] | None = None) -> None:
        """Have every chunk read handed to ``on_data`` on the event loop as it
        arrives, instead of waiting for :meth:`read`; ``None`` goes back to
        buffering for :meth:`read`.

        Why: an engine that parses in the callback answers a command in the
        loop iteration its bytes arrived in, with no task to wake per chunk.
        Bytes buffered meanwhile are handed over first, in order; detaching
        is how a receiver applies back-pressure (the port is paused once
        :data:`READ_HIGH_WATER` bytes are buffered).  ``on_lost`` is told,
        once, when the port fails under its receiver (not on :meth:`close`).
        """

    @abc.abstractmethod
    async def write(self, data: bytes) -> None:
        """Queue ``data``; waits (without blocking the loop) while the queue is full."""

    @abc.abstractmethod
    def try_write(self, data: bytes) -> bool:
        """Queue ``data`` at once if there is room, else do nothing and return
        False (closed, or :meth:`write` would have to wait).

        Why besides :meth:`write`: a command line almost always fits, and the
        engine's hot path then needs neither a coroutine nor a timeout to
        guard a wait that cannot happen.  Raises PortClosed when the port
        fails as the bytes go out.
        """

    @abc.abstractmethod
    async def drain(self) -> None:
        """Wait until everything queued has left the port (for guard times)."""

    @abc.abstractmethod
    async def set_dtr(self, value: bool) -> bool:
        """Drive DTR; returns False when the port has no DTR line."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close the port and release its lock; bounded in time, never raises."""

    @property
    @abc.abstractmethod
    def closed(self) -> bool:
        """True once the port is closed or has failed."""

    @property
    def last_tx(self) -> float:
        """``time.monotonic()`` when the last byte left (0.0 if none yet).

        Never earlier than the truth: after :meth:`drain`, it is when the
        drain saw the last written byte out of the port (a large write may
        take a while to leave), so the escape's guard time can count from it.
        A transport that does not track it says "just now".
        """
        return time.monotonic()

    @property
    @abc.abstractmethod
    def line_watch_mode(self) -> WatchMode:
        """How line changes reach :meth:`wait_modem_change`: ``"ioctl"``
        (TIOCMIWAIT + TIOCGICOUNT), ``"rfc2217"`` (NOTIFY-MODEMSTATE),
        ``"poll"`` (sampled, short pulses can be missed) or ``"none"``."""

    @property
    @abc.abstractmethod
    def line_state(self) -> LineState:
        """The latest modem-line levels and edge counters."""

    @abc.abstractmethod
    async def wait_modem_change(self, after: LineState | None = None) -> LineState:
        """Wait for the first line state newer than ``after`` (default: the
        current one) and return it; its edge counters say what happened in
        between, even a pulse already over.  Raises PortClosed at close."""


class PortTransport(Transport):
    """What both backends share around an open pyserial port: the read buffer
    and its waiter, the failure state, DTR, and the bookkeeping of the last
    transmission.  A backend feeds :meth:`_deliver_bytes`, reports failures
    with :meth:`_fail`, and resumes a paused reader in :meth:`_consumed`."""

    def __init__(self, port: Any, url: str, lines_available: bool,
                 on_close: Callable[[], None], log: Logger) -> None:
        self.url = url
        self._port = port
        self._log = log
        self._loop = asyncio.get_running_loop()
        self.lines = ModemLines(port, lines_available)
        self._on_close = on_close
        self._rbuf = bytearray()
        self._rwaiter: asyncio.Future[None] | None = None
        self._on_data: Callable[[bytes], None] | None = None
        self._on_lost: Callable[[PortClosed], None] | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._space = asyncio.Event()      # set while write() may queue more
        self._space.set()
        self._last_tx = 0.0
        self._watch: LineWatch = start_watch(port, lines_available, self._call)

    def _call(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop, from any thread."""
        with contextlib.suppress(RuntimeError):     # loop already closed
            self._loop.call_soon_threadsafe(fn, *args)

    @property
    def line_watch_mode(self) -> WatchMode:
        return self._watch.mode

    @property
    def line_state(self) -> LineState:
        return self._watch.state

    async def wait_modem_change(self, after: LineState | None = None) -> LineState:
        return await self._watch.wait_change(after)

    def _stop_watch(self) -> None:
        """Closing: line waiters get PortClosed, the watch's source stops."""
        self._watch.fail(PortClosed(f"{self.url} is closed"))

    def set_receiver(self, on_data: Callable[[bytes], None] | None,
                     on_lost: Callable[[PortClosed], None] | None = None) -> None:
        self._on_data, self._on_lost = on_data, on_lost
        if on_data is None:
            return
        if self._rbuf:
            data = bytes(self._rbuf)
            self._rbuf.clear()
            self._consumed()
            on_data(data)
        if self._error is not None and on_lost is not None and self._on_lost is on_lost:
            self._on_lost = None
            on_lost(PortClosed(f"{self.url} failed: {self._error}"))

    def _handed_over(self, data: bytes) -> bool:
        """Give ``data`` to the receiver, if one is set (and nothing older waits)."""
        on_data = self._on_data
        if on_data is None or self._rbuf:
            return False
        on_data(data)
        return True

    def _wake_reader(self) -> None:
        if self._rwaiter is not None and not self._rwaiter.done():
            self._rwaiter.set_result(None)

    def _fail(self, exc: BaseException) -> None:
        """The port failed under us: remember why, wake every waiter."""
        first = not self._closed and self._error is None
        if first:
            self._error = exc
            self._log.warning("port-failed", error=str(exc))
        self._wake_reader()
        self._space.set()
        self._watch.fail(PortClosed(f"{self.url} failed: {exc}"))
        on_lost, self._on_lost = self._on_lost, None
        if first and on_lost is not None:
            on_lost(PortClosed(f"{self.url} failed: {exc}"))

    def _check(self) -> None:
        if self._closed:
            raise PortClosed(f"{self.url} is closed")
        if self._error is not None:
            raise PortClosed(f"{self.url} failed: {self._error}") from self._error

    def _consumed(self) -> None:
        """The reader took bytes out of the buffer: a backend that paused
        reading at :data:`READ_HIGH_WATER` may resume."""

    async def read(self, max_bytes: int = 65536) -> bytes:
        while not self._rbuf:
            self._check()
            self._rwaiter = self._loop.create_future()
            try:
                await self._rwaiter
            finally:
                self._rwaiter = None
        data = bytes(self._rbuf[:max_bytes])
        del self._rbuf[:max_bytes]
        self._consumed()
        return data

    async def set_dtr(self, value: bool) -> bool:
        self._check()
        try:
            ok = await asyncio.to_thread(set_dtr_blocking, self._port, value)
        except (OSError, serial.SerialException) as e:
            raise PortClosed(f"{self.url}: cannot set DTR: {e}") from e
        if ok:
            self.lines.dtr = value
        return ok

    @property
    def closed(self) -> bool:
        return self._closed or self._error is not None

    @property
    def last_tx(self) -> float:
        return self._last_tx

    def _sent(self) -> None:
        """Bytes were handed to the port (any thread)."""
        self._last_tx = time.monotonic()

    def _flushed(self, started: float) -> None:
        """A flush (tcdrain) that began at ``started`` has returned.  One that
        had to wait found bytes still leaving the port until now (a large
        write, or flow control holding it back): the last byte left now.
        One that returned at once found them gone already: ``last_tx``
        stands (within the few character times a short write takes)."""
        now = time.monotonic()
        if now - started > FLUSH_WAITED:
            self._last_tx = max(self._last_tx, now)
