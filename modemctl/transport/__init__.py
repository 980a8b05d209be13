"""Transport: a pyserial URL as an async byte stream, modem lines and a port lock.

:func:`open_transport` opens anything pyserial's ``serial_for_url`` opens —
a device path, ``rfc2217://host:port`` (ser2net), ``socket://``,
``loop://``, ``spy://`` — and never blocks the event loop, neither on open
and close nor under back-pressure.

Why the default backend is pyserial in threads (``backend="thread"``):

* It opens every URL.  pyserial-asyncio (and -fast) need a file descriptor,
  so they fail on ``rfc2217://`` (``write_timeout`` not implemented) and on
  ``loop://`` (no ``fileno``) — reference §3.1; ``rfc2217://`` is how a
  ser2net-served modem and the fake exchange's RFC 2217 lines are reached,
  and the only remote URL that carries DCD/RI/DTR.
* It cannot block the loop.  pyserial-asyncio opens the port in the loop
  and calls ``flush()`` (tcdrain) in the loop on close, which stalls every
  other line for the whole drain time at 300-2400 bps; pyserial-asyncio-fast
  hung the loop in 8 of 50 bulk-echo runs (EAGAIN retried forever inside
  ``serialposix.write``) — reference §3.2/§3.3.  Here the blocking calls
  live in a reader and a writer thread; the writer's queue is bounded in
  bytes and ``write()`` awaits room, so back-pressure is a suspended
  coroutine, not a stuck loop.
* It is not slower.  On a local device the loop reads the non-blocking
  descriptor itself and writes it eagerly (threads only for what can
  block), so the transport alone is at parity with raw blocking pyserial,
  and 64 lines need 7 threads, not 128.  The measured figures, side by side
  with raw pyserial and python-gsmmodem-new in one run, are the README's
  driver table (``make bench``, ``bench/driver_bench.py``); they are kept
  there only, so that they cannot go stale here.  At a real DTE rate the
  wire time (7 bytes ≈ 0.6 ms at 115200 bps) and V.250's 0.1 s pause after
  each result dwarf either backend's overhead.  ``backend="asyncio"`` is a
  reasonable choice for dozens of local lines in one process.
* Under back-pressure neither backend stalls the loop (the README's
  driver section gives the worst lag while flooding a pty nobody reads).  The thread backend does
  not use pyserial's ``write()`` on POSIX ports: on a full buffer it
  retries EAGAIN without selecting (pyserial #280), spinning a CPU and
  ignoring ``cancel_write``; its own select loop closes within ~25 ms.
  The asyncio backend's close waits at most 1 s for the queue, then
  discards it.

pyserial-asyncio is kept where it serves: ``backend="asyncio"`` drives a
device path or ``socket://`` from the selector with no threads at all
(useful with very many lines), with its blocking open and close pushed
off the loop (see :mod:`modemctl.transport.aio`).

Exclusive access: local device paths get a UUCP lock file (see
:mod:`modemctl.transport.lock`) *and* pyserial's ``exclusive=True`` (flock),
so both lock-file honouring programs (mgetty, HylaFAX, minicom) and stray
pyserial/picocom openers are kept out; a second opener gets
:class:`~modemctl.errors.PortBusy` naming the holder.  ``rfc2217://`` and
``socket://`` are remote: the port server arbitrates, no local lock.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import serial

from modemctl.errors import PortBusy, TransportError
from modemctl.log import Logger, get_logger
from modemctl.transport.aio import AsyncioTransport
from modemctl.transport.base import (
    Backend,
    ModemLines,
    Transport,
    has_modem_lines,
    is_local_device,
    scheme,
    spy_target,
    translate_open_error,
)
from modemctl.transport.lock import UucpLock, flock_holder, process_name
from modemctl.transport.rfc2217 import open_serial
from modemctl.transport.threaded import READ_POLL, ThreadTransport

__all__ = ["Backend", "ModemLines", "Transport", "open_transport"]

OPEN_TIMEOUT = 10.0


async def open_transport(url: str, *, baudrate: int = 115200, lock: bool = True,
                         backend: Backend = "thread", open_timeout: float = OPEN_TIMEOUT,
                         log: Logger | None = None) -> Transport:
    """Open ``url`` and return a :class:`Transport`.

    ``lock=False`` skips both the UUCP lock and the exclusive open (for
    monitoring a port another program owns, at your own risk).  Raises
    :class:`~modemctl.errors.PortNotFound`, :class:`~modemctl.errors.PortBusy`
    or :class:`~modemctl.errors.TransportError`.
    """
    log = log if log is not None else get_logger(line=url)
    device = spy_target(url)
    local = is_local_device(device)
    if backend == "asyncio" and scheme(url) not in ("", "socket"):
        raise TransportError(f"backend 'asyncio' cannot open {url}: pyserial-asyncio needs a "
                             "file descriptor (device path or socket://); use backend='thread'")
    if backend not in ("thread", "asyncio"):
        raise TransportError(f"unknown transport backend {backend!r}")
    uucp: UucpLock | None = None
    if lock and local:
        uucp = await asyncio.to_thread(UucpLock.acquire, device, url, log)
    # The read timeout is set at open time: setting it later reconfigures an
    # rfc2217:// port, a blocking network round trip.
    kwargs: dict[str, Any] = {"baudrate": baudrate, "timeout": READ_POLL}
    if lock and local and scheme(url) in ("", "spy"):
        kwargs["exclusive"] = True
    try:
        port = await _open_port(url, kwargs, open_timeout)
    except BaseException:
        if uucp is not None:
            uucp.release()
        raise

    def release() -> None:
        if uucp is not None:
            uucp.release()

    lines = has_modem_lines(url)
    if backend == "asyncio":
        tr: Transport = AsyncioTransport(port, url, lines, release, log)
    else:
        tr = ThreadTransport(port, url, lines, release, log)
    log.debug("port-opened", backend=backend, baudrate=baudrate, locked=uucp is not None)
    return tr


async def _open_port(url: str, kwargs: dict[str, Any], timeout: float) -> Any:  # noqa: ASYNC109
    """:func:`~modemctl.transport.rfc2217.open_serial` in a thread, bounded.

    The thread cannot be stopped, so an open that finishes after its caller
    gave up (timeout *or* cancellation) is closed when it does, not leaked:
    a leaked RFC 2217 connection fills the server's only client slot, a
    leaked device holds its flock.
    """
    task = asyncio.ensure_future(asyncio.to_thread(open_serial, url, **kwargs))
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.shield(task)
    except TimeoutError:
        task.add_done_callback(_close_late)
        raise TransportError(f"opening {url} took longer than {timeout}s") from None
    except asyncio.CancelledError:
        task.add_done_callback(_close_late)
        raise
    except (serial.SerialException, OSError, ValueError) as e:
        if "exclusively lock" in str(e):
            pid = flock_holder(spy_target(url))
            raise PortBusy(url, pid, None, process_name(pid) if pid else None) from e
        raise translate_open_error(url, e) from e


def _close_late(task: asyncio.Future[Any]) -> None:
    """Close a port whose opener gave up; its failure, if any, is retrieved here.

    Closing can block (an RFC 2217 close joins its reader thread), so it
    runs in the loop's executor (which ``asyncio.run`` waits for at exit);
    it raises nothing, so nothing is left for anybody to retrieve.
    """
    if task.cancelled() or task.exception() is not None:
        return
    task.get_loop().run_in_executor(None, _close_quietly, task.result())


def _close_quietly(port: Any) -> None:
    with contextlib.suppress(Exception):
        port.close()
