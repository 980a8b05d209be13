"""Time to secure a connected call, against its floor of two guard times.

``python -m bench.secure_bench [--quick]``

Securing a call that already exists (``call.secure()``) must escape to
online-command state, and the Hayes escape needs S12 of silence before and
after ``+++``: on a call that has just connected, as here, two guard times
are the floor no implementation can beat (on one quiet from our side for a
guard time already, the leading guard is served and the floor is one).
Everything above it is our cost: the OK of the escape, reading each value,
writing it, reading it back, and ``ATO`` → ``CONNECT``.  This prints, per
personality, S12 and time scale, the median and worst time against that
floor, so a regression in the command path shows up as a ratio, not as a
number that depends on the guard time chosen.

Runs against the fake exchange (pty lines), both ends driven by modemctl.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import time
from dataclasses import dataclass

from bench.support import machine, table
from modemctl.fake import Exchange
from modemctl.line import Call, Line, open_line
from modemctl.log import configure as configure_logging

NEAR, FAR = "5551001", "5551002"


@dataclass(frozen=True)
class Row:
    personality: str
    s12: int
    time_scale: float
    floor: float
    samples: tuple[float, ...]
    commands: int

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def worst(self) -> float:
        return max(self.samples)


async def _connect(near: Line, far: Line) -> tuple[Call, Call]:
    async def answer() -> Call:
        offered = await far.wait_for_call()
        await offered.answer()
        return offered

    answering = asyncio.create_task(answer())
    async with asyncio.timeout(60):
        call = await near.make_call(FAR)
        incoming = await answering
    if call.state.name != "CONNECTED":
        raise RuntimeError(f"call did not connect: {call.disconnect_reason}")
    return call, incoming


async def measure(personality: str, s12: int, time_scale: float, repeat: int) -> Row:
    """Connect, secure, drop ``repeat`` times on one exchange; time each secure()."""
    async with Exchange(time_scale=time_scale) as ex:
        near_fake = await ex.add_line(NEAR, personality=personality)
        far_fake = await ex.add_line(FAR, personality="agere-v92")
        async with open_line(near_fake.port, "GB", time_scale, name="near") as near, \
                open_line(far_fake.port, "GB", time_scale, name="far") as far:
            await near.engine.command(f"ATS12={s12}")
            await far.engine.command(f"ATS12={s12}")
            await near.probe()              # the line reads S12 back into the engine
            floor = 2 * near.engine.guard_time
            samples: list[float] = []
            commands = 0
            for _ in range(repeat):
                call, incoming = await _connect(near, far)
                started = time.perf_counter()
                report = await call.secure()
                samples.append(time.perf_counter() - started)
                if not report.secured:
                    raise RuntimeError(f"{personality}: not secured: {report.summary()}")
                # reads + writes + read-backs actually sent (an "already" needs one read)
                commands = sum(3 if "(was" in m.detail else 1
                               for m in report.mechanisms if m.applied and m.detail) + 2
                await call.drop()
                async with asyncio.timeout(10):
                    await incoming.wait_disconnected()
    return Row(personality, s12, time_scale, floor, tuple(samples), commands)


def print_table(rows: list[Row]) -> None:
    print(f"machine: {machine()}")
    table("secure() on a connected call vs its floor (2 x guard time = 2 x S12 x 20 ms "
          "x time_scale); far end agere-v92; location GB (no cancel code)",
          ["personality", "S12", "scale", "floor ms", "median ms", "worst ms", "ratio",
           "over ms", "AT cmds", "n"],
          [(r.personality, r.s12, f"{r.time_scale:.2f}", f"{r.floor * 1e3:.1f}",
            f"{r.median * 1e3:.1f}", f"{r.worst * 1e3:.1f}",
            f"{r.median / r.floor:.2f}" if r.floor else "inf",
            f"{(r.median - r.floor) * 1e3:.1f}", r.commands, len(r.samples)) for r in rows])


async def run(quick: bool) -> list[Row]:
    personalities = ("conexant-v92", "usr-v90") if quick else (
        "conexant-v92", "agere-v92", "usr-v90")
    settings = [(50, 0.05), (50, 0.2)] if quick else [
        (50, 0.05), (25, 0.05), (50, 0.2), (10, 1.0), (50, 1.0)]
    rows = []
    for s12, scale in settings:
        # Real time (scale 1.0) costs ~13 s of call set-up per sample: fewer of them.
        repeat = 3 if quick else (2 if scale >= 1.0 else 5)
        for personality in personalities:
            if scale >= 1.0 and personality == "agere-v92":
                continue
            rows.append(await measure(personality, s12, scale, repeat))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.secure_bench",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer settings and repeats")
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING)
    rows = asyncio.run(run(args.quick))
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
