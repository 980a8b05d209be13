"""Helpers shared by the test suite."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import pytest


def interop_required() -> bool:
    """True when CI demands that interop tests run (``MODEMCTL_REQUIRE_INTEROP=1``)."""
    return os.environ.get("MODEMCTL_REQUIRE_INTEROP", "") == "1"


def require_program(name: str) -> str:
    """Return the path of a third-party program, or skip (locally) / fail (in CI)."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (.ci/run installs it)"
        if interop_required():
            pytest.fail(msg)
        pytest.skip(msg)
    return path


async def wait_until(condition: Callable[[], bool], what: str = "the awaited state",
                     within: float = 5.0) -> None:
    """Wait until ``condition()`` holds; fail, naming ``what``, if it does not within
    ``within`` real seconds.

    For a state nothing publishes an event for (DCD as a port last reported it,
    bytes buffered, a fake modem's hook changed on its own loop): polled every
    few milliseconds.  The wait ends when the state is reached, never on a
    guessed time, and never lets the test go on as if it had been reached.
    """
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not reached within {within} s")
        await asyncio.sleep(0.005)


class Reader(Protocol):
    """Anything read in chunks: a transport, an engine, a call, a fake's remote party."""

    def read(self, n: int, /) -> Awaitable[bytes]: ...


async def read_exactly(source: Reader, n: int, within: float = 5.0) -> bytes:
    """Read ``n`` bytes from ``source``, bounded in time; short if it ends first
    (``b""``), so that the caller's comparison fails on what did arrive."""
    out = bytearray()
    async with asyncio.timeout(within):
        while len(out) < n:
            chunk = await source.read(n - len(out))
            if not chunk:
                break
            out += chunk
    return bytes(out)
