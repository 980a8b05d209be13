"""The background event loop the sync facade and the AT console block on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from modemctl.loopthread import LoopThread


@pytest.fixture
def runner() -> Iterator[LoopThread]:
    lt = LoopThread(name="test-loop")
    yield lt
    lt.stop()


def test_run_returns_the_result_and_reraises_the_error(runner: LoopThread) -> None:
    async def where() -> str:
        return threading.current_thread().name

    async def fail() -> None:
        raise ValueError("from the loop")

    assert runner.run(where(), timeout=5) == "test-loop"
    with pytest.raises(ValueError, match="from the loop"):
        runner.run(fail(), timeout=5)


def test_a_timeout_cancels_the_coroutine(runner: LoopThread) -> None:
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        runner.run(forever(), timeout=0.05)
    assert cancelled.wait(5)


def test_waiting_on_the_loop_from_the_loop_is_refused(runner: LoopThread) -> None:
    async def inner() -> int:
        return 1

    async def outer() -> None:
        coro = inner()
        with pytest.raises(RuntimeError, match="its own loop"):
            runner.run(coro)

    runner.run(outer(), timeout=5)


def test_stop_cancels_what_is_left_and_ends_the_thread() -> None:
    lt = LoopThread()
    cancelled = threading.Event()

    async def its_thread() -> threading.Thread:
        return threading.current_thread()

    async def background() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    thread = lt.run(its_thread(), timeout=5)
    lt.spawn(background())
    lt.stop()
    assert cancelled.is_set()
    assert not thread.is_alive()
