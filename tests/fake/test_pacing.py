"""Pacing call data at the connect rate on one shared tick, on a manual clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from modemctl.fake import Exchange
from modemctl.fake.clock import ManualClock
from modemctl.fake.pacing import Pacer, PacingTicker
from tests.fake.helpers import PtyClient


def stream(ticker: PacingTicker, rate: int) -> tuple[Pacer, bytearray, list[int]]:
    got = bytearray()
    bursts: list[int] = []

    def deliver(chunk: bytes) -> None:
        got.extend(chunk)
        bursts.append(len(chunk))

    return Pacer(ticker, rate, deliver), got, bursts


def test_rate_is_exact_over_a_second_and_bursts_are_bounded() -> None:
    clock = ManualClock()
    ticker = PacingTicker(clock, tick=0.01)
    pacer, got, bursts = stream(ticker, 33600)
    payload = bytes(range(256)) * 40                     # 10240 bytes: ~3 s at 3360 B/s
    pacer.push(payload)
    clock.advance(1.0)
    assert len(got) == 3360                              # 33600 bit/s, 10 bits a byte
    assert max(bursts) <= 34                             # 3360 B/s x 10 ms, rounded up
    clock.advance(2.0)
    assert len(got) == 3 * 3360
    clock.advance(1.0)
    assert bytes(got) == payload and pacer.pending == 0
    assert ticker.active == 0                            # drained: no timer runs idle


def test_an_idle_stream_saves_up_no_burst() -> None:
    clock = ManualClock()
    ticker = PacingTicker(clock, tick=0.01)
    pacer, got, bursts = stream(ticker, 9600)
    pacer.push(b"x")
    clock.advance(0.5)
    assert bytes(got) == b"x"
    clock.advance(10.0)                                  # a long idle spell...
    pacer.push(bytes(1000))
    clock.advance(0.01)
    assert len(got) == 1 + 9                             # ...then 960 B/s again, not 10 s worth
    assert max(bursts) <= 10
    assert ticker.active == 1


def test_many_streams_on_one_ticker_each_at_its_own_rate() -> None:
    clock = ManualClock()
    ticker = PacingTicker(clock, tick=0.01)
    rates = [2400 * (1 + i % 14) for i in range(64)]
    streams = [stream(ticker, rate) for rate in rates]
    payloads = [bytes([i]) * rate for i, rate in enumerate(rates)]   # 1 s at 10x the rate
    for (pacer, _got, _b), payload in zip(streams, payloads, strict=True):
        pacer.push(payload)
    clock.advance(2.0)
    for (_pacer, got, _b), rate in zip(streams, rates, strict=True):
        assert len(got) == 2 * rate // 10
    clock.advance(10.0)
    assert [bytes(got) for _p, got, _b in streams] == payloads
    assert ticker.active == 0


def test_cancel_drops_the_queue_and_bad_arguments_are_refused() -> None:
    clock = ManualClock()
    ticker = PacingTicker(clock)
    pacer, got, _ = stream(ticker, 33600)
    pacer.push(bytes(1000))
    pacer.cancel()
    clock.advance(1.0)
    assert got == b"" and ticker.active == 0
    with pytest.raises(ValueError):
        Pacer(ticker, 0, got.extend)
    with pytest.raises(ValueError):
        PacingTicker(clock, tick=0)


async def test_64_paced_calls_each_deliver_their_bytes_exactly(
        open_client: Callable[[str], PtyClient]) -> None:
    """64 throttled calls at once, both directions: every byte, in order, on each."""
    async with Exchange(time_scale=0.01, throttle=True) as ex:
        lines = [await ex.add_line(f"55510{i:02d}", personality="conexant-v92")
                 for i in range(64)]
        clients = [open_client(line.port) for line in lines]
        for c in clients:
            await c.command(b"ATE0S0=1\r")
        parties = [await ex.ring_in(line.number, caller=f"55590{i:02d}")
                   for i, line in enumerate(lines)]
        assert all(await asyncio.gather(*(p.answered() for p in parties)))
        for c in clients:
            await c.expect(b"CONNECT 33600\r\n")
        down = [bytes([i]) * 1500 + bytes(range(256)) for i in range(64)]
        up = [payload[::-1] for payload in down]
        for party, payload in zip(parties, down, strict=True):
            party.write(payload)
        for c, payload in zip(clients, up, strict=True):
            c.write(payload)
        received = await asyncio.gather(*(c.read_exactly(len(payload), within=30)
                                          for c, payload in zip(clients, down, strict=True)))
        assert received == down

        async def read_all(party: object, n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                chunk = await party.read(n - len(buf))  # type: ignore[attr-defined]
                assert chunk, "call ended early"
                buf += chunk
            return buf

        sent_up = await asyncio.wait_for(asyncio.gather(
            *(read_all(p, len(u)) for p, u in zip(parties, up, strict=True))), 30)
        assert list(sent_up) == up


def test_a_stream_refilled_within_a_tick_keeps_counting() -> None:
    """A sender with a small window refills 5 ms after each delivery, so the stream runs
    dry at every tick and has data again before the next.  Counting afresh at each
    refill would allow only 5 ms of credit a tick (16 bytes); the window's 30 bytes a
    tick must go out, in bounded bursts."""
    clock = ManualClock()
    ticker = PacingTicker(clock, tick=0.01)
    got = bytearray()
    bursts: list[int] = []
    pacer: Pacer

    def deliver(chunk: bytes) -> None:
        got.extend(chunk)
        bursts.append(len(chunk))
        clock.call_later(0.005, lambda: pacer.push(bytes(len(chunk))))   # the DTE refills

    pacer = Pacer(ticker, 33600, deliver)
    pacer.push(bytes(30))
    clock.advance(10.0)
    assert len(got) >= 1000 * 30 - 30         # 30 bytes every 10 ms tick
    assert max(bursts) <= 2 * 34
