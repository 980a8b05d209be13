"""Benchmark of authenticated sessions: ``python -m bench.session_bench [--quick]``.

Tables:

1. Handshake cost per Noise pattern, sans-IO (both ends in memory: the CPU
   cost alone), and over a call on the fake exchange (``connect`` +
   ``accept`` wall time, including the S2 escape each side makes).
2. Throughput of a one-way transfer through a session against the raw call
   it runs on, on the fake exchange: unthrottled (what the CPU allows) and
   throttled at the connect rate of 33,600 bit/s (what the line allows;
   framing, tags and acknowledgements are the overhead), as ratios.

The exchange runs in this process (the session is the thing measured, and
both sides of it are ours).  Nothing is asserted; figures go to the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
import statistics
import time
from collections.abc import AsyncIterator

from bench.support import TIME_SCALE, machine, table
from modemctl.fake import Exchange
from modemctl.line import Call, Line, open_line
from modemctl.log import configure
from modemctl.session import SecurityContext, accept, connect
from modemctl.session.credentials import Credentials
from modemctl.session.noise import generate_private_key, public_key

PATTERNS = ("NNpsk0", "KKpsk0", "KK", "XX")


def credentials(pattern: str) -> tuple[Credentials, Credentials]:
    psk = random.randbytes(32) if pattern.endswith("psk0") else None
    a, b = generate_private_key(), generate_private_key()
    if pattern.startswith("KK"):
        return (Credentials("bench", pattern, psk=psk, static=a, remote_static=public_key(b)),
                Credentials("bench", pattern, psk=psk, static=b, remote_static=public_key(a)))
    if pattern == "XX":
        return (Credentials("bench", pattern, static=a, pinned=frozenset({public_key(b)})),
                Credentials("bench", pattern, static=b, pinned=frozenset({public_key(a)})))
    return Credentials("bench", pattern, psk=psk), Credentials("bench", pattern, psk=psk)


def handshake_in_memory(pattern: str, rounds: int) -> float:
    """Median seconds for one full handshake, both ends, no I/O."""
    caller, answerer = credentials(pattern)
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        a = SecurityContext.initiator(caller)
        b = SecurityContext.acceptor({"bench": answerer}.get)
        token = a.step()
        sides = (b, a)
        i = 0
        while token is not None:
            token = sides[i % 2].step(token)
            i += 1
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


@contextlib.asynccontextmanager
async def call_pair(scale: float, throttle: bool) -> AsyncIterator[tuple[Call, Call]]:
    async with contextlib.AsyncExitStack() as stack:
        ex = await stack.enter_async_context(Exchange(time_scale=scale, throttle=throttle))
        near_fake = await ex.add_line("5551001", personality="conexant-v92")
        far_fake = await ex.add_line("5551002", personality="agere-v92")
        near: Line = await stack.enter_async_context(
            open_line(near_fake.port, "US", scale, name="near"))
        far: Line = await stack.enter_async_context(
            open_line(far_fake.port, "US", scale, name="far"))

        async def answer() -> Call:
            incoming = await far.wait_for_call()
            await incoming.answer()
            return incoming

        answering = asyncio.create_task(answer())
        call = await near.make_call("5551002")
        yield call, await answering


async def read_n(reader: object, n: int) -> None:
    got = 0
    while got < n:
        chunk = await reader.read(65536)  # type: ignore[attr-defined]
        if not chunk:
            raise RuntimeError(f"stream ended after {got} of {n} bytes")
        got += len(chunk)


async def timed_transfer(writer: object, reader: object, payload: bytes) -> float:
    started = time.perf_counter()
    sending = asyncio.create_task(writer.write(payload))  # type: ignore[attr-defined]
    await read_n(reader, len(payload))
    await sending
    return time.perf_counter() - started


async def handshake_over_call(pattern: str) -> float:
    caller, answerer = credentials(pattern)
    async with call_pair(TIME_SCALE, False) as (near, far):
        started = time.perf_counter()
        a, b = await asyncio.gather(connect(near, caller), accept(far, {"bench": answerer}))
        took = time.perf_counter() - started
        await asyncio.gather(a.close(), b.close())
    return took


async def throughput(scale: float, throttle: bool, size: int) -> tuple[float, float, int]:
    """(raw seconds, session seconds, connect rate) for ``size`` bytes one way."""
    payload = random.randbytes(size)
    async with call_pair(scale, throttle) as (near, far):
        raw = await timed_transfer(near, far, payload)
        caller, answerer = credentials("KKpsk0")
        a, b = await asyncio.gather(connect(near, caller), accept(far, {"bench": answerer}))
        secured = await timed_transfer(a, b, payload)
        rate = near.rate or 0
        await asyncio.gather(a.close(), b.close())
    return raw, secured, rate


async def run(quick: bool) -> None:
    rounds = 20 if quick else 200
    rows = []
    for pattern in PATTERNS:
        mem = handshake_in_memory(pattern, rounds)
        wire = await handshake_over_call(pattern)
        rows.append((pattern, f"{mem * 1e3:.2f}", f"{wire:.2f}"))
    table("Handshake (both ends): CPU in memory, and connect+accept over a fake call "
          f"(time scale {TIME_SCALE}, includes the S2 escape)",
          ("pattern", "in memory ms", "over the call s"), rows)

    rows = []
    cases = [("unthrottled", TIME_SCALE, False, 256 * 1024 if quick else 2 * 1024 * 1024),
             ("throttled 33,600 bit/s", 1.0, True, 8 * 1024 if quick else 48 * 1024)]
    for name, scale, throttle, size in cases:
        raw, secured, rate = await throughput(scale, throttle, size)
        rows.append((name, f"{size // 1024} KiB", rate, f"{size / raw / 1024:.1f}",
                     f"{size / secured / 1024:.1f}", f"{raw / secured:.2f}"))
    table("Throughput, one way: session (KKpsk0, framed, ARQ) vs the raw call it runs on",
          ("line", "size", "rate", "raw KiB/s", "session KiB/s", "session/raw"), rows)
    print(f"\nmachine: {machine()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller sizes")
    args = parser.parse_args(argv)
    configure(logging.ERROR)
    asyncio.run(run(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
