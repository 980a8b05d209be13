"""Call waiting against the fake exchange, on every personality.

Unsecured calls on modems whose defaults drop (conexant-v92, usr-v90) are
lost; the same calls secured at dial time or after connect survive with
their data intact both ways; where nothing can secure a call the request
fails closed with OperationUnavailable.
"""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, DisconnectReason, OperationUnavailable
from modemctl.line import Call
from modemctl.line.secure import CARRIER_GRACE_MARGIN
from tests.line.conftest import (
    NEAR,
    PERSONALITIES,
    THIRD,
    Pair,
    PairFactory,
    read_exactly,
    settle,
)

#: What an unsecured call does on each personality's factory settings (design.md).
DEFAULT_DROPS = {"conexant-v92": True, "agere-v92": False, "usr-v90": True, "hayes-basic": False}


async def exchange_data(pair: Pair, call: Call, incoming: Call, tag: bytes,
                        far_prefix: bytes = b"") -> None:
    """Data goes both ways intact (``far_prefix``: what the far end sees first)."""
    out = tag + bytes(range(256))
    await call.write(out)
    expected = far_prefix + out
    assert await read_exactly(incoming, len(expected)) == expected
    back = b"back:" + tag[::-1]
    await incoming.write(back)
    assert await read_exactly(call, len(back)) == back


async def waiting(pair: Pair) -> str:
    """A third party calls the near line; returns the exchange's outcome for it."""
    party = await pair.ex.ring_in(NEAR, caller=THIRD, name="CAROL")
    await settle()
    assert party.outcome is not None
    return party.outcome


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_unsecured_call(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality, location="GB")
    call, incoming = await pair.connect(secure=False)
    assert call.secure_report is None
    outcome = await waiting(pair)
    if DEFAULT_DROPS[personality]:
        assert outcome == "waiting-dropped"
        async with asyncio.timeout(5):
            assert await read_exactly(call, 1) == b""
        assert call.state is CallState.DISCONNECTED
        # Over a pty the modem's NO CARRIER is the only evidence: see test_reasons.
        assert call.disconnect_reason is DisconnectReason.NORMAL
        assert pair.near_fake.call_log[-2].call_waiting == ["dropped"]
    else:
        assert outcome == "waiting-ignored"
        await exchange_data(pair, call, incoming, b"survived")
        await call.drop()


async def test_unsecured_conexant_call_waiting_seen_by_ri(make_pair: PairFactory) -> None:
    # Over RFC 2217 the RI pulse of +PCW=0 is visible: the reason says call waiting.
    pair = await make_pair("conexant-v92", location="GB", rfc2217=True, scale=0.2)
    seen: list[object] = []

    async def watch() -> None:
        async for ev in pair.near.events():
            seen.append(ev)

    watcher = asyncio.create_task(watch())
    call, _ = await pair.connect()
    await pair.ex.ring_in(NEAR, caller=THIRD)
    async with asyncio.timeout(10):
        assert await call.wait_disconnected() is DisconnectReason.CALLWAITING
    watcher.cancel()
    assert any(type(e).__name__ == "CallWaitingSeen" for e in seen)


@pytest.mark.parametrize("personality", PERSONALITIES)
async def test_secured_at_dial_us_cancel_code(make_pair: PairFactory, personality: str) -> None:
    pair = await make_pair(personality, location="US")
    call, incoming = await pair.connect(secure=True)
    report = call.secure_report
    assert report is not None and report.secured
    cancel = report.mechanism("cancel-code")
    assert cancel is not None and cancel.in_force and not cancel.verified
    record = pair.near_fake.call_log[-1]
    assert record.cancel_code and record.dialled.startswith("T*70,")
    assert await waiting(pair) == "busy"          # the exchange suppressed call waiting
    await exchange_data(pair, call, incoming, b"after-cw")
    await call.drop()


@pytest.mark.parametrize(("personality", "mechanism"), [
    ("conexant-v92", "pcw-ignore"),
    ("agere-v92", "pcw-ignore"),
    ("usr-v90", "s10-ride-through"),
])
async def test_secured_at_dial_without_cancel_code(make_pair: PairFactory, personality: str,
                                                   mechanism: str) -> None:
    pair = await make_pair(personality, location="GB")
    call, incoming = await pair.connect(secure=True)
    report = call.secure_report
    assert report is not None and report.secured
    entry = report.mechanism(mechanism)
    assert entry is not None and entry.in_force and entry.verified
    assert not pair.near_fake.call_log[-1].cancel_code
    assert await waiting(pair) == "waiting-ignored"
    await exchange_data(pair, call, incoming, b"rode-through")
    await call.drop()


async def test_hayes_without_cancel_code_fails_closed_before_dialling(
        make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="GB")
    with pytest.raises(OperationUnavailable) as info:
        await pair.near.make_call("5551002", secure=True)
    report = info.value.report
    assert report is not None and not report.secured
    s10 = report.mechanism("s10-ride-through")
    assert s10 is not None and "Conexant" in s10.reason
    assert pair.near_fake.call_log == []            # never went off-hook
    # best-effort dials anyway and says it is not secured
    call, _ = await pair.connect(secure="best-effort")
    assert call.secure_report is not None and not call.secure_report.secured
    await call.drop()


@pytest.mark.parametrize(("personality", "mechanism"), [
    ("conexant-v92", "pcw-ignore"),
    ("agere-v92", "pcw-ignore"),
    ("usr-v90", "s10-ride-through"),
])
@pytest.mark.parametrize("location", ["US", "GB"])
async def test_secured_after_connect(make_pair: PairFactory, personality: str, mechanism: str,
                                     location: str) -> None:
    pair = await make_pair(personality, location=location)
    call, incoming = await pair.connect(secure=False)
    await exchange_data(pair, call, incoming, b"before")
    report = await call.secure()
    assert report.secured and report.when == "connected"
    entry = report.mechanism(mechanism)
    assert entry is not None and entry.in_force and entry.verified
    cancel = report.mechanism("cancel-code")
    assert cancel is not None and not cancel.applied and "never dialled mid-call" in cancel.reason
    assert call.state is CallState.CONNECTED
    # The escape sequence itself reaches the far end as data (Hayes behaviour).
    await exchange_data(pair, call, incoming, b"secured", far_prefix=b"+++")
    assert await waiting(pair) == "waiting-ignored"
    await exchange_data(pair, call, incoming, b"after-cw")
    # Securing again is a no-op that returns the same report.
    assert await call.secure() is report
    await call.drop()


@pytest.mark.parametrize("location", ["US", "GB"])
async def test_hayes_after_connect_is_unavailable(make_pair: PairFactory, location: str) -> None:
    pair = await make_pair("hayes-basic", location=location)
    call, incoming = await pair.connect(secure=False)
    with pytest.raises(OperationUnavailable) as info:
        await call.secure()
    assert info.value.report is not None and not info.value.report.secured
    # Nothing was tried: no escape, the far end saw no '+++', the call is untouched.
    assert call.state is CallState.CONNECTED
    await exchange_data(pair, call, incoming, b"untouched")
    report = await call.secure("best-effort")
    assert not report.secured
    await call.drop()


async def test_hayes_us_secured_at_dial_stays_secured_after_connect(
        make_pair: PairFactory) -> None:
    # Dialled with *70: secure() afterwards has nothing to add and says so by
    # returning the dial-time report rather than failing.
    pair = await make_pair("hayes-basic", location="US")
    call, _ = await pair.connect(secure=True)
    report = await call.secure()
    assert report.secured and report.when == "dial"
    await call.drop()


@pytest.mark.parametrize(("personality", "expect"), [
    ("conexant-v92", {10: 14}),
    ("usr-v90", {10: 7}),
])
async def test_settings_restored_after_the_call(make_pair: PairFactory, personality: str,
                                               expect: dict[int, int]) -> None:
    pair = await make_pair(personality, location="GB")
    before_regs = dict(pair.near_fake.registers)
    before_v92 = dict(pair.near_fake.v92)
    call, _ = await pair.connect(secure=True)
    during = pair.near_fake.registers[10]
    if personality == "usr-v90":
        assert during == 14                        # raised for the call
    else:
        assert pair.near_fake.v92["PCW"] == 2 and pair.near_fake.v92["PMH"] == 1
        assert during < 16                         # never the Conexant US quirk
    await call.drop()
    assert call.restore_failures == ()
    for reg, value in expect.items():
        assert pair.near_fake.registers[reg] == value
    assert dict(pair.near_fake.registers) == before_regs
    assert dict(pair.near_fake.v92) == before_v92


async def test_settings_restored_after_remote_hangup_of_call_secured_mid_call(
        make_pair: PairFactory) -> None:
    pair = await make_pair("conexant-v92", location="GB")
    call, incoming = await pair.connect()
    await call.secure()
    assert pair.near_fake.v92["PCW"] == 2
    await incoming.drop()
    async with asyncio.timeout(5):
        await call.wait_disconnected()
    assert pair.near_fake.v92["PCW"] == 0 and pair.near_fake.v92["PMH"] == 0


async def test_conexant_us_never_raises_s10_to_16(make_pair: PairFactory) -> None:
    # A Conexant under the US country code hangs up on call waiting when
    # S10 >= 16, so securing lowers a dangerous S10 instead of raising it.
    pair = await make_pair("conexant-v92", location="US")
    await pair.near.engine.command("ATS10=20")        # someone left it dangerous
    call, _ = await pair.connect(secure=True)
    assert pair.near_fake.registers[10] < 16
    assert await waiting(pair) == "busy"
    await call.drop()
    assert pair.near_fake.registers[10] == 20         # and it is put back as found


@pytest.mark.parametrize("when", ["dial", "connected"])
async def test_ride_through_on_a_port_with_dcd(make_pair: PairFactory, when: str) -> None:
    # The port has DCD (RFC 2217), and DCD drops during the ~300 ms the modem
    # rides through.  The driver's carrier grace follows S10, so the host does
    # not end the call the modem kept, and &C1 stays: DCD still reports a
    # real carrier loss.
    pair = await make_pair("usr-v90", location="GB", rfc2217=True)
    assert pair.near.caps is not None and pair.near.caps.has_dcd
    call, incoming = await pair.connect(secure=(when == "dial"))
    if when == "connected":
        await call.secure()
        assert await read_exactly(incoming, 3) == b"+++"
    report = call.secure_report
    assert report is not None and report.secured
    s10 = report.mechanism("s10-ride-through")
    assert s10 is not None and s10.in_force
    assert pair.near_fake.dce.settings.amp_c == 1
    assert pair.near.engine.carrier_grace == pytest.approx((14 - 6) / 10 + CARRIER_GRACE_MARGIN)
    assert await waiting(pair) == "waiting-ignored"
    await exchange_data(pair, call, incoming, b"dcd-steady")
    assert call.state is CallState.CONNECTED
    await call.drop()
    assert pair.near_fake.dce.settings.amp_c == 1
    assert pair.near_fake.registers[10] == 7


async def test_concurrent_secure_and_io(make_pair: PairFactory) -> None:
    # Two secure() calls at once while a reader waits: one escape, one report,
    # and the reader is not disturbed by the call being held meanwhile.
    pair = await make_pair("conexant-v92", location="GB")
    call, incoming = await pair.connect()
    reader = asyncio.create_task(read_exactly(call, 5))
    first, second = await asyncio.gather(call.secure(), call.secure())
    assert first is second and first.secured
    await call.write(b"mid")
    assert await read_exactly(incoming, 6) == b"+++mid"
    await incoming.write(b"hello")
    assert await reader == b"hello"
    await call.drop()


async def test_settings_restored_after_a_failed_secured_dial(make_pair: PairFactory) -> None:
    pair = await make_pair("conexant-v92", location="GB")
    before = (dict(pair.near_fake.registers), dict(pair.near_fake.v92))
    await pair.far.engine.command("ATH1")                # busy
    call = await pair.near.make_call("5551002", secure=True)
    assert call.disconnect_reason is DisconnectReason.BUSY
    assert call.restore_failures == ()
    assert (dict(pair.near_fake.registers), dict(pair.near_fake.v92)) == before
