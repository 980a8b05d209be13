"""The alternative backend: pyserial-asyncio's selector-driven transport.

Only for URLs with a real file descriptor (device paths, ``socket://``):
pyserial-asyncio needs ``fileno()`` for ``add_reader`` and cannot drive
``rfc2217://`` or ``loop://``.  Its two blocking spots are kept off the
loop: the port is opened in a thread (by the caller) and handed over
already open, and before close the driver's output queue is discarded
(``reset_output_buffer``, a non-blocking tcflush) after a bounded wait for
the write buffer to empty, so that pyserial-asyncio's ``flush()`` (tcdrain)
inside ``close()`` returns at once instead of stalling the loop for the
whole drain time of a slow line.  What remains in the loop is draining the
UART's own FIFO (a few bytes; at 300 bps a 16-byte FIFO is about 0.5 s),
which is one reason this is not the default backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any, cast

import serial
import serial_asyncio

from modemctl.errors import PortClosed
from modemctl.log import Logger
from modemctl.transport.base import READ_HIGH_WATER, PortTransport

HIGH_WATER = 64 * 1024
CLOSE_DRAIN = 1.0


class _Protocol(asyncio.Protocol):
    def __init__(self, owner: AsyncioTransport) -> None:
        self.owner = owner

    def data_received(self, data: bytes) -> None:
        self.owner._deliver(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._lost(exc)

    def pause_writing(self) -> None:
        self.owner._space.clear()

    def resume_writing(self) -> None:
        self.owner._space.set()


class AsyncioTransport(PortTransport):
    """A port driven by ``serial_asyncio.SerialTransport`` on the event loop."""

    def __init__(self, port: Any, url: str, lines_available: bool,
                 on_close: Callable[[], None], log: Logger) -> None:
        super().__init__(port, url, lines_available, on_close, log)
        self._reading_paused = False
        self._proto = _Protocol(self)
        self._tr = cast(asyncio.Transport,
                        serial_asyncio.SerialTransport(self._loop, self._proto, port))
        self._tr.set_write_buffer_limits(high=HIGH_WATER)

    def _deliver(self, data: bytes) -> None:
        if self._handed_over(data):
            return
        self._rbuf += data
        if len(self._rbuf) > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self._tr.pause_reading()
        self._wake_reader()

    def _lost(self, exc: BaseException | None) -> None:
        self._fail(exc or PortClosed(f"{self.url} closed by the peer"))

    def _consumed(self) -> None:
        if self._reading_paused and len(self._rbuf) <= READ_HIGH_WATER // 2:
            self._reading_paused = False
            self._tr.resume_reading()

    async def write(self, data: bytes) -> None:
        while not self.try_write(data):
            self._check()
            await self._space.wait()

    def try_write(self, data: bytes) -> bool:
        if not data:
            return True
        if self.closed or not self._space.is_set():
            return False
        self._tr.write(data)
        self._sent()
        return True

    async def drain(self) -> None:
        # Wait for the transport's buffer, then tcdrain in a thread (never in the loop).
        started = time.monotonic()
        buffered = self._tr.get_write_buffer_size() > 0
        while self._tr.get_write_buffer_size():
            self._check()
            await asyncio.sleep(0.001)
        self._check()
        try:
            flush_started = await asyncio.to_thread(self._timed_flush)
        except (OSError, serial.SerialException) as e:
            raise PortClosed(f"{self.url}: {e}") from e
        # Bytes still in our buffer when the drain began were leaving since then.
        self._flushed(started if buffered else flush_started)

    def _timed_flush(self) -> float:
        """tcdrain (in a worker thread); returns when it began."""
        started = time.monotonic()
        self._port.flush()
        return started

    async def close(self) -> None:
        if self._closed:
            return
        deadline = self._loop.time() + CLOSE_DRAIN
        while self._loop.time() < deadline and self._error is None:
            if not self._tr.get_write_buffer_size():
                break
            await asyncio.sleep(0.005)
        self._closed = True
        self.lines.detach()
        self._stop_watch()
        with contextlib.suppress(Exception):
            self._port.reset_output_buffer()
        with contextlib.suppress(Exception):
            self._tr.abort()
        # connection_lost (which closes the port) runs on the next loop iteration.
        await asyncio.sleep(0)
        self._on_close()
        self._wake_reader()
        self._space.set()
