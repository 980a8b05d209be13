"""Fixtures: a scripted DCE on a pty and an engine opened on it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from modemctl.driver import Engine
from tests.driver.responder import ScriptedDCE

SCALE = 0.05


async def wait_until(predicate: Callable[[], bool], polls: int = 500) -> None:
    """Wait for a state nothing signals (DCD on a port, bytes buffered):
    polled, bounded in loop count; it orders nothing by time and fails if
    the state never comes."""
    for _ in range(polls):
        if predicate():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the awaited state never came")


@pytest.fixture
async def dce() -> AsyncIterator[ScriptedDCE]:
    d = ScriptedDCE(guard=50 * 0.02 * SCALE)
    try:
        yield d
    finally:
        d.close()


@pytest.fixture
async def engine(dce: ScriptedDCE) -> AsyncIterator[Engine]:
    e = await Engine.open(dce.port, time_scale=SCALE)
    try:
        yield e
    finally:
        await e.close()
