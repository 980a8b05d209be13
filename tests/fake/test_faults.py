"""Faults injected with ``line.inject(kind, **params)``, observed on the pty."""

from __future__ import annotations

import asyncio
import errno
import os
import time
from collections.abc import Callable

import pytest

from modemctl.fake import Exchange, FaultError
from tests.fake.helpers import PtyClient, link_exists
from tests.support import wait_until

SCALE = 0.05
Opener = Callable[[str], PtyClient]


async def line_and_client(ex: Exchange, opener: Opener, personality: str = "conexant-v92"
                          ) -> PtyClient:
    line = await ex.add_line("5551001", personality=personality)
    client = opener(line.port)
    await client.command(b"ATE0\r")
    return client


async def test_garbage(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    exchange.lines["5551001"].inject("garbage", data=b"\x00\xffjunk\r\n")
    assert await c.read_exactly(8) == b"\x00\xffjunk\r\n"
    exchange.lines["5551001"].inject("garbage", count=100)
    assert len(await c.read_exactly(100)) == 100
    assert await c.command(b"AT\r") == b"\r\nOK\r\n"      # the modem itself is fine


async def test_stall(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("stall", duration=4.0)
    c.write(b"ATS0=5\r")                                   # swallowed by the stall
    await wait_until(lambda: exchange.clock.now() >= line.faults.stalled_until, "stall over")
    assert await c.command(b"ATS0?\r") == b"\r\n000\r\n\r\nOK\r\n"   # the only reply


async def test_lose_final(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    exchange.lines["5551001"].inject("lose-final")
    c.write(b"ATI0\r")                                     # info text, but no OK...
    assert await c.command(b"ATI0\r") == b"\r\n56000\r\n" + b"\r\n56000\r\n\r\nOK\r\n"


async def test_lose_final_applies_to_connect(exchange: Exchange, open_client: Opener) -> None:
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await cb.command(b"ATE0S0=1\r")
    await ca.command(b"ATE0\r")
    a.inject("lose-final")
    ca.write(b"ATDT5551002\r")
    await cb.expect(b"CONNECT 33600\r\n")                  # both CONNECTs are written at once
    assert a.state == "online-data"
    cb.write(b"data")
    assert await ca.read_exactly(4) == b"data"              # no CONNECT came before it


async def test_unsolicited_between_info_lines(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("unsolicited")
    assert await c.command(b"ATI0I3\r") == (
        b"\r\n56000\r\n\r\nRING\r\n\r\nMESSAGE-WAITING\r\n"
        b"\r\nCX93001-EIS_V0.2002-V92\r\n\r\nOK\r\n")
    line.inject("unsolicited", lines="MESSAGE-WAITING")
    assert await c.command(b"AT\r") == b"\r\nMESSAGE-WAITING\r\n\r\nOK\r\n"
    assert await c.command(b"AT\r") == b"\r\nOK\r\n"      # one response only


async def test_unsolicited_in_numeric_mode(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    await c.command(b"ATV0\r", b"0\r")
    exchange.lines["5551001"].inject("unsolicited", lines=["RING", "MESSAGE-WAITING"])
    c.write(b"ATI0\r")
    assert await c.expect(b"G\r\n0\r") == b"56000\r\n2\rMESSAGE-WAITING\r\n0\r"


async def test_wedge_until_pty_reopened(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("wedge")
    c.write(b"ATS0=5\r")                                     # ignored while wedged
    c.close()                                                # DTR drop on a pty
    await wait_until(lambda: not line.faults.wedged, "wedge cleared by the DTR drop")
    c2 = open_client(line.port)
    assert await c2.command(b"ATS0?\r") == b"\r\n000\r\n\r\nOK\r\n"   # &D2 keeps E0


async def test_slow(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("slow", delay=0.4)                          # 20 ms a byte at scale 0.05
    start = time.monotonic()
    assert await c.command(b"ATI0\r") == b"\r\n56000\r\n\r\nOK\r\n"
    assert time.monotonic() - start > 13 * 0.4 * SCALE     # 15 bytes: 14 gaps, 0.28 s
    line.inject("slow", delay=0)
    start = time.monotonic()
    await c.command(b"ATI0\r")
    assert time.monotonic() - start < 0.2


async def test_slow_output_discards_call_data_on_hang_up(exchange: Exchange,
                                                         open_client: Opener) -> None:
    """A hang-up of the DTE's discards the call data a slow modem still holds for
    it: ATH's OK comes at once (slowly, byte by byte), not behind the dead call's
    data (here 4 KiB at 5 ms a byte, 20 s), as a real modem's transmit buffer goes
    on ATH or a DTR drop."""
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await ca.command(b"ATE0S12=1\r")                      # guard time 20 ms
    await cb.command(b"ATE0S0=1\r")
    ca.write(b"ATDT5551002\r")
    await ca.expect(b"CONNECT 33600\r\n")
    await cb.expect(b"CONNECT 33600\r\n")
    a.inject("slow", delay=0.1)                            # 5 ms a byte at scale 0.05
    payload = b"x" * 4096
    await cb.write_all(payload)
    await wait_until(lambda: a.backlog() > 2048, "call data held by the slow modem")
    ca.write(b"+++")
    await wait_until(lambda: a.state == "online-command", "the escape")
    ca.write(b"ATH\r")
    got = await ca.expect(b"OK\r\n\r\nOK\r\n", within=3.0)  # the escape's, then ATH's
    assert got.endswith(b"\r\nOK\r\n\r\nOK\r\n")
    assert got.count(b"x") < len(payload) - 2048           # the held data never came
    assert a.state == "command" and a.backlog() == 0


async def test_slow_output_keeps_call_data_on_remote_hang_up(exchange: Exchange,
                                                             open_client: Opener) -> None:
    """When the far end hangs up, the data it sent first still comes, then NO CARRIER."""
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await ca.command(b"ATE0\r")
    await cb.command(b"ATE0S0=1\r")
    ca.write(b"ATDT5551002\r")
    await ca.expect(b"CONNECT 33600\r\n")
    await cb.expect(b"CONNECT 33600\r\n")
    a.inject("slow", delay=0.4)                            # 20 ms a byte at scale 0.05
    payload = bytes(range(97, 97 + 26))
    await cb.write_all(payload)
    await wait_until(lambda: a.backlog() >= len(payload) - 1,
                     "the far end's data held by the slow modem")
    await exchange.remote_hangup("5551002")
    assert await ca.expect(b"NO CARRIER\r\n") == payload + b"\r\nNO CARRIER\r\n"


async def test_reboot_forgets_unsaved_settings_and_drops_call(exchange: Exchange,
                                                              open_client: Opener) -> None:
    a = await exchange.add_line("5551001")
    b = await exchange.add_line("5551002")
    ca, cb = open_client(a.port), open_client(b.port)
    await ca.command(b"ATE0S10=40&WS10=50\r")
    await cb.command(b"ATE0S0=1\r")
    ca.write(b"ATDT5551002\r")
    await ca.expect(b"CONNECT 33600\r\n")
    await cb.expect(b"CONNECT 33600\r\n")
    a.inject("reboot", banner="\r\nREADY\r\n")
    await cb.expect(b"\r\nNO CARRIER\r\n")
    await ca.expect(b"\r\nREADY\r\n")
    assert a.state == "command"
    assert await ca.command(b"ATS10?\r") == b"\r\n040\r\n\r\nOK\r\n"   # stored, not 50


async def test_unplug_and_replug(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    port = line.port
    replugged = asyncio.Event()
    exchange.on_plugging_changed(lambda: None if line.unplugged else replugged.set())
    line.inject("unplug", duration=4.0)
    assert line.state == "unplugged" and not link_exists(port)
    with pytest.raises(OSError) as info:
        for _ in range(100):
            if os.read(c.fd, 100) == b"":
                raise OSError(errno.EIO, "EOF")
    assert info.value.errno == errno.EIO
    party = await exchange.ring_in("5551001")
    assert party.outcome == "no-answer"                      # nothing to ring
    await asyncio.wait_for(replugged.wait(), 5)               # after 4 protocol seconds
    assert link_exists(port) and line.state == "command"
    c2 = open_client(port)
    assert await c2.command(b"AT\r") == b"AT\r\r\nOK\r\n"     # powered up with defaults


async def test_unplug_for_good(exchange: Exchange, open_client: Opener) -> None:
    await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("unplug")
    assert line.state == "unplugged" and not link_exists(line.port)
    line.inject("clear")                                     # not a way back in either
    assert line.state == "unplugged" and not link_exists(line.port)


async def test_clear_removes_standing_faults(exchange: Exchange, open_client: Opener) -> None:
    c = await line_and_client(exchange, open_client)
    line = exchange.lines["5551001"]
    line.inject("wedge")
    line.inject("lose-final", count=3)
    line.inject("clear")
    assert await c.command(b"AT\r") == b"\r\nOK\r\n"


async def test_bad_injections_are_typed_errors(exchange: Exchange) -> None:
    line = await exchange.add_line("5551001")
    with pytest.raises(FaultError, match="unknown fault"):
        line.inject("explode")
    with pytest.raises(FaultError):
        line.inject("stall", duration=-1)
    with pytest.raises(FaultError):
        line.inject("garbage", count=0)
    with pytest.raises(FaultError):
        line.inject("lose-final", count="many")
    with pytest.raises(FaultError):
        line.inject("unsolicited", lines=[1, 2])
