"""Every call outcome on every personality, with the right DisconnectReason."""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, DisconnectReason
from tests.line.conftest import FAR, NEAR, PERSONALITIES, PairFactory, read_exactly, wait_until

pytestmark = pytest.mark.parametrize("personality", PERSONALITIES)


async def test_connect_data_both_ways_and_drop(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality)
    call, incoming = await pair.connect()
    assert call.rate and incoming.rate
    assert incoming.caller_id is None or incoming.caller_id.number == NEAR
    payload = bytes(range(256)) * 4
    await call.write(payload)
    assert await read_exactly(incoming, len(payload)) == payload
    reply = b"reply \x00\xff\x10 done"
    await incoming.write(reply)
    assert await read_exactly(call, len(reply)) == reply
    await call.drop()
    assert call.state is CallState.DISCONNECTED
    assert call.disconnect_reason is DisconnectReason.NORMAL
    async with asyncio.timeout(5):
        assert await incoming.wait_disconnected() is DisconnectReason.NORMAL
    assert pair.near_fake.call_log[-1].outcome == "connected"


async def test_busy(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality)
    await pair.far.engine.command("ATH1")          # far end off-hook: the exchange says busy
    call = await pair.near.make_call(FAR)
    assert call.state is CallState.DISCONNECTED
    assert call.disconnect_reason is DisconnectReason.BUSY


async def test_no_answer_with_quiet_answer_modifier(make_pair: PairFactory,
                                                    personality: str) -> None:
    pair = await make_pair(personality)
    await pair.near.engine.command("ATS7=8")       # give up after 8 protocol seconds
    call = await pair.near.make_call(FAR + "@")
    assert call.disconnect_reason is DisconnectReason.NOANSWER


async def test_no_answer_plain_dial_is_unavail(make_pair: PairFactory, personality: str) -> None:
    # Without '@' a Hayes modem says NO CARRIER when S7 runs out: nothing answered.
    # A Conexant modem says NO ANSWER when the far end rang all along (its result-code
    # text; see the fake's conexant-v92 personality).
    pair = await make_pair(personality)
    await pair.near.engine.command("ATS7=8")
    call = await pair.near.make_call(FAR)
    expected = DisconnectReason.NOANSWER if personality == "conexant-v92" \
        else DisconnectReason.UNAVAIL
    assert call.disconnect_reason is expected


async def test_no_dial_tone(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality)
    pair.ex.set_line_dead(NEAR, True)
    call = await pair.near.make_call(FAR)
    assert call.state is CallState.DISCONNECTED
    assert call.disconnect_reason is DisconnectReason.NODIALTONE
    # The line is free again: a new call can be placed once the line is back.
    pair.ex.set_line_dead(NEAR, False)
    call2, _ = await pair.connect()
    await call2.drop()


async def test_remote_hangup(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality)
    call, incoming = await pair.connect()
    await incoming.drop()
    assert await read_exactly(call, 1) in (b"", b"+")  # the far drop may escape with +++
    async with asyncio.timeout(5):
        assert await call.wait_disconnected() is DisconnectReason.NORMAL
    assert call.state is CallState.DISCONNECTED


async def test_exchange_remote_hangup_while_reading(make_pair: PairFactory,
                                                    personality: str) -> None:
    pair = await make_pair(personality)
    call, _ = await pair.connect()
    reader = asyncio.create_task(call.read(100))
    await asyncio.sleep(0)                  # one step: the reader now waits in read()
    assert not reader.done()
    await pair.ex.remote_hangup(NEAR)
    async with asyncio.timeout(5):
        assert await reader == b""
    assert call.disconnect_reason is DisconnectReason.NORMAL


async def test_carrier_loss_with_dcd_is_carrierlost(make_pair: PairFactory,
                                                    personality: str) -> None:
    # Over RFC 2217 the port has DCD, which drops when the carrier goes.  Both
    # modems wait (nearly) for ever for the carrier to come back, so DCD is the
    # only evidence and no NO CARRIER can overtake it.
    pair = await make_pair(personality, rfc2217=True)
    await pair.near.engine.command("ATS10=254")
    await pair.far.engine.command("ATS10=254")
    call, _ = await pair.connect()
    await wait_until(lambda: bool(pair.near.engine.lines.cd), "DCD up over RFC 2217")
    # The engine counts only a falling edge of DCD it sampled high: give its
    # poller (50 ms period) two periods to sample the rise (issue 7 defect 9
    # removes the need).
    await asyncio.sleep(0.1)
    assert not await pair.ex.carrier_loss(NEAR, duration=60.0)
    async with asyncio.timeout(5):
        assert await call.wait_disconnected() is DisconnectReason.CARRIERLOST
    # The line dropped DTR (&D2), so the modem is on-hook, not waiting for carrier.
    assert pair.near_fake.state == "command"


async def test_carrier_loss_without_dcd_reads_as_normal(make_pair: PairFactory,
                                                        personality: str) -> None:
    # On a pty there is no DCD: the modem's NO CARRIER is all there is, and a
    # Hayes modem says the same for a clear-down and for a lost carrier.
    pair = await make_pair(personality)
    call, _ = await pair.connect()
    assert not await pair.ex.carrier_loss(NEAR, duration=30.0)
    assert await read_exactly(call, 1) == b""
    assert call.disconnect_reason is DisconnectReason.NORMAL


async def test_cancelled_dial_leaves_the_line_usable(make_pair: PairFactory,
                                                     personality: str) -> None:
    pair = await make_pair(personality)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await pair.near.make_call("5550000")        # nobody there: rings out on S7
    assert pair.near_fake.state == "command"             # the dial was aborted, on-hook
    call, _ = await pair.connect()
    await call.drop()
