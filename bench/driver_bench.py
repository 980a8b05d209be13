"""Benchmark of the AT driver: ``python -m bench.driver_bench [--quick]``.

Everything is measured in one run against the same responder: a fake
exchange (``modemctl fake run``) in its own process, so the responder's CPU
is not charged to the client under test.  Tables:

1. ``AT`` → ``OK`` round trip on one line, side by side: through the
   Engine (thread backend and asyncio backend), through raw blocking
   pyserial in a thread, and through python-gsmmodem-new's serial layer
   (``gsmmodem.serial_comms.SerialComms``); ratio to raw pyserial, pooled,
   per round, and the median of the rounds (a round disturbed by other
   work on a shared VM does not move it).  A last row runs the transport alone (write ``AT\\r``,
   read to ``OK``), which shows how much of the Engine's cost is the
   transport and how much the engine and AT parser above it.
2. 64 lines driven at once through 64 Engines in one event loop (one
   command in flight per line): aggregate commands/s and the worst event
   loop lag seen meanwhile (wall clock, and the part of it the loop was
   busy running callbacks), thread vs asyncio backend.
3. Transport costs that decide the default backend, on a bare pty: open
   and close time, loop lag while writing into a pty nobody reads
   (back-pressure), and which URLs each backend can open.
4. CPU per ``AT`` → ``OK`` with no I/O at all (a port in memory that
   answers on the next loop iteration), against asyncio's own floor for
   one answer (a future resolved by ``call_soon``): the engine's and the
   AT core's work alone, which the shared VM's scheduling does not blur.
   The best of several repetitions is kept (noise only adds time).

Nothing is asserted about speed; the figures are printed for the README.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import statistics
import tempfile
import threading
import time
import tty
from collections.abc import Awaitable, Callable, Sequence

import serial

from bench.support import TIME_SCALE, fake_exchange, machine, table
from modemctl.at import NEED_DATA, ATConnection
from modemctl.driver import Engine
from modemctl.errors import PortClosed
from modemctl.log import configure, get_logger
from modemctl.transport import open_transport
from modemctl.transport.base import Backend, ModemLines, Transport
from modemctl.transport.linewatch import LineState, WatchMode

BACKENDS: tuple[Backend, ...] = ("thread", "asyncio")


# --------------------------------------------------------------------------- responder


# --------------------------------------------------------------------------- round trips


def stats(samples: Sequence[float]) -> dict[str, float]:
    """Median, p99 and rate of a list of round-trip times (seconds)."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {"median_us": statistics.median(ordered) * 1e6, "p99_us": p99 * 1e6,
            "per_s": len(ordered) / sum(ordered)}


async def rtt_engine(port: str, n: int, backend: Backend) -> list[float]:
    engine = await Engine.open(port, time_scale=TIME_SCALE, backend=backend)
    try:
        for _ in range(20):
            await engine.command("AT")
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            await engine.command("AT")
            out.append(time.perf_counter() - t0)
        return out
    finally:
        await engine.close()


async def rtt_transport(port: str, n: int, backend: Backend) -> list[float]:
    """The transport alone (no engine, no AT parser): where the overhead lives."""
    tr = await open_transport(port, backend=backend)
    try:
        async def once() -> float:
            t0 = time.perf_counter()
            await tr.write(b"AT\r")
            buf = b""
            while b"OK\r\n" not in buf:
                buf += await tr.read()
            return time.perf_counter() - t0

        for _ in range(20):
            await once()
        return [await once() for _ in range(n)]
    finally:
        await tr.close()


def rtt_pyserial(port: str, n: int) -> list[float]:
    """Raw blocking pyserial: write ``AT\\r``, read until ``OK\\r\\n``."""
    ser = serial.Serial(port, 115200, timeout=1)
    try:
        def once() -> float:
            t0 = time.perf_counter()
            ser.write(b"AT\r")
            buf = b""
            while b"OK\r\n" not in buf:
                chunk = ser.read(ser.in_waiting or 1)
                if not chunk:
                    raise RuntimeError(f"pyserial: no OK, got {buf!r}")
                buf += chunk
            return time.perf_counter() - t0

        for _ in range(20):
            once()
        return [once() for _ in range(n)]
    finally:
        ser.close()


def rtt_gsmmodem(port: str, n: int) -> list[float]:
    """python-gsmmodem-new's SerialComms (reader thread, line callbacks)."""
    from gsmmodem.serial_comms import SerialComms  # type: ignore[import-untyped]

    comms = SerialComms(port, 115200)
    comms.connect()
    try:
        for _ in range(20):
            comms.write("AT\r", timeout=5)
        out = []
        for _ in range(n):
            t0 = time.perf_counter()
            comms.write("AT\r", timeout=5)
            out.append(time.perf_counter() - t0)
        return out
    finally:
        comms.close()


async def round_trips(port: str, n: int, rounds: int
                      ) -> list[tuple[str, dict[str, float], list[float]]]:
    """Each client in turn, ``rounds`` times, so load drift on a shared VM hits
    every client alike; all samples of a client are pooled, and each round's
    median is also divided by raw pyserial's median *of the same round* (the
    ratio is what survives the VM's load swings)."""
    clients: list[tuple[str, Callable[[int], Awaitable[list[float]]]]] = [
        ("pyserial, blocking, in a thread",
         lambda k: asyncio.to_thread(rtt_pyserial, port, k)),
        ("modemctl Engine (thread backend)", lambda k: rtt_engine(port, k, "thread")),
        ("modemctl Engine (asyncio backend)", lambda k: rtt_engine(port, k, "asyncio")),
        ("gsmmodem SerialComms", lambda k: asyncio.to_thread(rtt_gsmmodem, port, k)),
        ("transport only (thread backend)", lambda k: rtt_transport(port, k, "thread")),
    ]
    samples: dict[str, list[float]] = {name: [] for name, _ in clients}
    ratios: dict[str, list[float]] = {name: [] for name, _ in clients}
    for _ in range(rounds):
        medians = {}
        for name, measure in clients:
            got = await measure(max(1, n // rounds))
            samples[name] += got
            medians[name] = statistics.median(got)
        base = medians[clients[0][0]]
        for name, _ in clients:
            ratios[name].append(medians[name] / base)
    return [(name, stats(samples[name]), ratios[name]) for name, _ in clients]


# --------------------------------------------------------------------------- many lines


class LagProbe:
    """Worst lateness of a 5 ms sleep while something else runs on the loop.

    ``worst`` is wall-clock lateness: on a VM whose CPUs are saturated (here
    the client and the fake exchange together can fill both) it includes
    time the process was not scheduled at all.  ``worst_busy`` counts only
    the loop thread's CPU time in excess of the sleep, i.e. lateness caused
    by callbacks that ran too long, which is what the code can do about.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.worst_busy = 0.0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            t0, c0 = loop.time(), time.thread_time()
            await asyncio.sleep(0.005)
            late = loop.time() - t0 - 0.005
            busy = time.thread_time() - c0 - 0.005
            self.worst = max(self.worst, late)
            self.worst_busy = max(self.worst_busy, min(late, busy))

    def __enter__(self) -> LagProbe:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


async def many_lines(ports: Sequence[str], seconds: float, backend: Backend
                     ) -> dict[str, float]:
    engines = await asyncio.gather(*(Engine.open(p, time_scale=TIME_SCALE, backend=backend)
                                     for p in ports))
    try:
        for e in engines:
            await e.command("AT")
        counts = [0] * len(engines)
        samples: list[float] = []
        stop = time.perf_counter() + seconds

        async def drive(i: int, e: Engine) -> None:
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                await e.command("AT")
                samples.append(time.perf_counter() - t0)
                counts[i] += 1

        with LagProbe() as lag:
            t0 = time.perf_counter()
            await asyncio.gather(*(drive(i, e) for i, e in enumerate(engines)))
            elapsed = time.perf_counter() - t0
        return {"per_s": sum(counts) / elapsed,
                "median_ms": statistics.median(samples) * 1e3,
                "lag_ms": lag.worst * 1e3, "busy_lag_ms": lag.worst_busy * 1e3,
                "threads": threading.active_count()}
    finally:
        await asyncio.gather(*(e.close() for e in engines))


# --------------------------------------------------------------------------- transport


async def transport_costs(backend: Backend, flood_seconds: float) -> dict[str, object]:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        t0 = time.perf_counter()
        tr = await open_transport(path, backend=backend)
        open_ms = (time.perf_counter() - t0) * 1e3
        chunk = b"x" * 4096
        written = 0

        async def flood() -> None:
            nonlocal written
            while True:
                await tr.write(chunk)
                written += len(chunk)

        with LagProbe() as lag:
            task = asyncio.create_task(flood())
            await asyncio.sleep(flood_seconds)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            t0 = time.perf_counter()
            await tr.close()
            close_ms = (time.perf_counter() - t0) * 1e3
        return {"open_ms": open_ms, "close_ms": close_ms, "lag_ms": lag.worst * 1e3,
                "accepted_kib": written // 1024}
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


async def url_support(backend: Backend) -> str:
    ok = []
    for url in ("loop://", "socket://127.0.0.1:1", "rfc2217://127.0.0.1:1"):
        scheme = url.split(":", 1)[0]
        try:
            tr = await open_transport(url, backend=backend, open_timeout=3)
        except Exception as e:      # classifying why it failed
            if "asyncio" in str(e):
                continue            # refused by design: the backend cannot drive it
            ok.append(scheme)       # it tried: only the test endpoint is missing
            continue
        await tr.close()
        ok.append(scheme)
    return ", ".join(["device", *ok])


# --------------------------------------------------------------------------- CPU, no I/O


ANSWER = b"AT\r\r\nOK\r\n"      # echo on, verbose: what the fake answers to AT


class InstantModem(Transport):
    """A port in memory whose modem answers every line with :data:`ANSWER`,
    handed to the receiver on the next loop iteration (as a chunk read by
    an ``add_reader`` callback would be)."""

    url = "memory://"

    def __init__(self) -> None:
        self.lines = ModemLines(None, False)
        self._loop = asyncio.get_running_loop()
        self._on_data: Callable[[bytes], None] | None = None
        self._closed = False

    async def read(self, max_bytes: int = 65536) -> bytes:
        raise PortClosed("InstantModem hands its answers to a receiver only")

    def set_receiver(self, on_data: Callable[[bytes], None] | None,
                     on_lost: Callable[[PortClosed], None] | None = None) -> None:
        self._on_data = on_data

    async def write(self, data: bytes) -> None:
        self.try_write(data)

    def try_write(self, data: bytes) -> bool:
        if self._on_data is not None:
            self._loop.call_soon(self._on_data, ANSWER)
        return True

    async def drain(self) -> None:
        return None

    async def set_dtr(self, value: bool) -> bool:
        return False

    async def close(self) -> None:
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def line_watch_mode(self) -> WatchMode:
        return "none"

    @property
    def line_state(self) -> LineState:
        return LineState()

    async def wait_modem_change(self, after: LineState | None = None) -> LineState:
        raise PortClosed("InstantModem has no modem lines")


async def best_of(repeats: int, n: int, once: Callable[[], Awaitable[object]]) -> float:
    """Best mean µs per call of ``once`` over ``repeats`` runs of ``n`` calls."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            await once()
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


async def cpu_costs(n: int, repeats: int) -> list[tuple[str, float]]:
    """µs per AT → OK: asyncio's floor, the AT core alone, the Engine."""
    loop = asyncio.get_running_loop()

    async def floor() -> None:
        fut: asyncio.Future[None] = loop.create_future()
        loop.call_soon(fut.set_result, None)
        await fut

    core = ATConnection()

    async def core_only() -> None:
        core.send_command("AT")
        core.receive_data(ANSWER)
        while core.next_event() is not NEED_DATA:
            pass

    modem = InstantModem()

    async def reopen() -> Transport:
        return modem

    engine = Engine(modem, url=modem.url, time_scale=1.0, log=get_logger(line="memory"),
                    reopen=reopen)
    try:
        async def command() -> None:
            await engine.command("AT")

        rows = []
        for name, once in (("asyncio floor: a future resolved by call_soon", floor),
                           ("AT core alone (send, parse echo and OK)", core_only),
                           ("modemctl Engine on the in-memory port", command)):
            await best_of(1, n // 10, once)         # warm up (caches, lru)
            rows.append((name, await best_of(repeats, n, once)))
        return rows
    finally:
        await engine.close()


# --------------------------------------------------------------------------- output


async def run(quick: bool) -> None:
    n = 300 if quick else 3000
    seconds = 1.0 if quick else 3.0
    lines = 64
    rounds = 2 if quick else 6
    print(f"machine: {machine()}")
    print(f"load average before the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other work on the VM shows up as spread between rounds)")
    print(f"responder: modemctl fake exchange (conexant-v92, echo on, time_scale {TIME_SCALE}) "
          "in a separate process; ptys")
    with fake_exchange([f"{5552000 + i}:conexant-v92" for i in range(lines)]) as ex:
        ports = ex.ports
        rt = await round_trips(ports[0], n, rounds)
        base = rt[0][1]["median_us"]
        table(f"AT -> OK round trip, one line, {n} commands per client in {rounds} "
              "interleaved rounds",
              ["client", "median µs", "p99 µs", "cmds/s", "median vs pyserial",
               "median round ratio", "per-round ratios"],
              [(name, f"{s['median_us']:.0f}", f"{s['p99_us']:.0f}", f"{s['per_s']:.0f}",
                f"{s['median_us'] / base:.2f}x", f"{statistics.median(ratios):.2f}x",
                " ".join(f"{r:.2f}" for r in ratios))
               for name, s, ratios in rt])
        rows = []
        for r_index in range(rounds):
            for backend in BACKENDS:
                r = await many_lines(ports, seconds / rounds, backend)
                rows.append((backend, r_index + 1, lines, f"{r['per_s']:.0f}",
                             f"{r['median_ms']:.2f}", f"{r['lag_ms']:.1f}",
                             f"{r['busy_lag_ms']:.1f}", r["threads"]))
        table(f"{lines} lines driven at once, {rounds} alternating rounds of "
              f"{seconds / rounds:.1f}s, one command in flight per line",
              ["backend", "round", "lines", "aggregate cmds/s", "median ms",
               "worst loop lag ms", "of it loop busy ms", "threads"], rows)
    rows2 = []
    for backend in BACKENDS:
        c = await transport_costs(backend, 0.5 if quick else 1.0)
        rows2.append((backend, f"{c['open_ms']:.1f}", f"{c['close_ms']:.1f}",
                      f"{c['lag_ms']:.1f}", c["accepted_kib"], await url_support(backend)))
    table("transport backends on a pty (flood: 4 KiB writes into a pty nobody reads)",
          ["backend", "open ms", "close ms (full queue)", "worst loop lag ms",
           "KiB accepted", "URLs"], rows2)
    costs = await cpu_costs(2000 if quick else 10000, 3 if quick else 5)
    floor_us = costs[0][1]
    table("CPU per AT -> OK with no I/O (an in-memory port that answers on the next "
          "loop iteration), best of the repetitions",
          ["what runs", "µs per command", "vs asyncio floor"],
          [(name, f"{us:.1f}", f"{us / floor_us:.2f}x") for name, us in costs])


def main(argv: Sequence[str] | None = None) -> int:
    """Print the driver benchmark tables; ``--quick`` for a short run."""
    parser = argparse.ArgumentParser(prog="python -m bench.driver_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer samples, shorter runs")
    args = parser.parse_args(argv)
    configure(level=logging.ERROR)
    saved = os.environ.get("MODEMCTL_LOCK_DIR")
    try:
        with tempfile.TemporaryDirectory(prefix="mdb-lock-") as lock_dir:
            os.environ["MODEMCTL_LOCK_DIR"] = lock_dir
            asyncio.run(run(args.quick))
    finally:
        # `python -m bench` runs the next benchmark in this process: leave no
        # pointer to a lock directory that no longer exists.
        if saved is None:
            os.environ.pop("MODEMCTL_LOCK_DIR", None)
        else:
            os.environ["MODEMCTL_LOCK_DIR"] = saved
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
