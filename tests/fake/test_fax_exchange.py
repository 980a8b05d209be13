"""Class 1 fax calls through the exchange, over the lines' ptys, and call waiting on them.

Call waiting on a fax call (issue 9 item 8, the fake's side): the tone is a
300 ms interruption of the line.  Class 1 has no S10 ride-through and V.92
+PCW acts only on V.92 connections (firmware-notes/fax-call-waiting.md), so on
an unsecured call what is in flight arrives damaged; a call dialled with the
cancel code is untouched (the third party hears busy).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from modemctl.fake import Exchange
from tests.fake.helpers import PtyClient
from tests.support import wait_until

SCALE = 0.2
"""Slow enough that "during the frame" (0.7 protocol s) is 140 ms of real time."""
OK, ERROR, CONNECT = b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\nCONNECT\r\n"
DLE_ETX = b"\x10\x03"
CSI = b"\xff\x13\x40" + b"\x10 5551002".ljust(20, b" ")     # final frame, a DLE inside


def stuffed(frame: bytes) -> bytes:
    return frame.replace(b"\x10", b"\x10\x10") + DLE_ETX


async def fax_call(ex: Exchange, open_client: Callable[[str], PtyClient], dial: bytes
                   ) -> tuple[PtyClient, PtyClient]:
    """Lines 5551001 (caller) and 5551002 (answerer) in a Class 1 call, both at CONNECT."""
    a_line = await ex.add_line("5551001", "conexant-v92")
    b_line = await ex.add_line("5551002", "agere-v92")
    a, b = open_client(a_line.port), open_client(b_line.port)
    for client in (a, b):
        await client.command(b"ATE0\r")
        await client.command(b"AT+FCLASS=1\r")
    a.write(b"ATD" + dial + b"\r")
    await b.expect(b"RING", within=10)
    b.write(b"ATA\r")
    await b.expect(CONNECT, within=10)             # CED sent, now in +FTH=3
    await a.expect(CONNECT, within=10)             # V.21 flags heard (implied +FRH=3)
    assert a_line.state == "fax" and b_line.state == "fax"
    assert a_line.call_log[-1].outcome == "connected"
    return a, b


@pytest.fixture
async def exchange_02() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


async def test_a_frame_crosses_the_exchange_with_dle_transparency(
        exchange_02: Exchange, open_client: Callable[[str], PtyClient]) -> None:
    a, b = await fax_call(exchange_02, open_client, b"5551002")
    b.write(stuffed(CSI))
    assert await b.expect(OK, within=10) == OK
    assert await a.expect(OK, within=10) == stuffed(CSI) + OK


@pytest.mark.parametrize(("dial", "reply", "outcome", "cw"), [
    (b"5551002", ERROR, "waiting-ignored", ["damaged"]),      # frame in flight: bad FCS
    (b"*70,5551002", OK, "busy", ["suppressed"]),             # secured: untouched
])
async def test_call_waiting_damages_the_frame_in_flight_unless_secured(
        exchange_02: Exchange, open_client: Callable[[str], PtyClient], dial: bytes,
        reply: bytes, outcome: str, cw: list[str]) -> None:
    ex = exchange_02
    a, b = await fax_call(ex, open_client, dial)
    b.write(stuffed(CSI))
    # the frame starts after 1 s of flags and takes 0.69 s; the tone lasts 0.3 s
    await ex.clock.sleep(1.0)
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == outcome
    assert await b.expect(OK, within=10) == OK                 # the sender never knows
    assert await a.expect(reply, within=10) == stuffed(CSI) + reply
    assert ex.lines["5551001"].call_log[-2].call_waiting == cw
    await wait_until(lambda: ex.lines["5551001"].state == "fax", "call still up")


async def test_a_carrier_interruption_on_a_fax_call_damages_the_frame_not_the_call(
        exchange_02: Exchange, open_client: Callable[[str], PtyClient]) -> None:
    ex = exchange_02
    a, b = await fax_call(ex, open_client, b"5551002")
    b.write(stuffed(CSI))
    await ex.clock.sleep(1.0)
    assert await ex.carrier_loss("5551001", duration=0.3) is True     # no S10 in Class 1
    assert await a.expect(ERROR, within=10) == stuffed(CSI) + ERROR
    assert ex.lines["5551001"].state == "fax"


async def test_a_data_caller_reaching_a_fax_answer_gets_no_modem(
        exchange_02: Exchange, open_client: Callable[[str], PtyClient]) -> None:
    ex = exchange_02
    line = await ex.add_line("5551002", "usr-v90")
    b = open_client(line.port)
    await b.command(b"ATE0\r")
    await b.command(b"AT+FCLASS=1\r")
    party = await ex.ring_in("5551002", caller="5559999")
    await b.expect(b"RING\r\n", within=10)
    b.write(b"ATA\r")
    assert await b.expect(CONNECT, within=10) == CONNECT     # CED sent, now in +FTH=3
    assert await asyncio.wait_for(party.answered(), 5) is False
    assert party.outcome == "no-answer"
    assert line.state == "fax"
