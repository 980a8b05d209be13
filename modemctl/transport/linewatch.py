"""Modem-status lines watched, not sampled: levels plus edge counters.

A V.92 call-waiting indication is an RI pulse that can be shorter than any
sensible poll interval, so a watcher that samples RI every 50 ms misses it.
Each port therefore reports *changes*, with counters that never lose an edge,
through the best mechanism it has (:attr:`LineWatch.mode`):

``"ioctl"``
    A real UART (Linux serial core, most USB adapters): a thread blocks in
    ``TIOCMIWAIT`` and, on every wake-up, reads the kernel's interrupt
    counters (``TIOCGICOUNT``) and the levels (``TIOCMGET``).  The counters
    are incremented in the interrupt handler, so two edges between two
    wake-ups are still counted.  (A 16550 counts RI *trailing* edges only;
    the rises follow from the falls and the levels.)  The thread waits on a
    descriptor of its own, opened on the same device: ``TIOCMIWAIT`` can
    only be ended by a line change or a signal, and a wait left pending on
    the port's own descriptor would keep its exclusive lock alive after
    :meth:`close`.  A watcher that is still waiting at close ends at the
    next line change and closes its descriptor then.  A driver that keeps
    counters but refuses the wait (EINVAL) is sampled as under ``"poll"``.
``"rfc2217"``
    pyserial's ``rfc2217://`` client: the server's NOTIFY-MODEMSTATE
    messages are taken as they arrive (hooked on the client's reader thread),
    after asking the server for every state and delta bit (SET-MODEMSTATE-MASK
    255).  A pulse that began and ended between two notifications still shows
    as a delta bit (TERI for RI) with an unchanged level.
``"poll"``
    Ports that have lines but cannot notify (a pty answers ``TIOCGICOUNT``
    with ENOTTY or EINVAL and so falls back here; other pyserial classes):
    the levels are sampled every :data:`POLL` seconds, only while somebody
    waits for a change.  A pulse shorter than that can be missed.
``"none"``
    ``socket://``, ``loop://``: no lines at all; waiting ends only at close.

Everything about turning observations into a :class:`LineState` is pure
(:func:`advance`); the sources only observe.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import struct
import termios
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal

from serial import rfc2217

from modemctl.errors import PortClosed

WatchMode = Literal["ioctl", "rfc2217", "poll", "none"]
LINE_NAMES = ("cd", "ri", "dsr", "cts")
POLL = 0.05
"""Real seconds between samples where the port cannot notify."""

# Linux <asm-generic/ioctls.h>; the termios module has them on Linux.
TIOCMIWAIT: int = getattr(termios, "TIOCMIWAIT", 0x545C)
TIOCGICOUNT: int = getattr(termios, "TIOCGICOUNT", 0x545D)
_TIOCM = {"cd": termios.TIOCM_CD, "ri": termios.TIOCM_RI, "dsr": termios.TIOCM_DSR,
          "cts": termios.TIOCM_CTS}
WAIT_MASK = termios.TIOCM_CD | termios.TIOCM_RI | termios.TIOCM_DSR | termios.TIOCM_CTS
#: struct serial_icounter_struct: cts, dsr, rng, dcd, rx, tx, frame, overrun,
#: parity, brk, buf_overrun, reserved[9].
ICOUNT = struct.Struct("20i")
_NOT_SUPPORTED = (errno.ENOTTY, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP)
# RFC 2217 modem-state bits: level, and the delta bit that goes with it.
_RFC_BITS = {"cd": (rfc2217.MODEMSTATE_MASK_CD, rfc2217.MODEMSTATE_MASK_CD_CHANGE),
             "ri": (rfc2217.MODEMSTATE_MASK_RI, rfc2217.MODEMSTATE_MASK_RI_CHANGE),
             "dsr": (rfc2217.MODEMSTATE_MASK_DSR, rfc2217.MODEMSTATE_MASK_DSR_CHANGE),
             "cts": (rfc2217.MODEMSTATE_MASK_CTS, rfc2217.MODEMSTATE_MASK_CTS_CHANGE)}

Levels = dict[str, "bool | None"]


@dataclass(frozen=True, slots=True)
class Edges:
    """Rising and falling edges of one line counted since the watch started."""

    rises: int = 0
    falls: int = 0


@dataclass(frozen=True, slots=True)
class LineState:
    """Levels and edge counters at one moment; ``seq`` grows with every change.

    Compare two states to learn what happened between them, e.g.
    ``new.ri_edges.rises > old.ri_edges.rises`` is "RI rang", however short
    the pulse was (where the port's mode can see it, see the module doc).
    """

    seq: int = 0
    cd: bool | None = None
    ri: bool | None = None
    dsr: bool | None = None
    cts: bool | None = None
    cd_edges: Edges = Edges()
    ri_edges: Edges = Edges()
    dsr_edges: Edges = Edges()
    cts_edges: Edges = Edges()

    def rang_since(self, earlier: LineState) -> int:
        """RI pulses begun since ``earlier`` (rising edges)."""
        return self.ri_edges.rises - earlier.ri_edges.rises


def advance(state: LineState, levels: Levels, cycles: dict[str, int] | None = None
            ) -> LineState:
    """The state after the lines were seen at ``levels``.

    ``cycles[name]`` counts complete extra pulses (a rise *and* a fall) the
    source knows happened in between beyond what the level change shows — a
    delta bit with an unchanged level, or kernel counters ahead of the levels.
    Returns ``state`` itself when nothing changed.
    """
    cycles = cycles or {}
    changes: dict[str, Any] = {}
    for name in LINE_NAMES:
        old: bool | None = getattr(state, name)
        new = levels.get(name, old)
        extra = max(0, cycles.get(name, 0))
        edges: Edges = getattr(state, f"{name}_edges")
        rises = edges.rises + extra + (1 if new and old is False else 0)
        falls = edges.falls + extra + (1 if new is False and old else 0)
        if new != old:
            changes[name] = new
        if (rises, falls) != (edges.rises, edges.falls):
            changes[f"{name}_edges"] = Edges(rises, falls)
    if not changes:
        return state
    return replace(state, seq=state.seq + 1, **changes)


def kernel_cycles(before: tuple[int, ...], after: tuple[int, ...], old: LineState,
                  levels: Levels) -> dict[str, int]:
    """Extra pulses shown by the kernel counters ``(cd, ri, dsr, cts)`` between
    two reads, beyond the level change (see :func:`advance`).

    DCD, DSR and CTS count every transition; RI counts trailing edges only.
    """
    out: dict[str, int] = {}
    for i, name in enumerate(LINE_NAMES):
        n = after[i] - before[i]
        was, now = getattr(old, name), levels.get(name)
        if name == "ri":
            out[name] = n - (1 if was and now is False else 0)
        else:
            out[name] = (n - (1 if was is not None and now is not None and was != now
                              else 0)) // 2
    return out


def rfc2217_levels(modemstate: int) -> tuple[Levels, dict[str, int]]:
    """Levels and extra pulses in one NOTIFY-MODEMSTATE byte, given the previous
    levels are compared by :func:`advance`: a delta bit is a full pulse only
    when the level did not change (the caller passes it on only then)."""
    levels: Levels = {}
    deltas: dict[str, int] = {}
    for name, (level_bit, delta_bit) in _RFC_BITS.items():
        levels[name] = bool(modemstate & level_bit)
        deltas[name] = 1 if modemstate & delta_bit else 0
    return levels, deltas


def read_icount(fd: int) -> tuple[int, int, int, int]:
    """The kernel's (cd, ri, dsr, cts) interrupt counters of ``fd``."""
    raw = fcntl.ioctl(fd, TIOCGICOUNT, bytes(ICOUNT.size))
    cts, dsr, rng, dcd = ICOUNT.unpack(raw)[:4]
    return dcd, rng, dsr, cts


def read_levels(fd: int) -> Levels:
    """The input lines of ``fd`` (TIOCMGET)."""
    raw = fcntl.ioctl(fd, termios.TIOCMGET, struct.pack("I", 0))
    bits = struct.unpack("I", raw)[0]
    return {name: bool(bits & bit) for name, bit in _TIOCM.items()}


class LineWatch:
    """The loop-side end of a port's line watch: current state, waiters.

    Created by the transport at open (see :func:`start_watch`); the sources
    feed it on the event loop.
    """

    def __init__(self, mode: WatchMode, initial: Levels | None = None,
                 sample: Callable[[], Levels] | None = None) -> None:
        self.mode: WatchMode = mode
        self._state = advance(LineState(), initial or {})
        self._state = replace(self._state, seq=0)
        self._sample = sample
        self._waiters: list[asyncio.Future[None]] = []
        self._error: BaseException | None = None
        self._poller: asyncio.Task[None] | None = None
        self.stop_source: Callable[[], None] = lambda: None

    @property
    def state(self) -> LineState:
        """The latest :class:`LineState`."""
        return self._state

    def update(self, levels: Levels, cycles: dict[str, int] | None = None) -> None:
        """The source saw the lines (on the loop)."""
        new = advance(self._state, levels, cycles)
        if new is not self._state:
            self._state = new
            self._wake()

    def update_rfc2217(self, modemstate: int) -> None:
        """One NOTIFY-MODEMSTATE byte from the server."""
        levels, deltas = rfc2217_levels(modemstate)
        cycles = {name: d for name, d in deltas.items()
                  if levels[name] == getattr(self._state, name)}
        self.update(levels, cycles)

    def fall_back_to_poll(self) -> None:
        """The source cannot notify after all: sample while somebody waits."""
        if self._error is None and self._sample is not None:
            self.mode = "poll"
            if self._waiters and self._poller is None:
                self._poller = asyncio.get_running_loop().create_task(self._poll())

    def fail(self, exc: BaseException) -> None:
        """The port is closed or failed: every waiter gets PortClosed."""
        if self._error is None:
            self._error = exc
        self.stop_source()
        if self._poller is not None:
            self._poller.cancel()
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_change(self, after: LineState | None = None) -> LineState:
        """Return the first state newer than ``after`` (the current one if
        ``after`` is None or already older); raise PortClosed at close."""
        seq = self._state.seq if after is None else after.seq
        while self._state.seq <= seq:
            if self._error is not None:
                raise PortClosed(str(self._error)) from self._error
            if self.mode == "poll" and self._poller is None:
                self._poller = asyncio.get_running_loop().create_task(self._poll())
            fut = asyncio.get_running_loop().create_future()
            self._waiters.append(fut)
            try:
                await fut
            finally:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
        return self._state

    async def _poll(self) -> None:
        """Sample while somebody waits (ports that cannot notify)."""
        assert self._sample is not None
        while True:
            await asyncio.sleep(POLL)
            if not self._waiters:
                self._poller = None
                return
            self.update(self._sample())


class _IoctlWatcher:
    """The ``"ioctl"`` source: a thread blocked in TIOCMIWAIT on its own descriptor."""

    def __init__(self, fd: int, watch: LineWatch, post: Callable[..., None],
                 counts: tuple[int, int, int, int]) -> None:
        self._fd = fd
        self._watch = watch
        self._post = post
        self._counts = counts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="modem lines", daemon=True)
        watch.stop_source = self._stop.set
        self._thread.start()

    def _run(self) -> None:
        fd = self._fd
        try:
            while not self._stop.is_set():
                fcntl.ioctl(fd, TIOCMIWAIT, WAIT_MASK)
                if self._stop.is_set():
                    return
                counts = read_icount(fd)
                levels = read_levels(fd)
                self._post(self._deliver, counts, levels)
        except OSError as exc:
            if self._stop.is_set():
                pass
            elif exc.errno in _NOT_SUPPORTED:
                # Counters but no wait (some USB adapters): sample instead.
                self._post(self._watch.fall_back_to_poll)
            else:
                self._post(self._watch.fail, exc)
        finally:
            with contextlib.suppress(OSError):
                os.close(fd)

    def _deliver(self, counts: tuple[int, int, int, int], levels: Levels) -> None:
        cycles = kernel_cycles(self._counts, counts, self._watch.state, levels)
        self._counts = counts
        self._watch.update(levels, cycles)


def _sampler(port: Any) -> Callable[[], Levels]:
    def sample() -> Levels:
        out: Levels = {}
        for name in LINE_NAMES:
            try:
                out[name] = bool(getattr(port, name))
            except Exception:   # a line the port does not have reads as unknown
                out[name] = None
        return out
    return sample


def start_watch(port: Any, lines_available: bool, post: Callable[..., None]) -> LineWatch:
    """Pick and start the best watch ``port`` allows.

    ``post(fn, *args)`` runs ``fn`` on the event loop from any thread
    (``loop.call_soon_threadsafe``).  Never raises: a port whose notification
    cannot be set up is polled.
    """
    if not lines_available:
        return LineWatch("none")
    if isinstance(port, rfc2217.Serial):
        return _start_rfc2217(port, post)
    fd = getattr(port, "fd", None)
    path = getattr(port, "port", None)
    if isinstance(fd, int) and isinstance(path, str):
        watch = _start_ioctl(port, fd, path, post)
        if watch is not None:
            return watch
    sample = _sampler(port)
    return LineWatch("poll", sample(), sample)


def _start_ioctl(port: Any, fd: int, path: str, post: Callable[..., None]
                 ) -> LineWatch | None:
    try:
        counts = read_icount(fd)
        levels = read_levels(fd)
    except OSError as e:
        if e.errno in _NOT_SUPPORTED:
            return None             # a pty, or a driver without counters: poll
        raise
    try:
        own = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError:
        return None
    watch = LineWatch("ioctl", levels, _sampler(port))
    _IoctlWatcher(own, watch, post, counts)
    return watch


def _start_rfc2217(port: Any, post: Callable[..., None]) -> LineWatch:
    modemstate = getattr(port, "_modemstate", None)
    watch = LineWatch("rfc2217", rfc2217_levels(modemstate)[0] if modemstate is not None
                      else None, _sampler(port))
    original = port._telnet_process_subnegotiation
    stopped = threading.Event()

    def hook(suboption: bytes) -> None:
        original(suboption)
        if not stopped.is_set() and suboption[0:1] == rfc2217.COM_PORT_OPTION \
                and suboption[1:2] == rfc2217.SERVER_NOTIFY_MODEMSTATE and len(suboption) >= 3:
            post(watch.update_rfc2217, suboption[2])

    # pyserial offers no callback for notifications: its reader thread calls
    # this method per subnegotiation, so an instance attribute wraps it.
    port._telnet_process_subnegotiation = hook
    watch.stop_source = stopped.set
    with contextlib.suppress(Exception):
        # Ask for every level and delta bit (a server's default may omit TERI).
        port.rfc2217_send_subnegotiation(rfc2217.SET_MODEMSTATE_MASK, b"\xff")
    return watch
