"""Fixtures for the line/call tests: a fake exchange and two lines driven by modemctl.

``near`` is the line under test (its personality varies); ``far`` is the line
it calls, also driven through ``open_line``, so that every call is exercised
end to end on both sides: driver, fake and line layer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest

from modemctl.fake import Exchange, FakeLine
from modemctl.fake.exchange import CANCEL_CODES
from modemctl.fake.line import CancelCodes
from modemctl.line import Call, Line, open_line
from modemctl.line.call import SecureRequest
from tests.support import read_exactly, wait_until

__all__ = ["read_exactly", "wait_until"]

SCALE = 0.05
PERSONALITIES = ("conexant-v92", "agere-v92", "usr-v90", "hayes-basic")
NEAR, FAR, THIRD = "5551001", "5551002", "5559999"


@dataclass
class Pair:
    """Two modemctl lines on one exchange."""

    ex: Exchange
    near: Line
    far: Line
    near_fake: FakeLine
    far_fake: FakeLine

    async def connect(self, secure: SecureRequest = False, number: str = FAR,
                      far_secure: SecureRequest = False) -> tuple[Call, Call]:
        """near dials far, far answers; both calls CONNECTED (asserted)."""
        answering = asyncio.create_task(self._answer(far_secure))
        try:
            async with asyncio.timeout(20):
                call = await self.near.make_call(number, secure=secure)
                assert call.state.name == "CONNECTED", (call, call.disconnect_reason)
                incoming = await answering
        finally:
            answering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await answering
        return call, incoming

    async def _answer(self, secure: SecureRequest) -> Call:
        incoming = await self.far.wait_for_call()
        await incoming.answer(secure=secure)
        return incoming


PairFactory = Callable[..., Awaitable[Pair]]


@pytest.fixture
async def make_pair() -> AsyncIterator[PairFactory]:
    """``await make_pair(personality, location="US", far="agere-v92", rfc2217=False)``.

    ``carrier`` is what the near line's carrier takes as cancel codes (the
    fake's default: NANP's); ``cancel_code``/``cancel_code_pulse`` are the
    user's, handed to ``open_line``.
    """
    stack = contextlib.AsyncExitStack()

    async def factory(personality: str, location: str = "US", far: str = "agere-v92",
                      rfc2217: bool = False, scale: float = SCALE,
                      carrier: CancelCodes = CANCEL_CODES, cancel_code: str | None = None,
                      cancel_code_pulse: str | None = None) -> Pair:
        ex = await stack.enter_async_context(Exchange(time_scale=scale))
        near_fake = await ex.add_line(NEAR, personality=personality, rfc2217=rfc2217,
                                      cancel_codes=carrier)
        far_fake = await ex.add_line(FAR, personality=far)
        url = near_fake.url if rfc2217 and near_fake.url else near_fake.port
        near = await stack.enter_async_context(
            open_line(url, location, scale, name="near", cancel_code=cancel_code,
                      cancel_code_pulse=cancel_code_pulse))
        far_line = await stack.enter_async_context(
            open_line(far_fake.port, "US", scale, name="far"))
        return Pair(ex, near, far_line, near_fake, far_fake)

    async with stack:
        yield factory

