"""A fake exchange on its own thread, for driving CLI commands against real ptys.

click's test runner runs a command (and its ``asyncio.run``) in the test's
thread, so the exchange cannot share that loop: it runs on a
:class:`~modemctl.loopthread.LoopThread`, exactly like a separate process
would, and tests reach it with :meth:`FakeSwitch.run`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, BinaryIO, TypeVar

from modemctl.fake import Exchange
from modemctl.line import open_line
from modemctl.loopthread import LoopThread

T = TypeVar("T")

SCALE = 0.05
LINES = {"5551001": "conexant-v92", "5551002": "agere-v92", "5551003": "hayes-basic"}


class EchoPeer:
    """Answers the next call on a line and sends back what it receives, upper-cased.

    ``+`` is not echoed: the ``+++`` that the caller's modem lets through when
    it escapes (to secure the call, or to hang up) would, sent back with the
    same pauses, be a guarded escape for this side's own modem.
    """

    def __init__(self) -> None:
        self.received = bytearray()
        self.listening = threading.Event()
        self.connected = threading.Event()
        self.ended = threading.Event()

    async def serve(self, port: str, greeting: bytes = b"") -> None:
        try:
            async with asyncio.timeout(40), open_line(port, time_scale=SCALE) as line:
                self.listening.set()
                call = await line.wait_for_call()
                await call.answer()
                self.connected.set()
                if greeting:
                    await call.write(greeting)
                while data := await call.read(1024):
                    self.received += data
                    with contextlib.suppress(Exception):
                        await call.write(data.upper().replace(b"+", b""))
        finally:
            self.ended.set()


class FakeSwitch:
    """An :class:`Exchange` with the lines of :data:`LINES`, on a background loop."""

    def __init__(self) -> None:
        self.loop = LoopThread()
        self.exchange: Exchange = self.loop.run(self._start(), timeout=20)
        self._background: list[concurrent.futures.Future[Any]] = []

    @staticmethod
    async def _start() -> Exchange:
        ex = Exchange(time_scale=SCALE)
        await ex.start()
        for number, personality in LINES.items():
            await ex.add_line(number, personality=personality)
        return ex

    def port(self, number: str) -> str:
        return self.exchange.lines[number].port

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 20) -> T:
        return self.loop.run(coro, timeout)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        future = self.loop.spawn(coro)
        self._background.append(future)
        return future

    def echo_peer(self, number: str, greeting: bytes = b"") -> EchoPeer:
        """Start an answering peer on ``number``; returns once it listens."""
        peer = EchoPeer()
        self.spawn(peer.serve(self.port(number), greeting))
        assert peer.listening.wait(15), "echo peer did not open its line"
        return peer

    def close(self) -> None:
        for future in self._background:
            future.cancel()
        with contextlib.suppress(Exception):
            self.loop.run(self.exchange.close(), timeout=10)
        self.loop.stop()

    def __enter__(self) -> FakeSwitch:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def wait_for(predicate: Callable[[], bool], limit: float = 15.0, step: float = 0.02) -> bool:
    """Poll ``predicate`` (bounded in time); True when it held."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)                # a state on another thread: polled, bounded
    return predicate()


@contextlib.contextmanager
def keyboard() -> Iterator[tuple[BinaryIO, Callable[[bytes], None], Callable[[], None]]]:
    """A pipe standing in for the keyboard: (stdin for the runner, type, close)."""
    r, w = os.pipe()
    closed = False

    def type_(data: bytes) -> None:
        os.write(w, data)

    def close() -> None:
        nonlocal closed
        if not closed:
            closed = True
            os.close(w)

    with os.fdopen(r, "rb", buffering=0) as stdin:
        try:
            yield stdin, type_, close
        finally:
            close()


def after(condition: Callable[[], bool], action: Callable[[], None],
          limit: float = 20.0) -> threading.Thread:
    """Run ``action`` on a thread once ``condition`` holds.

    If it never holds within ``limit`` the action is not run: the command under
    test then never gets what it waits for, and the test fails on its outcome
    instead of going on as if the awaited state had come.
    """
    def run() -> None:
        if wait_for(condition, limit):
            action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def type_then_close(peer: EchoPeer, type_: Callable[[bytes], None], close: Callable[[], None],
                    data: bytes) -> None:
    """Type ``data`` once ``peer`` has answered, and end the input (close the
    keyboard) once the far end has it: a dial that sends one line and hangs up."""
    after(peer.connected.is_set, lambda: type_(data))
    after(lambda: data in peer.received, close)
