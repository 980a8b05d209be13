"""Ctrl-C during a dial: time from the cancel to ``make_call`` giving up, per port.

``python -m bench.cancel_bench [--quick] [--scale S]``

A dial cancelled before ``CONNECT`` is aborted with one character and costs
next to nothing.  One cancelled as the call connects leaves the modem online
in data mode, and hanging that up costs what the port allows: a DTR drop
(&D2) where DTR works, else the escape, whose floor is two guard times
(S12 = 1 s each side of ``+++``) because the modem went online just now.  A
port whose DTR does nothing costs a short drop and a look at DCD on its
first hang-up, before the driver learns to skip it.  This prints the time
from ``cancel()`` to the cancelled ``make_call`` returning, with the modem
found on-hook in command state, in seconds and in guard times.

Runs against the fake exchange: "DTR works" is an RFC 2217 line, "no DTR
line" a pty, "DTR does nothing" an RFC 2217 line whose DTR changes are
accepted and ignored (ser2net in front of a pty, ``local``, three-wire
cables).  The cancel "at CONNECT" lands as the near modem goes online, its
CONNECT still on the way (through a hook on the fake's state changes); the
cancel "before CONNECT" lands as the far end answers (the modems train).

A second table is what a user sees: ``modemctl dial`` as a child process,
SIGINT just after its ``DIALING`` or ``CONNECTED`` progress line, to the
process's exit, per port (opening and closing an RFC 2217 port used to cost
pyserial's fixed sleeps: see modemctl/transport/rfc2217.py), and the time
``open_line`` and the line's close take in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.support import machine, table
from modemctl.driver import Engine
from modemctl.fake import DceEvent, Exchange, FakeLine, StateChange
from modemctl.line import Line, open_line
from modemctl.log import configure as configure_logging

NEAR, FAR = "5551001", "5551002"
PORTS = ("DTR works", "no DTR line", "DTR does nothing", "DTR does nothing (known)")
POINTS = ("before CONNECT", "at CONNECT")


CLI_PORTS = ("RFC 2217", "pty")
CLI_POINTS = ("DIALING", "CONNECTED")


@dataclass(frozen=True)
class ExitRow:
    port: str
    opened: float
    closed: float
    exits: dict[str, float]


@dataclass(frozen=True)
class Row:
    port: str
    point: str
    time_scale: float
    guard: float
    took: float


async def _ignored(_value: bool) -> bool:
    return True


def _cancel_on(fake: FakeLine, when: DceEvent, dialling: asyncio.Task[object],
               done: asyncio.Event) -> None:
    """Cancel ``dialling`` the moment the fake modem ``fake`` goes through ``when``
    (before it writes that step's result code: see ``Dce.on_state_change``)."""

    def cancel(change: StateChange) -> None:
        if change.event is when:
            unsubscribe()
            dialling.cancel()
            done.set()

    unsubscribe = fake.dce.on_state_change(cancel)


async def _once(line: Line, near: FakeLine, far: FakeLine, point: str) -> float:
    done = asyncio.Event()
    dialling: asyncio.Task[object] = asyncio.create_task(line.make_call(FAR))
    if point == "at CONNECT":
        _cancel_on(near, DceEvent.CONNECT, dialling, done)
    else:
        _cancel_on(far, DceEvent.ANSWER, dialling, done)     # the modems train
    async with asyncio.timeout(120):
        await done.wait()
    started = time.perf_counter()
    with contextlib.suppress(asyncio.CancelledError):
        await dialling
    took = time.perf_counter() - started
    if near.state != "command" or near.dce.off_hook:
        raise RuntimeError(f"the modem was left {near.state} after a cancel {point}")
    return took


async def measure(port: str, point: str, time_scale: float) -> Row:
    async with Exchange(time_scale=time_scale) as ex:
        near = await ex.add_line(NEAR, personality="conexant-v92", rfc2217=port != "no DTR line")
        far = await ex.add_line(FAR, personality="agere-v92")
        url = near.port if port == "no DTR line" else near.url
        assert url is not None
        answerer = await Engine.open(far.port, time_scale=time_scale)
        try:
            await answerer.command("ATS0=1")            # answers at the first ring
            async with open_line(url, "US", time_scale, name="near") as line:
                if port.startswith("DTR does nothing"):
                    line.engine._transport.set_dtr = _ignored  # type: ignore[method-assign]
                if port.endswith("(known)"):
                    line.engine.trust.dtr = False       # learnt by an earlier hang-up
                took = await _once(line, near, far, point)
                guard = line.engine.guard_time
        finally:
            await answerer.close()
    return Row(port, point, time_scale, guard, took)


async def _dial_exit(url: str, point: str, time_scale: float, home: str) -> float:
    """Seconds from SIGINT, sent as ``modemctl dial`` prints ``-> POINT``, to its exit."""
    env = dict(os.environ, MODEMCTL_CONFIG=os.path.join(home, "config.toml"),
               XDG_STATE_HOME=home, MODEMCTL_TIME_SCALE=str(time_scale))
    env.pop("MODEMCTL_LINE", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "modemctl", "dial", url, FAR, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(120):
            while f"-> {point}".encode() not in await proc.stderr.readline():
                if proc.stderr.at_eof():
                    raise RuntimeError(f"modemctl dial ended before {point}")
        started = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            await proc.stderr.read()
            code = await proc.wait()
        took = time.perf_counter() - started
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if code != 130:
        raise RuntimeError(f"modemctl dial exited {code} after SIGINT, not 130")
    return took


async def measure_exit(port: str, time_scale: float, home: str) -> ExitRow:
    """``home`` holds the CLI's (empty) config and its state."""
    exits: dict[str, float] = {}
    async with Exchange(time_scale=time_scale) as ex:
        near = await ex.add_line(NEAR, personality="conexant-v92",
                                 rfc2217=port == "RFC 2217")
        far = await ex.add_line(FAR, personality="agere-v92")
        url = near.url if port == "RFC 2217" else near.port
        assert url is not None
        started = time.perf_counter()
        async with open_line(url, "US", time_scale, name="near"):
            opened = time.perf_counter() - started
            started = time.perf_counter()
        closed = time.perf_counter() - started
        answerer = await Engine.open(far.port, time_scale=time_scale)
        try:
            await answerer.command("ATS0=1")
            for point in CLI_POINTS:
                exits[point] = await _dial_exit(url, point, time_scale, home)
                if near.state != "command" or near.dce.off_hook:
                    raise RuntimeError(f"modemctl dial left the modem {near.state}")
        finally:
            await answerer.close()
    return ExitRow(port, opened, closed, exits)


def print_exit_table(rows: list[ExitRow], time_scale: float) -> None:
    table(f"modemctl dial: SIGINT just after the progress line to the process's exit; "
          f"open_line and its close in-process (scale {time_scale:.2f}); one sample each",
          ["port", "open_line ms", "close ms",
           *(f"exit after {p} ms" for p in CLI_POINTS)],
          [(r.port, f"{r.opened * 1e3:.0f}", f"{r.closed * 1e3:.0f}",
            *(f"{r.exits[p] * 1e3:.0f}" for p in CLI_POINTS)) for r in rows])


def print_table(rows: list[Row]) -> None:
    print(f"machine: {machine()}")
    table("cancelled dial: cancel() to make_call() giving up, modem on-hook "
          "(guard = S12 50 x 20 ms x scale); one sample each",
          ["port", "cancel", "scale", "guard ms", "took ms", "guards"],
          [(r.port, r.point, f"{r.time_scale:.2f}", f"{r.guard * 1e3:.0f}",
            f"{r.took * 1e3:.0f}", f"{r.took / r.guard:.2f}") for r in rows])


async def run(scale: float) -> list[Row]:
    return [await measure(port, point, scale) for port in PORTS for point in POINTS]


def run_exits(scale: float) -> list[ExitRow]:
    with tempfile.TemporaryDirectory() as home:
        Path(home, "config.toml").touch()      # named by MODEMCTL_CONFIG, so it must exist

        async def each() -> list[ExitRow]:
            return [await measure_exit(port, scale, home) for port in CLI_PORTS]

        return asyncio.run(each())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cancel_bench",
                                     description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="at a quarter of real time")
    parser.add_argument("--scale", type=float, default=None,
                        help="time scale (default 1.0, real time; 0.25 with --quick)")
    args = parser.parse_args(argv)
    configure_logging(logging.WARNING)
    scale = args.scale if args.scale is not None else (0.25 if args.quick else 1.0)
    print_table(asyncio.run(run(scale)))
    print_exit_table(run_exits(scale), scale)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
