"""Fixtures: a scripted DCE on a pty and an engine opened on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from modemctl.driver import Engine
from tests.driver.responder import ScriptedDCE, scripted_dce
from tests.support import wait_until

__all__ = ["wait_until"]

SCALE = 0.05


@pytest.fixture
async def dce() -> AsyncIterator[ScriptedDCE]:
    async with scripted_dce(SCALE) as d:
        yield d


@pytest.fixture
async def engine(dce: ScriptedDCE) -> AsyncIterator[Engine]:
    e = await Engine.open(dce.port, time_scale=SCALE)
    try:
        yield e
    finally:
        await e.close()
