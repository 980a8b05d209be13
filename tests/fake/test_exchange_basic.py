"""Exchange outcomes over real ptys: connect, data, busy, no answer, no dial tone, hang-ups."""

from __future__ import annotations

from collections.abc import Callable

from modemctl.fake import Exchange
from tests.fake.helpers import PtyClient

Opener = Callable[[str], PtyClient]


async def connect_pair(ex: Exchange, opener: Opener, pa: str = "conexant-v92",
                       pb: str = "agere-v92") -> tuple[PtyClient, PtyClient]:
    a = await ex.add_line("5551001", personality=pa)
    b = await ex.add_line("5551002", personality=pb)
    ca, cb = opener(a.port), opener(b.port)
    await ca.command(b"ATE0\r")
    await cb.command(b"ATE0\r")
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
    every = bytes(range(256)) * 4
    ca.write(every)
    assert await cb.read_exactly(len(every)) == every
    cb.write(every[::-1])
    assert await ca.read_exactly(len(every)) == every[::-1]
    line_a = exchange.lines["5551001"]
    assert line_a.state == "online-data"
    assert line_a.call_log[-1].outcome == "connected"
    assert line_a.call_log[-1].rate == 33600
