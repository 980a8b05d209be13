"""Dial and answer, busy, no answer, no dial tone, remote hang-up: on every pair."""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, DisconnectReason
from modemctl.hil import steps
from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigPair

PAYLOAD = bytes(range(256)) * 4


def test_dial_and_answer(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair) as p:
            call, incoming = await p.connect()
            assert call.rate and incoming.rate
            await steps.exchange_data(call, incoming, PAYLOAD,
                                      steps.transfer_limit(len(PAYLOAD), call.rate))
            await call.drop()
            assert call.disconnect_reason is DisconnectReason.NORMAL
            await steps.call_ends(incoming, p.bound(10))
            assert incoming.disconnect_reason in steps.far_end_hangup_reasons(p.answerer)
    asyncio.run(body())


def test_busy(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair) as p:
            await p.b.engine.command("ATH1")          # off-hook: the exchange says busy
            try:
                async with asyncio.timeout(p.bound(steps.CALL_SETUP)):
                    call = await p.a.make_call(p.answerer.line)
            finally:
                await p.b.engine.command("ATH0")
            assert call.state is CallState.DISCONNECTED
            assert call.disconnect_reason is DisconnectReason.BUSY
    asyncio.run(body())


def test_no_answer(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair) as p:
            a = p.a
            s7 = (await a.engine.command("ATS7?")).info[-1].strip()
            await a.engine.command("ATS7=8")          # give up after 8 protocol seconds
            try:
                async with asyncio.timeout(p.bound(30)):
                    call = await a.make_call(p.answerer.line)
            finally:
                await a.engine.command(f"ATS7={int(s7)}")   # leave the modem as found
            # Without '@' a Hayes modem says NO CARRIER when S7 runs out, but a
            # Conexant says NO ANSWER when the far end was still ringing
            # (firmware-notes/conexant.md, the `NO ANSWER` row).
            expected = (DisconnectReason.NOANSWER if a.caps_required().profile.name == "conexant"
                        else DisconnectReason.UNAVAIL)
            assert call.disconnect_reason is expected
    asyncio.run(body())


@pytest.mark.needs("dead-line")
def test_no_dial_tone(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair, simulator=True) as p:
            await p.sim.set_dead(p.caller.line, True)
            try:
                async with asyncio.timeout(p.bound(30)):
                    call = await p.a.make_call(p.answerer.line)
            finally:
                await p.sim.set_dead(p.caller.line, False)
            assert call.disconnect_reason is DisconnectReason.NODIALTONE
            again, _ = await p.connect()
            await again.drop()
    asyncio.run(body())


@pytest.mark.needs("remote-hangup")
def test_remote_hangup(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair, simulator=True) as p:
            call, incoming = await p.connect()
            await p.sim.remote_hangup(p.caller.line)
            limit = p.bound(10)
            assert await steps.read_exactly(call, 1, limit) == b""
            await steps.call_ends(call, limit)
            await steps.call_ends(incoming, limit)
            assert call.disconnect_reason is not DisconnectReason.UNKNOWN
    asyncio.run(body())
