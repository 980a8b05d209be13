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
from modemctl.transport.base import ModemLines, Transport, set_dtr_blocking

HIGH_WATER = 64 * 1024
READ_HIGH_WATER = 1 << 20
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


class AsyncioTransport(Transport):
    """A port driven by ``serial_asyncio.SerialTransport`` on the event loop."""

    def __init__(self, port: Any, url: str, lines_available: bool,
                 on_close: Callable[[], None], log: Any) -> None:
        self.url = url
        self._port = port
        self._log = log
        self._loop = asyncio.get_running_loop()
        self.lines = ModemLines(port, lines_available)
        self._on_close = on_close
        self._rbuf = bytearray()
        self._rwaiter: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self._closed = False
        self._space = asyncio.Event()
        self._space.set()
        self._reading_paused = False
        self._last_tx = 0.0
        self._proto = _Protocol(self)
        self._tr = cast(asyncio.Transport,
                        serial_asyncio.SerialTransport(self._loop, self._proto, port))
        self._tr.set_write_buffer_limits(high=HIGH_WATER)

    def _deliver(self, data: bytes) -> None:
        self._rbuf += data
        if len(self._rbuf) > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self._tr.pause_reading()
        if self._rwaiter is not None and not self._rwaiter.done():
            self._rwaiter.set_result(None)

    def _lost(self, exc: BaseException | None) -> None:
        if not self._closed and self._error is None:
            self._error = exc or PortClosed(f"{self.url} closed by the peer")
            self._log.warning("port-failed", error=str(self._error))
        if self._rwaiter is not None and not self._rwaiter.done():
            self._rwaiter.set_result(None)
        self._space.set()

    def _check(self) -> None:
        if self._closed:
            raise PortClosed(f"{self.url} is closed")
        if self._error is not None:
            raise PortClosed(f"{self.url} failed: {self._error}")

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
        if self._reading_paused and len(self._rbuf) <= READ_HIGH_WATER // 2:
            self._reading_paused = False
            self._tr.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        if not data:
            return
        while not self._space.is_set():
            self._check()
            await self._space.wait()
        self._check()
        self._tr.write(data)
        self._last_tx = time.monotonic()

    async def drain(self) -> None:
        # Wait for the transport's buffer, then tcdrain in a thread (never in the loop).
        while self._tr.get_write_buffer_size():
            self._check()
            await asyncio.sleep(0.001)
        self._check()
        try:
            await asyncio.to_thread(self._port.flush)
        except (OSError, serial.SerialException) as e:
            raise PortClosed(f"{self.url}: {e}") from e
        self._last_tx = time.monotonic()

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
        with contextlib.suppress(Exception):
            self._port.reset_output_buffer()
        with contextlib.suppress(Exception):
            self._tr.abort()
        # connection_lost (which closes the port) runs on the next loop iteration.
        await asyncio.sleep(0)
        self._on_close()
        if self._rwaiter is not None and not self._rwaiter.done():
            self._rwaiter.set_result(None)
        self._space.set()
