"""``drop()`` reports a call ended only once the modem is on-hook (issue 8 item 3).

A modem that cannot be made to leave the call (it ignores ``+++`` here, on
a port without DTR) must not be reported DISCONNECTED: the caller gets a
typed error and the call stays up, so it is neither lost track of nor
taken for ended while the modem holds the line off-hook.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from modemctl.errors import OperationFailed
from modemctl.line import open_line
from modemctl.line.states import CallState
from tests.driver.conftest import SCALE
from tests.driver.responder import ScriptedDCE


@pytest.fixture
async def dce() -> AsyncIterator[ScriptedDCE]:
    d = ScriptedDCE(guard=50 * 0.02 * SCALE)
    try:
        yield d
    finally:
        d.close()


async def test_drop_that_cannot_hang_up_keeps_the_call(dce: ScriptedDCE) -> None:
    dce.echo = False
    async with open_line(dce.port, "US", SCALE, profile="generic-hayes") as line:
        call = await line.make_call("5551234")
        assert call.state is CallState.CONNECTED
        dce.honour_escape = False                # +++ is only data to this modem
        dce.data_echo = False
        async with asyncio.timeout(30):
            with pytest.raises(OperationFailed):
                await call.drop()
        assert dce.data_mode                     # the modem still holds the call ...
        assert call.state is CallState.CONNECTED  # ... and so does the API
        dce.honour_escape = True                 # the modem comes to its senses
        async with asyncio.timeout(30):
            await call.drop()
        assert call.state is CallState.DISCONNECTED
        assert not dce.data_mode
