"""Exchange outcomes over real ptys: connect, data, busy, no answer, no dial tone, hang-ups."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import pytest

from modemctl.fake import (
    Exchange,
    ExchangeError,
    LineExists,
    NoCall,
    PersonalityError,
    UnknownLine,
)
from modemctl.fake.exchange import FLOW_HIGH
from tests.fake.helpers import PtyClient, link_exists, until

Opener = Callable[[str], PtyClient]


async def connect_pair(ex: Exchange, opener: Opener, pa: str = "conexant-v92",
                       pb: str = "agere-v92", setup: bytes = b"ATE0\r"
                       ) -> tuple[PtyClient, PtyClient]:
    """Line A dials B, B answers; ``setup`` goes to both first (``ATE0S12=0\r`` for tests
    that escape: with no guard time ``+++`` needs no wait)."""
    a = await ex.add_line("5551001", personality=pa)
    b = await ex.add_line("5551002", personality=pb)
    ca, cb = opener(a.port), opener(b.port)
    await ca.command(setup)
    await cb.command(setup)
    ca.write(b"ATDT5551002\r")
    await cb.expect(b"\r\nRING\r\n")
    cb.write(b"ATA\r")
    await cb.expect(b"\r\nCONNECT ")
    await ca.expect(b"\r\nCONNECT ")
    return ca, cb


async def test_dial_connect_and_data_both_ways(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    assert await ca.expect(b"\r\n") == b"33600\r\n"
    assert await cb.expect(b"\r\n") == b"33600\r\n"
    every = bytes(range(256)) * 64                    # all byte values, 16 KiB
    writer = asyncio.create_task(ca.write_all(every))
    assert await cb.read_exactly(len(every)) == every
    await writer
    back = every[::-1]
    writer = asyncio.create_task(cb.write_all(back))
    assert await ca.read_exactly(len(back)) == back
    await writer
    line_a = exchange.lines["5551001"]
    assert line_a.state == "online-data"
    assert line_a.call_log[-1].outcome == "connected"
    assert line_a.call_log[-1].rate == 33600


async def test_busy_when_callee_off_hook(exchange: Exchange, open_client: Opener) -> None:
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await cb.command(b"ATH1\r")
    await ca.command(b"ATE0\r")
    ca.write(b"ATDT5551002\r")
    await ca.expect(b"\r\nBUSY\r\n")
    assert a.call_log[-1].outcome == "busy"


@pytest.mark.parametrize(("modifier", "text"), [(b"@", b"NO ANSWER"), (b"", b"NO CARRIER")])
async def test_no_answer_after_s7(exchange: Exchange, open_client: Opener, modifier: bytes,
                                  text: bytes) -> None:
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await ca.command(b"ATE0S7=8\r")
    ca.write(b"ATDT5551002" + modifier + b"\r")
    await cb.expect(b"RING")
    await ca.expect(b"\r\n" + text + b"\r\n")
    assert b.state == "command"                       # stopped ringing (before the result)
    assert b.call_log[-1].outcome == "unanswered"
    assert b.registers[1] >= 1                        # the rings were counted...
    await until(lambda: b.registers[1] == 0, "S1 cleared 8 s after the last ring")


@pytest.mark.parametrize(("personality", "text"), [("conexant-v92", b"NO DIALTONE"),
                                                   ("agere-v92", b"NO DIAL TONE")])
async def test_dead_line_has_no_dial_tone(exchange: Exchange, open_client: Opener,
                                          personality: str, text: bytes) -> None:
    a = await exchange.add_line("5551001", personality=personality)
    ca = open_client(a.port)
    exchange.set_line_dead("5551001", True)
    assert await ca.command(b"ATDT5551002\r", text + b"\r\n") == \
        b"ATDT5551002\r\r\n" + text + b"\r\n"
    exchange.set_line_dead("5551001", False)
    await ca.command(b"ATE0S7=2DT5551002\r", b"NO CARRIER\r\n")   # unknown number: S7


async def test_remote_hangup_and_party_hangup(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    await exchange.remote_hangup("5551001")
    await ca.expect(b"\r\nNO CARRIER\r\n")
    await cb.expect(b"\r\nNO CARRIER\r\n")
    assert exchange.lines["5551001"].call_log[-1].ended_by == "remote"
    with pytest.raises(NoCall):
        await exchange.remote_hangup("5551001")


async def test_local_hangup_gives_far_end_no_carrier(exchange: Exchange,
                                                     open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client, setup=b"ATE0S12=0\r")
    ca.write(b"+++")
    await ca.expect(b"\r\nOK\r\n")
    await ca.command(b"ATH\r")
    await cb.expect(b"+++\r\nNO CARRIER\r\n")
    log_a, log_b = exchange.lines["5551001"].call_log, exchange.lines["5551002"].call_log
    assert (log_a[-1].ended_by, log_b[-1].ended_by) == ("local", "remote")


async def test_carrier_loss_rule(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)        # S10-S9: 0.8 s and 1.4 s
    await ca.expect(b"\r\n")
    assert await exchange.carrier_loss("5551001", duration=0.5) is True
    a = exchange.lines["5551001"]
    await until(lambda: a.dce.carrier, "carrier back after 0.5 s")
    cb.write(b"ok")
    assert await ca.read_exactly(2) == b"ok"          # data first: no NO CARRIER came
    assert await exchange.carrier_loss("5551001", duration=1.0) is False   # Conexant drops
    await ca.expect(b"\r\nNO CARRIER\r\n")
    await cb.expect(b"\r\nNO CARRIER\r\n")
    assert exchange.lines["5551001"].call_log[-1].ended_by == "carrier"


async def test_permanent_carrier_loss(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    assert await exchange.carrier_loss("5551002") is False
    await ca.expect(b"\r\nNO CARRIER\r\n")
    await cb.expect(b"\r\nNO CARRIER\r\n")


async def test_dtr_drop_by_closing_pty_hangs_up(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    ca.close()                                                 # &D2: hang up
    await cb.expect(b"\r\nNO CARRIER\r\n")
    assert exchange.lines["5551001"].state == "command"


async def test_ring_cadence_caller_id_and_auto_answer(exchange: Exchange,
                                                      open_client: Opener) -> None:
    b = await exchange.add_line("5551002", personality="agere-v92")
    cb = open_client(b.port)
    await cb.command(b"ATE0+VCID=1;S0=2\r")
    party = await exchange.ring_in("5551002", caller="5559999", name="ALICE")
    t0 = time.monotonic()
    await cb.expect(b"\r\nRING\r\n")
    cid = await cb.expect(b"\r\nRING\r\n")
    t1 = time.monotonic()
    assert re.fullmatch(rb"\r\nDATE = \d{4}\r\nTIME = \d{4}\r\nNMBR = 5559999\r\n"
                        rb"NAME = ALICE\r\n\r\nRING\r\n", cid), cid
    assert 5.5 * 0.05 < t1 - t0 < 12 * 0.05              # 2 s on + 4 s off (slack for load)
    assert await party.answered()                         # S0=2: answered on the 2nd ring
    await cb.expect(b"\r\nCONNECT 33600\r\n")
    party.write(bytes(range(256)))
    assert await cb.read_exactly(256) == bytes(range(256))
    cb.write(b"reply")
    assert await asyncio.wait_for(party.read(5), 2) == b"reply"
    await party.hangup()
    await cb.expect(b"\r\nNO CARRIER\r\n")
    assert await asyncio.wait_for(party.read(5), 2) == b""


async def test_answer_with_ata_and_party_gives_up(exchange: Exchange,
                                                  open_client: Opener) -> None:
    b = await exchange.add_line("5551002", personality="usr-v90")
    cb = open_client(b.port)
    await cb.command(b"ATE0\r")
    party = await exchange.ring_in("5551002", caller="5559999", max_rings=2)
    await cb.expect(b"RING\r\n")
    await cb.expect(b"RING\r\n")
    assert not await asyncio.wait_for(party.answered(), 2)
    assert party.outcome == "no-answer"
    party2 = await exchange.ring_in("5551002", caller="5559999")
    await cb.expect(b"RING\r\n")
    cb.write(b"ATA\r")
    await cb.expect(b"\r\nCONNECT 33600\r\n")
    assert await party2.answered() and party2.rate == 33600


async def test_connect_rate_is_the_lower_of_both(exchange: Exchange, open_client: Opener) -> None:
    ca, _cb = await connect_pair(exchange, open_client, pb="hayes-basic")
    assert await ca.expect(b"\r\n") == b"14400\r\n"


async def test_throttled_rate_matches_connect_rate(open_client: Opener) -> None:
    scale = 0.05
    async with Exchange(time_scale=scale, throttle=True) as ex:
        ca, cb = await connect_pair(ex, open_client)
        await ca.expect(b"\r\n")
        await cb.expect(b"\r\n")
        size = 3360 * 6                                  # 6 protocol seconds at 33600
        start = time.monotonic()
        writer = asyncio.create_task(ca.write_all(bytes(size)))
        await cb.read_exactly(size, within=10)
        await writer
        protocol_seconds = (time.monotonic() - start) / scale
        assert 3360 * 0.9 < size / protocol_seconds < 3360 * 1.05


async def test_remove_line_ends_call_and_removes_device(exchange: Exchange,
                                                        open_client: Opener) -> None:
    _ca, cb = await connect_pair(exchange, open_client)
    port = exchange.lines["5551001"].port
    await exchange.remove_line("5551001")
    await cb.expect(b"\r\nNO CARRIER\r\n")
    assert "5551001" not in exchange.lines and not link_exists(port)


async def test_line_management_errors(exchange: Exchange) -> None:
    await exchange.add_line("5551001")
    with pytest.raises(LineExists):
        await exchange.add_line("5551001")
    with pytest.raises(ValueError, match="line number"):
        await exchange.add_line("555 1001")
    with pytest.raises(PersonalityError, match="unknown personality"):
        await exchange.add_line("5551009", personality="nokia-9000")
    with pytest.raises(UnknownLine):
        await exchange.ring_in("5550000")
    with pytest.raises(NoCall):
        await exchange.carrier_loss("5551001")


async def test_exchange_outside_context_is_an_error() -> None:
    ex = Exchange(time_scale=0.05)
    with pytest.raises(ExchangeError, match="not started"):
        await ex.add_line("5551001")
    with pytest.raises(ValueError, match="time_scale"):
        Exchange(time_scale=0)


async def test_pmhr_reports_far_end_moh_timeout(exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client,          # conexant calls agere
                                setup=b"ATE0S12=0\r")
    await ca.expect(b"\r\n")
    await cb.expect(b"\r\n")
    for c in (ca, cb):
        c.write(b"+++")
        await c.expect(b"\r\nOK\r\n")
    await cb.command(b"AT+PMHT=5\r")
    assert await ca.command(b"AT+PMHR\r") == b"\r\n+PMHR: 5\r\n\r\nOK\r\n"
    assert await cb.command(b"AT+PMHR\r", b"ERROR\r\n") == b"\r\nERROR\r\n"  # agere +PMH=1


async def test_dialling_out_while_ringing_takes_the_line(exchange: Exchange,
                                                         open_client: Opener) -> None:
    b = await exchange.add_line("5551002")
    await exchange.add_line("5551003")
    cb = open_client(b.port)
    await cb.command(b"ATE0S7=3\r")
    party = await exchange.ring_in("5551002", caller="5559999")
    await cb.expect(b"RING\r\n")
    cb.write(b"ATDT5551003\r")
    assert not await asyncio.wait_for(party.answered(), 2)
    assert party.outcome == "no-answer"
    await cb.expect(b"NO CARRIER\r\n")                          # 5551003 never answers


async def test_unplug_while_ringing_ends_the_offer(exchange: Exchange) -> None:
    await exchange.add_line("5551002")
    party = await exchange.ring_in("5551002", caller="5559999")
    exchange.lines["5551002"].inject("unplug")
    assert not await asyncio.wait_for(party.answered(), 2)


async def test_line_going_dead_mid_call_loses_carrier(exchange: Exchange,
                                                      open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    exchange.set_line_dead("5551002", True)
    await ca.expect(b"\r\nNO CARRIER\r\n")
    await cb.expect(b"\r\nNO CARRIER\r\n")
    party = await exchange.ring_in("5551002")
    assert party.outcome == "no-answer"                   # a dead line cannot ring


async def test_flow_control_bounds_buffering_without_losing_data(
        exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client)
    await ca.expect(b"\r\n")
    await cb.expect(b"\r\n")
    payload = bytes(range(256)) * 4096                   # 1 MiB, far above the buffers
    writer = asyncio.create_task(ca.write_all(payload, within=30))
    a = exchange.lines["5551001"]                        # B's DTE is not reading...
    await until(lambda: a.input_paused, "A held back by flow control")
    assert not writer.done()                              # ...so A's writes are held back
    assert exchange.lines["5551002"].backlog() <= FLOW_HIGH + 65536
    assert await cb.read_exactly(len(payload), within=30) == payload
    await writer


async def test_data_sent_during_online_command_arrives_after_ato(
        exchange: Exchange, open_client: Opener) -> None:
    ca, cb = await connect_pair(exchange, open_client, setup=b"ATE0S12=0\r")
    await ca.expect(b"\r\n")
    await cb.expect(b"\r\n")
    ca.write(b"+++")
    await ca.expect(b"\r\nOK\r\n")
    payload = bytes(range(256)) * 2048                   # 512 KiB while A is in command mode
    writer = asyncio.create_task(cb.write_all(payload, within=30))
    b = exchange.lines["5551002"]                        # A holds the far end's data...
    await until(lambda: b.input_paused, "B held back while A is in command mode")
    assert await ca.command(b"ATI0\r") == b"\r\n56000\r\n\r\nOK\r\n"
    ca.write(b"ATO\r")
    await ca.expect(b"\r\nCONNECT 33600\r\n")
    assert await ca.read_exactly(len(payload), within=30) == payload
    await writer


async def test_throttled_call_holds_back_a_fast_sender(open_client: Opener) -> None:
    # The pacer delivers at the connect rate; what it has not sent yet counts
    # as in flight, so a DTE writing faster is held back (like CTS) instead of
    # piling the surplus up in the exchange's memory.
    async with Exchange(time_scale=0.05, throttle=True) as ex:
        ca, cb = await connect_pair(ex, open_client)
        await ca.expect(b"\r\n")
        await cb.expect(b"\r\n")
        reader = asyncio.create_task(cb.read_exactly(1 << 20, within=60))
        writer = asyncio.create_task(ca.write_all(bytes(1 << 20), within=60))
        a = ex.lines["5551001"]         # ~67 KiB/s real delivered: the pacer falls behind
        await until(lambda: a.input_paused, "A held back by the pacer's backlog")
        assert not writer.done()
        assert ex.lines["5551001"].backlog() <= FLOW_HIGH + 65536
        for task in (writer, reader):
            task.cancel()
        await asyncio.gather(writer, reader, return_exceptions=True)
