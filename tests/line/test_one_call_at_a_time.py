"""One call at a time, clearly (issue 8 item 8): a second call is refused with a
typed error, and a server answers call after call with ``line.incoming()``."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from modemctl import CallState, DisconnectReason
from modemctl.errors import InvalidCallState
from modemctl.line import Call, sync
from tests.line.conftest import FAR, SCALE, PairFactory, read_exactly


async def test_wait_for_call_while_a_call_is_up_raises(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    call, _ = await pair.connect()
    for line in (pair.near, pair.far):
        with pytest.raises(InvalidCallState, match="already has call"):
            async with asyncio.timeout(5):
                await line.wait_for_call()
    await call.drop()


async def test_incoming_serves_call_after_call(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    served: list[Call] = []
    between: list[CallState] = []        # the previous call's state when the next is offered

    async def serve() -> None:
        async with contextlib.aclosing(pair.far.incoming()) as offers:
            async for call in offers:
                if served:
                    between.append(served[-1].state)
                served.append(call)
                await call.answer()
                await call.write(f"hello {len(served)}".encode())
                if len(served) == 3:
                    await call.drop()
                    break
                # The body returns with the call up: the far end hangs up.

    server = asyncio.create_task(serve())
    async with asyncio.timeout(30):
        for n in (1, 2, 3):
            call = await pair.near.make_call(FAR)
            assert call.state is CallState.CONNECTED, call.disconnect_reason
            assert await read_exactly(call, 7) == f"hello {n}".encode()
            await call.drop()
            await served[-1].wait_disconnected()
        await server
    assert [c.state for c in served] == [CallState.DISCONNECTED] * 3
    assert len({c.call_id for c in served}) == 3
    assert between == [CallState.DISCONNECTED] * 2


async def test_an_offer_the_body_ignores_is_rejected_and_offering_goes_on(
        make_pair: PairFactory) -> None:
    # A modem cannot refuse a ringing call: the rejected offer ends for us,
    # and the caller, still ringing, is offered again at the next ring.
    pair = await make_pair("agere-v92")
    offered: list[Call] = []

    async def serve() -> None:
        async with contextlib.aclosing(pair.far.incoming()) as offers:
            async for call in offers:
                offered.append(call)
                if len(offered) == 2:
                    await call.answer()
                    return

    server = asyncio.create_task(serve())
    async with asyncio.timeout(30):
        call = await pair.near.make_call(FAR)
        await server
    assert call.state is CallState.CONNECTED
    first, second = offered
    assert first.disconnect_reason is DisconnectReason.REJECT
    assert second.state is CallState.CONNECTED
    await call.drop()


async def test_sync_incoming_serves_call_after_call(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    far_port = pair.far_fake.port
    await pair.far.close()                         # the script opens the far line itself

    def server() -> list[str]:
        answered: list[str] = []
        with sync.open_line(far_port, "US", SCALE, name="server") as line:
            for call in line.incoming(timeout=20):
                call.answer(timeout=20)
                answered.append(call.read_exactly(4, timeout=10).decode())
                call.drop(timeout=10)
                if len(answered) == 2:
                    break
        return answered

    serving = asyncio.create_task(asyncio.to_thread(server))
    async with asyncio.timeout(40):
        for word in (b"one!", b"two!"):
            call = await pair.near.make_call(FAR)
            assert call.state is CallState.CONNECTED, call.disconnect_reason
            await call.write(word)
            await call.wait_disconnected()
        assert await serving == ["one!", "two!"]
