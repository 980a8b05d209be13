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
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)

    async def body() -> None:
        async with harness.open(caller) as a, harness.open(answerer) as b:
            call, incoming = await steps.connect(a, b, answerer.line, rig.time_scale)
            assert call.rate and incoming.rate
            await steps.exchange_data(call, incoming, PAYLOAD,
                                      steps.transfer_limit(len(PAYLOAD), call.rate))
            await call.drop()
            assert call.disconnect_reason is DisconnectReason.NORMAL
            await steps.call_ends(incoming, steps.bound(10, rig.time_scale))
            assert incoming.disconnect_reason in steps.far_end_hangup_reasons(answerer)
    asyncio.run(body())


def test_busy(harness: Harness, pair: RigPair) -> None:
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)

    async def body() -> None:
        async with harness.open(caller) as a, harness.open(answerer) as b:
            await b.engine.command("ATH1")            # off-hook: the exchange says busy
            try:
                async with asyncio.timeout(steps.bound(steps.CALL_SETUP, rig.time_scale)):
                    call = await a.make_call(answerer.line)
            finally:
                await b.engine.command("ATH0")
            assert call.state is CallState.DISCONNECTED
            assert call.disconnect_reason is DisconnectReason.BUSY
    asyncio.run(body())


def test_no_answer(harness: Harness, pair: RigPair) -> None:
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)

    async def body() -> None:
        async with harness.open(caller) as a, harness.open(answerer):
            s7 = (await a.engine.command("ATS7?")).info[-1].strip()
            await a.engine.command("ATS7=8")          # give up after 8 protocol seconds
            try:
                async with asyncio.timeout(steps.bound(30, rig.time_scale)):
                    call = await a.make_call(answerer.line)
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
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)

    async def body() -> None:
        async with harness.simulator() as sim, harness.open(caller) as a, \
                harness.open(answerer) as b:
            await sim.set_dead(caller.line, True)
            try:
                async with asyncio.timeout(steps.bound(30, rig.time_scale)):
                    call = await a.make_call(answerer.line)
            finally:
                await sim.set_dead(caller.line, False)
            assert call.disconnect_reason is DisconnectReason.NODIALTONE
            again, _ = await steps.connect(a, b, answerer.line, rig.time_scale)
            await again.drop()
    asyncio.run(body())


@pytest.mark.needs("remote-hangup")
def test_remote_hangup(harness: Harness, pair: RigPair) -> None:
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)

    async def body() -> None:
        async with harness.simulator() as sim, harness.open(caller) as a, \
                harness.open(answerer) as b:
            call, incoming = await steps.connect(a, b, answerer.line, rig.time_scale)
            await sim.remote_hangup(caller.line)
            limit = steps.bound(10, rig.time_scale)
            assert await steps.read_exactly(call, 1, limit) == b""
            await steps.call_ends(call, limit)
            await steps.call_ends(incoming, limit)
            assert call.disconnect_reason is not DisconnectReason.UNKNOWN
    asyncio.run(body())
