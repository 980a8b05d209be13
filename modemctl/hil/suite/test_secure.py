"""Secure calls against call waiting, injected through the line simulator.

Unsecured calls drop (or survive) as the caller's profile predicts; calls
secured at dial time, or after connect where the profile says that is
possible, survive with their data intact both ways; where it is not possible
the request fails closed.
"""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, OperationUnavailable
from modemctl.hil import steps
from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigPair
from modemctl.profiles import get_profile

PAYLOAD = b"after the tone:" + bytes(range(256)) * 2


@pytest.mark.needs("call-waiting")
def test_unsecured_call_meets_call_waiting_as_the_profile_predicts(
        harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair, simulator=True) as p:
            drops = steps.unsecured_call_drops(get_profile(p.caller.profile))
            call, incoming = await p.connect()
            await p.sim.call_waiting(p.caller.line, p.rig.third_party)
            limit = p.bound(10)
            if drops:
                assert await steps.read_exactly(call, 1, limit) == b""
                await steps.call_ends(call, limit)
            else:
                await steps.exchange_data(call, incoming, PAYLOAD, limit)
                await call.drop()
    asyncio.run(body())


@pytest.mark.needs("call-waiting")
def test_secured_at_dial_survives_call_waiting(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair, simulator=True) as p:
            call, incoming = await p.connect(secure=True)
            assert call.secure_report is not None
            await p.sim.call_waiting(p.caller.line, p.rig.third_party)
            await steps.exchange_data(call, incoming, PAYLOAD, p.bound(10))
            assert call.state is CallState.CONNECTED
            await call.drop()
    asyncio.run(body())


@pytest.mark.needs("call-waiting")
def test_secured_after_connect_survives_call_waiting(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair, simulator=True) as p:
            possible = steps.secure_after_connect_possible(get_profile(p.caller.profile))
            call, incoming = await p.connect()
            limit = p.bound(10)
            if not possible:
                with pytest.raises(OperationUnavailable):
                    await call.secure(True)
                await call.drop()
                return
            await call.secure(True)
            await p.sim.call_waiting(p.caller.line, p.rig.third_party)
            # Securing a call in progress escapes to command mode: the '+++' goes on.
            await steps.exchange_data(call, incoming, PAYLOAD, limit, far_prefix=b"+++")
            assert call.state is CallState.CONNECTED
            await call.drop()
    asyncio.run(body())
