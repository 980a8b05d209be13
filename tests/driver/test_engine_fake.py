"""The engine against the independent fake exchange: calls and every injectable fault."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from modemctl.at import CarrierLost, ResultCode, Unsolicited, UnsolicitedKind
from modemctl.driver import Engine, EngineMode
from modemctl.errors import CommandTimeout, ModemUnresponsive, PortClosed
from modemctl.fake import Exchange
from tests.driver.conftest import wait_until
from tests.support import read_exactly

SCALE = 0.05


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


async def open_engine(ex: Exchange, number: str = "5551001", *, rfc2217: bool = False,
                      personality: str = "conexant-v92") -> Engine:
    line = await ex.add_line(number, personality=personality, rfc2217=rfc2217)
    url = line.url if rfc2217 else line.port
    assert url is not None
    return await Engine.open(url, time_scale=SCALE)


async def wait_for_kind(sub: object, kind: UnsolicitedKind) -> Unsolicited:
    async with asyncio.timeout(3.0):
        while True:
            ev = await sub.get()  # type: ignore[attr-defined]
            if isinstance(ev, Unsolicited) and ev.kind is kind:
                return ev


@pytest.mark.parametrize("personality", ["conexant-v92", "agere-v92", "usr-v90",
                                         "hayes-basic"])
async def test_identify_on_every_personality(exchange: Exchange, personality: str) -> None:
    engine = await open_engine(exchange, personality=personality)
    try:
        assert (await engine.command("AT")).ok
        r = await engine.command("ATI0")
        assert r.ok and r.info
        assert (await engine.command("ATE0")).ok
        assert (await engine.command("ATI3")).info
        assert (await engine.command("ATV0")).numeric
        r = await engine.command("ATS0?")
        assert r.numeric and r.info
        assert (await engine.command("ATV1")).ok
    finally:
        await engine.close()


@pytest.mark.parametrize("rfc2217", [False, True])
async def test_call_between_two_engines(exchange: Exchange, rfc2217: bool) -> None:
    a = await open_engine(exchange, "5551001", rfc2217=rfc2217)
    b = await open_engine(exchange, "5551002", rfc2217=rfc2217)
    try:
        async with b.events() as sub:
            dial = asyncio.create_task(a.originate("ATDT5551002"))
            await wait_for_kind(sub, UnsolicitedKind.RING)
            answer = await b.originate("ATA")
        connect = await dial
        assert connect.final is ResultCode.CONNECT and answer.final is ResultCode.CONNECT
        assert a.mode is EngineMode.DATA and b.mode is EngineMode.DATA
        await a.write(b"hello from a\r\n")
        got = b""
        async with asyncio.timeout(3):
            while not got.endswith(b"\r\n"):
                got += await b.read(100)
        assert got == b"hello from a\r\n"
        if rfc2217:
            assert a.lines.cd is True
        await a.escape()
        assert a.mode is EngineMode.ONLINE_COMMAND
        assert (await a.command("ATS10?")).info
        assert (await a.resume()).final is ResultCode.CONNECT
        async with b.events() as sub:
            await a.hangup()
            assert a.mode is EngineMode.COMMAND
            async with asyncio.timeout(3):
                while not isinstance(await sub.get(), CarrierLost):
                    pass
        # The escape characters travel to the far end as data (as on real modems).
        rest = b""
        async with asyncio.timeout(3):
            while chunk := await b.read(10):
                rest += chunk
        assert set(rest) <= {ord("+")}
        assert b.mode is EngineMode.COMMAND
    finally:
        await a.close()
        await b.close()


async def test_busy_and_no_dialtone_are_responses(exchange: Exchange) -> None:
    a = await open_engine(exchange, "5551001")
    b = await open_engine(exchange, "5551002")
    try:
        assert (await b.command("ATH1")).ok                 # off-hook: busy
        r = await a.originate("ATDT5551002")
        assert r.final is ResultCode.BUSY
        exchange.set_line_dead("5551001", True)
        r = await a.originate("ATDT5551002")
        assert r.final in (ResultCode.NO_DIALTONE, ResultCode.NO_CARRIER)
    finally:
        await a.close()
        await b.close()


# --- faults -----------------------------------------------------------------

async def test_fault_garbage(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("garbage", count=200)
        assert (await engine.command("ATI0")).ok
        exchange.lines["5551001"].inject("garbage", data=b"\r\nOK\r\n")   # a stray final
        r = await engine.command("ATI3")
        assert r.ok and r.info
    finally:
        await engine.close()


async def test_fault_unsolicited_never_in_response(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        clean = (await engine.command("ATI3")).info
        exchange.lines["5551001"].inject("unsolicited",
                                         lines=["RING", "MESSAGE-WAITING", "NMBR = 5559999"])
        async with engine.events() as sub:
            r = await engine.command("ATI3")
            assert r.info == clean
            await wait_for_kind(sub, UnsolicitedKind.CALLER_ID)
    finally:
        await engine.close()


async def test_fault_lose_final_times_out_once(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("lose-final")
        with pytest.raises(CommandTimeout):
            await engine.command("AT")
        # The engine's format command after the silence was answered: alive.
        assert engine.consecutive_timeouts == 0
        assert (await engine.command("AT")).ok
        assert engine.consecutive_timeouts == 0
        assert engine.recoveries == []
    finally:
        await engine.close()


async def test_fault_stall_climbs_to_resync(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("stall", duration=12.0)     # 0.6 s real
        for _ in range(2):
            with pytest.raises(CommandTimeout):
                await engine.command("AT", timeout=2.0)
        assert engine.recoveries, "second timeout must climb the ladder"
        steps = engine.recoveries[-1]
        assert steps[-1].succeeded
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()


async def test_fault_wedge_cleared_by_dtr_drop_on_rfc2217(exchange: Exchange) -> None:
    engine = await open_engine(exchange, rfc2217=True)
    try:
        exchange.lines["5551001"].inject("wedge")
        for _ in range(2):
            with pytest.raises(CommandTimeout):
                await engine.command("AT")
        actions = [s.action for s in engine.recoveries[-1]]
        assert actions[-1] == "dtr-drop" and engine.recoveries[-1][-1].succeeded
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()


async def test_fault_wedge_on_pty_needs_reopen(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("wedge")
        for _ in range(2):
            with pytest.raises(CommandTimeout):
                await engine.command("AT")
        steps = engine.recoveries[-1]
        assert [s.action for s in steps] == ["resync", "escape", "dtr-drop", "reset", "reopen"]
        assert not steps[2].succeeded and "DTR" in steps[2].detail
        assert steps[-1].succeeded
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()


async def test_fault_unplug_with_replug_recovers(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("unplug", duration=2.0)     # back after 0.1 s
        with pytest.raises((PortClosed, CommandTimeout)):
            async with asyncio.timeout(10):
                for _ in range(100_000):             # until the unplugged port fails it
                    await engine.command("AT")
        assert engine.recoveries and engine.recoveries[-1][-1].action == "reopen"
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()


async def test_fault_unplug_for_good_is_modem_unresponsive(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("unplug")
        with pytest.raises(ModemUnresponsive) as exc:
            async with asyncio.timeout(10):
                for _ in range(100_000):             # until the unplugged port fails it
                    await engine.command("AT")
        assert [s.action for s in exc.value.attempts] == [
            "resync", "escape", "dtr-drop", "reset", "reopen"]
        assert not any(s.succeeded for s in exc.value.attempts)
    finally:
        await engine.close()
    assert engine.mode is EngineMode.CLOSED


async def test_fault_reboot_mid_call(exchange: Exchange) -> None:
    a = await open_engine(exchange, "5551001")
    b = await open_engine(exchange, "5551002")
    try:
        async with b.events() as sub:
            dial = asyncio.create_task(a.originate("ATDT5551002"))
            await wait_for_kind(sub, UnsolicitedKind.RING)
            await b.originate("ATA")
        await dial
        exchange.lines["5551001"].inject("reboot", banner="\r\nREADY\r\n")
        # The rebooted modem is back in command mode and ignores +++ (no DCD on
        # a pty to tell); hangup() climbs the ladder, which finds it answering.
        with pytest.raises(CommandTimeout):
            await a.escape()
        assert a.mode is EngineMode.DATA
        await a.hangup()
        assert a.mode is EngineMode.COMMAND
        assert a.recoveries and a.recoveries[-1][-1].succeeded
        assert (await a.command("AT")).ok
    finally:
        await a.close()
        await b.close()


async def test_fault_slow_output(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    try:
        exchange.lines["5551001"].inject("slow", delay=0.1)    # 5 ms real per byte
        r = await engine.command("ATI3", timeout=20.0)
        assert r.ok and r.info
        exchange.lines["5551001"].inject("slow", delay=0)
    finally:
        await engine.close()


@pytest.mark.parametrize("rfc2217", [False, True])
async def test_incoming_call_with_caller_id_then_remote_hangup(exchange: Exchange,
                                                               rfc2217: bool) -> None:
    engine = await open_engine(exchange, rfc2217=rfc2217)
    try:
        assert (await engine.command("AT+VCID=1")).ok
        async with engine.events() as sub:
            party = await exchange.ring_in("5551001", caller="5559999", name="ALICE")
            cid: dict[str, str] = {}
            async with asyncio.timeout(5):
                while "NMBR" not in cid or "NAME" not in cid:
                    ev = await sub.get()
                    if isinstance(ev, Unsolicited) and ev.kind is UnsolicitedKind.CALLER_ID:
                        cid[ev.fields["field"]] = ev.fields["value"]
            assert cid["NMBR"] == "5559999" and cid["NAME"] == "ALICE"
            r = await engine.originate("ATA")
            assert r.final is ResultCode.CONNECT
            assert await party.answered()
            party.write(b"hello caller\r\n")
            assert await read_exactly(engine, 14, within=3) == b"hello caller\r\n"
            await party.hangup()
            async with asyncio.timeout(3):
                assert await engine.read(100) == b""
                while not isinstance(ev := await sub.get(), CarrierLost):
                    pass
        assert engine.mode is EngineMode.COMMAND
        assert ev.source in ("result-code", "dcd")
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()


async def test_asyncio_backend_against_fake(exchange: Exchange) -> None:
    line = await exchange.add_line("5551001", personality="agere-v92")
    engine = await Engine.open(line.port, time_scale=SCALE, backend="asyncio")
    try:
        assert (await engine.command("ATI3")).info
        exchange.lines["5551001"].inject("unsolicited", lines=["RING"])
        assert (await engine.command("ATI3")).ok
    finally:
        await engine.close()


async def test_ring_indicator_line_on_rfc2217(exchange: Exchange) -> None:
    from modemctl.at import RingIndicator

    engine = await open_engine(exchange, rfc2217=True)
    try:
        assert engine.lines.ri is False
        async with engine.events() as sub:
            party = await exchange.ring_in("5551001", caller="5559999")
            seen: set[type] = set()
            async with asyncio.timeout(5):
                while not {RingIndicator, Unsolicited} <= seen:
                    seen.add(type(await sub.get()))
            await party.hangup()
    finally:
        await engine.close()


async def test_late_answer_of_timed_out_command_does_not_skew(exchange: Exchange) -> None:
    engine = await open_engine(exchange)
    line = exchange.lines["5551001"]
    try:
        assert (await engine.command("AT")).ok              # the engine learns: echo on
        clean = (await engine.command("ATI3")).info
        line.inject("slow", delay=0.3)                      # 15 ms real per byte
        with pytest.raises(CommandTimeout):
            await engine.command("ATI3", timeout=1.0)       # 0.25 s real: too short
        line.inject("slow", delay=0)                        # the rest arrives late
        r = await engine.command("AT")
        assert r.command == "AT" and r.info == ()
        assert (await engine.command("ATI3")).info == clean
    finally:
        await engine.close()


@pytest.mark.parametrize("amp_d", ["&D2", "&D0"])
async def test_hangup_by_dtr_or_escape_on_rfc2217(exchange: Exchange, amp_d: str) -> None:
    """&D2: DTR drop hangs up (DCD falls).  &D0: the modem ignores DTR, DCD stays
    up, so the engine escapes and sends ATH instead."""
    a = await open_engine(exchange, "5551001", rfc2217=True)
    b = await open_engine(exchange, "5551002")
    try:
        assert (await a.command(f"AT{amp_d}&C1")).ok
        async with b.events() as sub:
            dial = asyncio.create_task(a.originate("ATDT5551002"))
            await wait_for_kind(sub, UnsolicitedKind.RING)
            await b.originate("ATA")
        await dial
        await wait_until(lambda: a.lines.cd is True)     # DCD is polled, not notified
        async with a.events() as own:
            await a.hangup()
            assert a.mode is EngineMode.COMMAND
            seen = [await own.get(0.1) for _ in range(own.pending())]
        # Our own hang-up is not reported as a carrier loss.
        assert not any(isinstance(e, CarrierLost) and e.source == "dcd" for e in seen)
        far = b""
        async with asyncio.timeout(3):
            while chunk := await b.read(100):
                far += chunk
        # Only the escape path sends +++ (which travels to the far end as data).
        assert (b"+++" in far) == (amp_d == "&D0")
        assert (await a.command("AT")).ok
    finally:
        await a.close()
        await b.close()


async def _connected_pair_with_dcd(ex: Exchange, s10: int) -> tuple[Engine, Engine]:
    a = await open_engine(ex, "5551001", rfc2217=True, personality="usr-v90")
    b = await open_engine(ex, "5551002", rfc2217=True, personality="usr-v90")
    for e in (a, b):
        assert (await e.command(f"ATS10={s10}")).ok
    async with b.events() as sub:
        dial = asyncio.create_task(a.originate("ATDT5551002"))
        await wait_for_kind(sub, UnsolicitedKind.RING)
        await b.originate("ATA")
    assert (await dial).final is ResultCode.CONNECT
    await wait_until(lambda: a.lines.cd is True)    # RFC 2217 reports DCD a moment later
    await wait_until(lambda: a.trust.dcd is True)   # ... and the watch sees DCD works
    return a, b


@pytest.mark.parametrize(("grace", "survives"), [(20.0, True), (None, True), (0.0, False)])
async def test_dcd_interruption_within_the_grace_keeps_the_call(
        exchange: Exchange, grace: float | None, survives: bool) -> None:
    """A modem riding out a carrier interruption (S10=200: 19.4 s) drops DCD
    meanwhile; the host must not end the call the modem keeps."""
    a, b = await _connected_pair_with_dcd(exchange, s10=200)
    try:
        a.carrier_grace = b.carrier_grace = grace
        async with a.events() as sub:
            assert await exchange.carrier_loss("5551001", duration=10.0)
            if not survives:
                async with asyncio.timeout(3):
                    while not isinstance(ev := await sub.get(), CarrierLost):
                        pass
                assert ev.source == "dcd" and a.mode is EngineMode.COMMAND
                return
            # DCD low for 0.5 s, then back: once it is back no poll can end the call.
            await wait_until(lambda: a.lines.cd is False)
            await wait_until(lambda: a.lines.cd is True)
            seen = [await sub.get(1.0) for _ in range(sub.pending())]
        assert not any(isinstance(ev, CarrierLost) for ev in seen)
        assert a.mode is EngineMode.DATA
        await b.write(b"still here")
        async with asyncio.timeout(3):
            assert await a.read(100) == b"still here"
    finally:
        await a.close()
        await b.close()


async def test_no_carrier_after_dcd_fell_is_a_lost_carrier(exchange: Exchange) -> None:
    """The modem gives up after S10 - S9 (5.4 s) and says NO CARRIER; DCD had
    fallen first, so the loss is credited to the carrier, not a clear-down."""
    a, b = await _connected_pair_with_dcd(exchange, s10=60)
    try:
        a.carrier_grace = b.carrier_grace = None    # only the modems decide
        async with a.events() as sub:
            assert not await exchange.carrier_loss("5551001", duration=60.0)
            async with asyncio.timeout(3):
                while not isinstance(ev := await sub.get(), CarrierLost):
                    pass
        assert ev.source == "dcd" and a.mode is EngineMode.COMMAND
    finally:
        await a.close()
        await b.close()
