"""The default backend: blocking pyserial, with threads wherever a call can block.

Every URL pyserial opens works here.  Where the port has no descriptor the
loop could watch (``rfc2217://``, ``loop://``, ``spy://``...) a reader thread
calls the blocking ``read()`` and hands chunks to the event loop with
``call_soon_threadsafe``.  On a local device (pyserial's POSIX port, whose
descriptor is O_NONBLOCK) the loop reads the descriptor itself
(``add_reader``): a readable non-blocking descriptor never blocks
``os.read``, and the thread hand-off it saves was most of this backend's
overhead over raw pyserial (bench/driver_bench.py).

Writes go out in the same spirit: on a local device a write issued while
nothing is queued goes straight to the descriptor from the loop; EAGAIN or a
short write hands the rest to a writer thread, started the first time it is
needed, which drains a queue bounded in bytes, so a coroutine that writes
faster than a 300 bps line can carry waits on an :class:`asyncio.Event`,
never on a blocking ``write()`` in the loop.  ``drain()`` (tcdrain) and
``close()`` also run off the loop.  The threads poll a stop flag (pyserial's
``cancel_read`` / ``cancel_write`` wake them at once where the port supports
it), so close is bounded even when the peer never reads.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import Any

from modemctl.errors import PortClosed
from modemctl.log import Logger
from modemctl.transport.base import READ_HIGH_WATER, PortTransport

READ_POLL = 0.05          # seconds a blocked read waits before re-checking the stop flag
HIGH_WATER = 64 * 1024    # bytes queued for writing before write() waits
READ_CHUNK = 65536        # bytes one os.read takes from a local port
THREAD_JOIN = 2.0


class _Marker:
    """Placed in the write queue; the writer resolves it once everything before
    it has been written and flushed."""

    def __init__(self, callback: Callable[[BaseException | None], None]) -> None:
        self.callback = callback


class ThreadTransport(PortTransport):
    """pyserial port driven by two threads, bridged into asyncio."""

    def __init__(self, port: Any, url: str, lines_available: bool,
                 on_close: Callable[[], None], log: Logger) -> None:
        super().__init__(port, url, lines_available, on_close, log)
        self._stop = threading.Event()
        self._room = threading.Event()      # cleared while the reader thread must pause
        self._room.set()
        self._wq: queue.SimpleQueue[bytes | _Marker | None] = queue.SimpleQueue()
        self._queued = 0
        self._qlock = threading.Lock()
        # pyserial's POSIX port keeps its descriptor non-blocking (it selects
        # before every read and write), which makes the eager write safe.
        fd = getattr(port, "fd", None)
        self._fd: int | None = fd if isinstance(fd, int) and type(port).__name__ == "Serial" \
            and type(port).__module__ == "serial.serialposix" else None
        self._reader: threading.Thread | None = None
        self._fd_reading = False
        # drain() futures not yet resolved: the writer thread stops at the
        # first marker it meets after close, so close() fails the rest.
        self._drains: set[asyncio.Future[None]] = set()
        if self._fd is not None:
            # Read on the loop: a readable O_NONBLOCK descriptor never blocks
            # os.read, and it saves the thread hand-off per chunk.
            self._fd_reading = True
            self._loop.add_reader(self._fd, self._on_readable)
        else:
            self._reader = threading.Thread(target=self._read_loop, name=f"rx {url}",
                                            daemon=True)
            self._reader.start()
        self._writer = threading.Thread(target=self._write_loop, name=f"tx {url}", daemon=True)
        if self._fd is None:
            self._writer.start()
        # else: started by _queue() the first time a write cannot go out at
        # once or a drain is asked for; most local lines never need it.

    # --- threads -------------------------------------------------------

    def _read_loop(self) -> None:
        port = self._port
        while not self._stop.is_set():
            if not self._room.wait(READ_POLL):
                continue
            try:
                data = port.read(1)
                if data:
                    n = port.in_waiting
                    if n:
                        data += port.read(n)
            except Exception as exc:
                if not self._stop.is_set():
                    self._call(self._fail, exc)
                return
            if data:
                self._call(self._deliver, bytes(data))

    def _write_loop(self) -> None:
        port = self._port
        broken: BaseException | None = None
        while True:
            item = self._wq.get()
            if item is None or self._stop.is_set():
                if isinstance(item, _Marker):
                    self._call(item.callback, PortClosed("port closed"))
                return
            if isinstance(item, _Marker):
                err: BaseException | None = broken
                if err is None:
                    try:
                        started = time.monotonic()
                        port.flush()
                        self._flushed(started)
                    except Exception as exc:
                        err = exc
                self._call(item.callback, err)
                continue
            if broken is None:
                try:
                    if self._fd is not None:
                        self._write_fd(self._fd, item)
                    else:
                        port.write(item)
                    self._sent()
                except Exception as exc:
                    broken = exc
                    if not self._stop.is_set():
                        self._call(self._fail, exc)
            with self._qlock:
                self._queued -= len(item)
                low = self._queued <= HIGH_WATER // 2
            if low:
                self._call(self._space.set)

    def _eager(self, data: bytes) -> bytes:
        """Write straight from the loop when nothing is queued (saves a thread
        hand-off per command); returns what is left for the writer thread.

        Only for pyserial's POSIX ports, whose descriptor is O_NONBLOCK: a full
        buffer gives EAGAIN (or a short write), never a blocked loop; the rest
        goes to the writer thread as usual.  Order is safe because the eager
        path is only taken while the queue is empty.
        """
        with self._qlock:
            if self._queued:
                return data
            try:
                n = os.write(self._fd, data)  # type: ignore[arg-type]
            except BlockingIOError:
                return data
            except OSError as exc:
                self._fail(exc)
                raise PortClosed(f"{self.url}: {exc}") from exc
        self._sent()
        return data[n:]

    def _write_fd(self, fd: int, data: bytes) -> None:
        """Write all of ``data`` to a non-blocking descriptor, waiting in select.

        Not pyserial's ``write()``: when the buffer is already full its loop
        retries ``os.write`` on EAGAIN without ever selecting (pyserial #280),
        spinning a CPU and deaf to ``cancel_write``.  Here every wait is a
        select with a short timeout, so a close is noticed within READ_POLL.
        """
        view = memoryview(data)
        while view and not self._stop.is_set():
            _, ready, _ = select.select([], [fd], [], READ_POLL)
            if not ready:
                continue
            try:
                n = os.write(fd, view)
            except BlockingIOError:
                continue
            view = view[n:]

    # --- loop side -----------------------------------------------------

    def _on_readable(self) -> None:
        """The descriptor is readable (local POSIX ports): read it here."""
        try:
            data = os.read(self._fd, READ_CHUNK)  # type: ignore[arg-type]
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:      # EIO: the device went away
            self._stop_fd_reader()
            self._fail(exc)
            return
        if not data:
            self._stop_fd_reader()
            self._fail(PortClosed(f"{self.url}: device reports readiness to read but "
                                  "returned no data (disconnected?)"))
            return
        self._deliver(data)

    def _stop_fd_reader(self) -> None:
        if self._fd_reading:
            self._fd_reading = False
            self._loop.remove_reader(self._fd)  # type: ignore[arg-type]

    def _deliver(self, data: bytes) -> None:
        if self._handed_over(data):
            return
        self._rbuf += data
        if len(self._rbuf) > READ_HIGH_WATER:
            if self._fd is not None:
                self._stop_fd_reader()
            else:
                self._room.clear()
        self._wake_reader()

    def _consumed(self) -> None:
        if len(self._rbuf) <= READ_HIGH_WATER // 2:
            if self._fd is None:
                self._room.set()
            elif not self._fd_reading and not self.closed:
                self._fd_reading = True
                self._loop.add_reader(self._fd, self._on_readable)

    async def write(self, data: bytes) -> None:
        while not self.try_write(data):
            self._check()
            await self._space.wait()

    def try_write(self, data: bytes) -> bool:
        if not data:
            return True
        if self.closed:
            return False
        if self._fd is not None:
            data = self._eager(data)
            if not data:
                return True
        with self._qlock:
            if self._queued >= HIGH_WATER:
                self._space.clear()
                return False
            self._queued += len(data)
        self._queue(bytes(data))
        return True

    def _queue(self, item: bytes | _Marker) -> None:
        """Hand ``item`` to the writer thread, starting it on first use."""
        if not self._writer.is_alive() and self._writer.ident is None:
            self._writer.start()
        self._wq.put(item)

    async def drain(self) -> None:
        self._check()
        fut: asyncio.Future[None] = self._loop.create_future()

        def done(err: BaseException | None) -> None:
            if not fut.done():
                if err is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(PortClosed(f"{self.url}: {err}"))

        self._drains.add(fut)
        fut.add_done_callback(self._drains.discard)
        self._queue(_Marker(done))
        await fut

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._room.set()
        self._wq.put(None)
        self.lines.detach()
        self._stop_watch()
        self._stop_fd_reader()
        port = self._port
        for cancel in ("cancel_read", "cancel_write"):
            with contextlib.suppress(Exception):
                getattr(port, cancel, lambda: None)()
        try:
            async with asyncio.timeout(THREAD_JOIN * 2):
                await asyncio.to_thread(self._shutdown)
        except (TimeoutError, Exception) as e:
            self._log.warning("close-slow", error=repr(e))
        finally:
            self._on_close()
            self._wake_reader()
            self._space.set()
            for fut in list(self._drains):
                if not fut.done():
                    fut.set_exception(PortClosed(f"{self.url} closed"))

    def _shutdown(self) -> None:
        if self._writer.ident is not None:      # never started: nothing was queued
            self._writer.join(THREAD_JOIN)
        if self._writer.is_alive():
            # The peer is not reading: drop what is still queued in the driver.
            with contextlib.suppress(Exception):
                self._port.reset_output_buffer()
            self._writer.join(THREAD_JOIN)
        if self._reader is not None:
            self._reader.join(THREAD_JOIN)
        with contextlib.suppress(Exception):
            self._port.close()
