"""An asyncio event loop on a daemon thread, for callers that must block.

The driver and the line API are asyncio; two callers cannot be: the
synchronous facade (:mod:`modemctl.line.sync`), whose scripts never see a
coroutine, and the interactive AT console, which reads lines with a blocking
``input()`` for readline's editing and history.  Both run the loop beside
them and hand it coroutines.  The thread is a daemon, so a wedged coroutine
can never keep the process alive, and every wait on it takes a timeout.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

STOP_WAIT = 2.0   # seconds stop() gives the left-over tasks, and again the thread


class LoopThread:
    """Owns one event loop running on a daemon thread."""

    def __init__(self, name: str = "modemctl-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (re-raising its error).

        A timeout, or anything that interrupts the wait (Ctrl-C), cancels the
        coroutine: nothing goes on in the background that the caller gave up on.
        Called from the loop's own thread it would wait for itself for ever, so
        it refuses.
        """
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a coroutine cannot be run and waited for from its own loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on this loop from a coroutine on another loop, without blocking it."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))

    def spawn(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Start ``coro`` on the loop without waiting (background printers, peers)."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def stop(self) -> None:
        """Cancel what is left, stop the loop and wait (bounded) for the thread."""
        async def cancel_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(cancel_rest(), self._loop).result(STOP_WAIT)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STOP_WAIT)
        if not self._thread.is_alive():
            self._loop.close()
