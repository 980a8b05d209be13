"""Incoming calls with caller ID, events, bad input, fax media, the sync facade."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from modemctl import (
    CallState,
    DisconnectReason,
    InvalidAddress,
    InvalidCallState,
    OperationUnavailable,
)
from modemctl.line import CallerId, LineEvent, Ring, Secured, StateChanged, Subscription, sync
from tests.line.conftest import FAR, NEAR, SCALE, THIRD, PairFactory, read_exactly


@pytest.mark.parametrize(("personality", "mechanism"), [
    ("conexant-v92", "pcw-ignore"),
    ("agere-v92", "pcw-ignore"),
    ("usr-v90", "s10-ride-through"),
])
async def test_incoming_with_caller_id_answered_securely(make_pair: PairFactory,
                                                         personality: str,
                                                         mechanism: str) -> None:
    pair = await make_pair(personality, location="US")
    party = await pair.ex.ring_in(NEAR, caller="5553333", name="ALICE")
    async with asyncio.timeout(10):
        incoming = await pair.near.wait_for_call()
    assert incoming.state is CallState.OFFERING
    cid = incoming.caller_id
    assert cid is not None and (cid.number, cid.name) == ("5553333", "ALICE")
    assert incoming.number == "5553333"
    await incoming.answer(secure=True)
    assert incoming.state is CallState.CONNECTED
    report = incoming.secure_report
    assert report is not None and report.secured and report.when == "answer"
    entry = report.mechanism(mechanism)
    assert entry is not None and entry.in_force
    cancel = report.mechanism("cancel-code")
    assert cancel is not None and not cancel.applied
    assert await party.answered()
    party.write(b"from-alice")
    assert await read_exactly(incoming, 10) == b"from-alice"
    await incoming.write(b"to-alice")
    assert await read_exactly(party, 8) == b"to-alice"
    third = await pair.ex.ring_in(NEAR, caller=THIRD)     # decided as it calls
    assert third.outcome == "waiting-ignored"
    await incoming.drop()
    assert incoming.disconnect_reason is DisconnectReason.NORMAL


async def test_incoming_on_hayes_cannot_be_secured(make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="US")
    await pair.ex.ring_in(NEAR, caller="5553333")
    async with asyncio.timeout(10):
        incoming = await pair.near.wait_for_call()
    assert incoming.caller_id is None                # hayes-basic has no caller ID
    with pytest.raises(OperationUnavailable):
        await incoming.answer(secure=True)
    assert incoming.state is CallState.DISCONNECTED


async def test_reject_offered_call(make_pair: PairFactory) -> None:
    pair = await make_pair("usr-v90")
    await pair.ex.ring_in(NEAR, caller="5553333", max_rings=2)
    async with asyncio.timeout(10):
        incoming = await pair.near.wait_for_call()
    await incoming.drop()
    assert incoming.disconnect_reason is DisconnectReason.REJECT
    with pytest.raises(InvalidCallState):
        await incoming.answer()


async def test_events(make_pair: PairFactory) -> None:
    pair = await make_pair("conexant-v92", location="US")
    near_events: list[LineEvent] = []
    far_events: list[LineEvent] = []

    async def collect(sub: Subscription, into: list[LineEvent]) -> None:
        async for ev in sub:                   # until the call's last state change
            into.append(ev)
            if isinstance(ev, StateChanged) and ev.new is CallState.DISCONNECTED:
                return

    subs = [pair.near.events(), pair.far.events()]     # queue from here on
    tasks = [asyncio.create_task(collect(subs[0], near_events)),
             asyncio.create_task(collect(subs[1], far_events))]
    call, _ = await pair.connect(secure=True)
    await call.drop()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)
    for sub in subs:
        sub.close()
    states = [e.new for e in near_events if isinstance(e, StateChanged)]
    assert states == [CallState.DIALTONE, CallState.DIALING, CallState.CONNECTED,
                      CallState.DISCONNECTED]
    assert any(isinstance(e, Secured) and e.report.secured for e in near_events)
    assert any(isinstance(e, Ring) for e in far_events)
    cids = [e for e in far_events if isinstance(e, CallerId)]
    assert cids and cids[0].number == NEAR
    far_states = [e.new for e in far_events if isinstance(e, StateChanged)]
    assert far_states == [CallState.PROCEEDING, CallState.CONNECTED, CallState.DISCONNECTED]


@pytest.mark.parametrize("number", [
    "5551002\rATZ", "5551002;", "5551002;ATS0=1", "ATDT5551002", "555-CALL", "5551002\n",
])
async def test_invalid_address_never_reaches_the_modem(make_pair: PairFactory,
                                                       number: str) -> None:
    pair = await make_pair("conexant-v92")
    sent: list[str] = []
    engine = pair.near.engine
    original_command, original_originate = engine.command, engine.originate

    async def command(cmd: str, timeout: float = 5.0) -> Any:  # noqa: ASYNC109 - same shape
        sent.append(cmd)
        return await original_command(cmd, timeout)

    async def originate(cmd: str, timeout: float = 90.0) -> Any:  # noqa: ASYNC109
        sent.append(cmd)
        return await original_originate(cmd, timeout)

    engine.command = command  # type: ignore[method-assign]
    engine.originate = originate  # type: ignore[method-assign]
    for secure in (False, True):
        with pytest.raises(InvalidAddress) as info:
            await pair.near.make_call(number, secure=secure)
        assert info.value.position is not None
    assert sent == []
    assert pair.near_fake.call_log == []


async def test_bad_arguments(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    with pytest.raises(ValueError, match="secure must be"):
        await pair.near.make_call(FAR, secure="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="media must be"):
        await pair.near.make_call(FAR, media="voice")  # type: ignore[arg-type]


async def test_one_call_at_a_time(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    call, _ = await pair.connect()
    with pytest.raises(InvalidCallState):
        await pair.near.make_call(FAR)
    with pytest.raises(InvalidCallState):
        await pair.near.probe()
    await call.drop()
    with pytest.raises(InvalidCallState):
        await call.write(b"x")
    assert await call.read(10) == b""


async def test_fax_media_sets_and_restores_class(make_pair: PairFactory) -> None:
    pair = await make_pair("usr-v90", location="US")
    async def answer() -> None:
        offered = await pair.far.wait_for_call()
        # The far end is a fax machine: a Class 1 caller connects only to a modem that
        # answers in fax (CED, then V.21), not to a data modem.
        await offered.answer(media="fax")

    answering = asyncio.create_task(answer())
    async with asyncio.timeout(10):
        call = await pair.near.make_call(FAR, media="fax", secure="best-effort")
        await answering
    report = call.secure_report
    assert report is not None
    s10 = report.mechanism("s10-ride-through")
    assert s10 is not None and not s10.applied and "fax" in s10.reason
    assert call.state is CallState.CONNECTED
    assert pair.near_fake.dce.fclass == "1"          # Class 1 for the call
    await call.drop()
    assert pair.near_fake.dce.fclass == "0"          # back to data afterwards


async def test_fax_on_data_only_modem(make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic")
    with pytest.raises(OperationUnavailable, match="no fax class"):
        await pair.near.make_call(FAR, media="fax")


async def test_caps_and_generic_profile(make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="DE")
    caps = pair.near.caps
    assert caps is not None and caps.profile.name == "generic-hayes" and not caps.identified
    assert any("generic Hayes profile" in n for n in caps.notes)
    assert caps.secure_at_dial == () and caps.secure_after_connect == ()
    far_caps = pair.far.caps
    assert far_caps is not None and far_caps.profile.name == "agere" and far_caps.v92
    assert "2.0" in far_caps.fax_classes
    described = far_caps.describe()
    assert described["profile"] == "agere"


async def test_sync_facade(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92", location="US")
    near_port = pair.near_fake.port
    await pair.near.close()                    # free the port for the script
    answering = asyncio.create_task(pair.far.wait_for_call())

    def script() -> tuple[Any, ...]:
        with sync.open_line(near_port, "US", SCALE, name="script") as line:
            caps = line.caps
            with line.make_call(FAR, secure=True, timeout=20) as call:
                state = call.state
                call.write(b"sync hello", timeout=5)
                reply = call.read_exactly(5, timeout=5)
                report = call.secure(timeout=10)
            return caps, state, reply, report, call.state, call.disconnect_reason

    script_task = asyncio.create_task(asyncio.to_thread(script))
    async with asyncio.timeout(20):
        incoming = await answering
        await incoming.answer()
        assert await read_exactly(incoming, 10) == b"sync hello"
        await incoming.write(b"pong!")
        caps, state, reply, report, final, reason = await script_task
    assert caps.profile.name == "agere"
    assert state is CallState.CONNECTED and reply == b"pong!"
    assert report.secured and report.when == "dial"
    assert final is CallState.DISCONNECTED and reason is DisconnectReason.NORMAL


async def test_sync_timeout_is_bounded(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    near_port = pair.near_fake.port
    await pair.near.close()

    def script() -> None:
        with sync.open_line(near_port, "US", SCALE) as line:
            line.wait_for_call(timeout=0.3)

    with pytest.raises(TimeoutError):
        await asyncio.to_thread(script)
