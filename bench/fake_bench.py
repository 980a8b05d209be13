"""Benchmark of the fake exchange: ``python -m bench.fake_bench [--quick]``.

The exchange runs in its own process (``modemctl fake run --json``) so its
CPU time and memory are measured apart from the client's, from
``/proc/<pid>/stat`` and ``/proc/<pid>/status``.  The client side uses only
pyserial (to open the pty like a serial port) and the standard library, not
modemctl's driver, so the figures are the fake's own cost.

Tables printed:

1. ``AT`` round trips per second on one line (one outstanding command).
2. Aggregate ``AT`` round trips per second, and the exchange's CPU, with 64
   and 256 lines busy at once (one outstanding command per line).
3. Data throughput across a call, unthrottled, one direction.
4. Throttled throughput against the connect rate (the fake paces data at
   the negotiated rate; it should be within 2 %).
4b. Many paced calls at once, both directions, in real time: the exchange's
   CPU and the slowest and fastest call's rate against the connect rate.
5. Memory per line: growth of an exchange process's RSS as lines are added
   (a ``multiprocessing`` child running :class:`modemctl.fake.Exchange`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import multiprocessing
import os
import selectors
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import serial

from bench.support import TIME_SCALE, FakeExchangeProcess, fake_exchange, machine, table

_CLK_TCK = os.sysconf("SC_CLK_TCK")

_OK = b"OK\r\n"
_WINDOW = 4096
"""Bytes the throttled sender keeps in flight (a DTE under flow control)."""
_CHUNK = 16384
"""Bytes per write when sending data across a call."""
# Payload without '+' so that data never looks like an escape sequence.
_PAYLOAD = bytes(b for b in range(256) if b != ord("+")) * 256


def machine_busy_seconds() -> float:
    """CPU seconds all processors spent not idle (from /proc/stat), kernel work included."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _CLK_TCK


def open_port(path: str) -> serial.Serial:
    """Open a fake line like a real serial port (raw mode, non-blocking reads)."""
    return serial.Serial(path, 115200, timeout=0, write_timeout=5)


def command(port: serial.Serial, cmd: bytes, expect: bytes, timeout: float = 10.0) -> bytes:
    """Send ``cmd`` and read until ``expect`` shows up (bounded by ``timeout``)."""
    port.write(cmd)
    buf = b""
    deadline = time.monotonic() + timeout
    while expect not in buf:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{cmd!r}: no {expect!r} within {timeout}s, got {buf[-200:]!r}")
        sel = selectors.DefaultSelector()
        sel.register(port.fileno(), selectors.EVENT_READ)
        sel.select(0.2)
        sel.close()
        buf += port.read(port.in_waiting or 1)
    return buf


# --------------------------------------------------------------------------- measurements


def at_rate_one_line(seconds: float) -> dict[str, float]:
    """AT round trips per second on one line, one command outstanding."""
    with fake_exchange(["5551001:conexant-v92"]) as ex:
        port = open_port(ex.lines[0]["port"])
        port.timeout = 5
        try:
            command(port, b"ATE1\r", _OK)
            for _ in range(50):  # warm up
                command(port, b"AT\r", _OK)
            n, lat = 0, []
            cpu0, t0 = ex.cpu_seconds(), time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                s = time.perf_counter()
                port.write(b"AT\r")
                buf = b""
                while _OK not in buf:
                    buf += port.read(port.in_waiting or 1)
                lat.append(time.perf_counter() - s)
                n += 1
            wall = time.perf_counter() - t0
            cpu = ex.cpu_seconds() - cpu0
        finally:
            port.close()
    lat.sort()
    return {"cmds": n, "rate": n / wall, "p50_ms": lat[len(lat) // 2] * 1e3,
            "p99_ms": lat[int(len(lat) * 0.99)] * 1e3, "cpu_pct": 100 * cpu / wall,
            "cpu_us_per_cmd": 1e6 * cpu / n}


def at_rate_many_lines(count: int, seconds: float) -> dict[str, float]:
    """Aggregate AT round trips per second with ``count`` lines busy at once."""
    specs = [f"{5560000 + i}:conexant-v92" for i in range(count)]
    with fake_exchange(specs) as ex:
        ports = [open_port(line["port"]) for line in ex.lines]
        try:
            rss_idle = ex.rss_kib()
            sel = selectors.DefaultSelector()
            bufs: dict[int, bytes] = {}
            for p in ports:
                fd = p.fileno()
                bufs[fd] = b""
                sel.register(fd, selectors.EVENT_READ)
                os.write(fd, b"AT\r")
            n = 0
            cpu0, t0 = ex.cpu_seconds(), time.perf_counter()
            client0, busy0 = time.process_time(), machine_busy_seconds()
            deadline = t0 + seconds
            while time.perf_counter() < deadline:
                for key, _ in sel.select(1.0):
                    fd = int(key.fd)
                    buf = bufs[fd] + os.read(fd, 4096)
                    while (i := buf.find(_OK)) >= 0:
                        buf = buf[i + len(_OK):]
                        n += 1
                        os.write(fd, b"AT\r")
                    bufs[fd] = buf
            wall = time.perf_counter() - t0
            cpu = ex.cpu_seconds() - cpu0
            client = time.process_time() - client0
            busy = machine_busy_seconds() - busy0
            sel.close()
        finally:
            for p in ports:
                p.close()
    return {"lines": count, "rate": n / wall, "per_line": n / wall / count,
            "cpu_pct": 100 * cpu / wall, "client_cpu_pct": 100 * client / wall,
            "machine_pct": 100 * busy / wall, "rss_kib": rss_idle}


def _call(ex: FakeExchangeProcess) -> tuple[serial.Serial, serial.Serial, str]:
    """Dial line 2 from line 1 (line 2 auto-answers); return both ports and the CONNECT line."""
    a, b = open_port(ex.lines[0]["port"]), open_port(ex.lines[1]["port"])
    command(b, b"ATS0=1\r", _OK)
    out = command(a, f"ATDT{ex.lines[1]['number']}\r".encode(), b"CONNECT", timeout=30)
    tail = out[out.index(b"CONNECT"):]
    while b"\r\n" not in tail:
        tail += a.read(a.in_waiting or 1)
    connect = tail.split(b"\r\n", 1)[0].decode()
    command(b, b"", b"CONNECT", timeout=30)
    return a, b, connect


def throughput(seconds: float, *, throttle: bool) -> dict[str, Any]:
    """Bytes per (real) second from line 1 to line 2 across a call.

    Throttled, the exchange runs in real time (time scale 1) so that its
    pacing can be compared with the connect rate directly, and the sender
    keeps at most :data:`_WINDOW` bytes in flight, like a DTE under flow
    control, instead of piling megabytes into the exchange's pacing buffer.
    """
    extra, scale = (["--throttle"], 1.0) if throttle else ([], TIME_SCALE)
    window = _WINDOW if throttle else 1 << 62
    with fake_exchange(["5551001:conexant-v92", "5551002:conexant-v92"], extra=extra,
                  time_scale=scale) as ex:
        a, b, connect = _call(ex)
        try:
            sel = selectors.DefaultSelector()
            sel.register(a.fileno(), selectors.EVENT_WRITE)
            sel.register(b.fileno(), selectors.EVENT_READ)
            os.set_blocking(a.fileno(), False)
            warm = min(1.0, seconds / 4)
            sent = received = offset = 0
            registered = True
            t0 = time.perf_counter()
            start_bytes, start_t = 0, 0.0
            cpu0, busy0 = ex.cpu_seconds(), machine_busy_seconds()
            while True:
                now = time.perf_counter()
                if now - t0 >= warm + seconds:
                    break
                if start_t == 0.0 and now - t0 >= warm:
                    start_bytes, start_t = received, now
                    cpu0, busy0 = ex.cpu_seconds(), machine_busy_seconds()
                writing = sent - received < window
                if writing != registered:  # pause the sender while the window is full
                    if writing:
                        sel.register(a.fileno(), selectors.EVENT_WRITE)
                    else:
                        sel.unregister(a.fileno())
                    registered = writing
                for key, events in sel.select(0.2):
                    if events & selectors.EVENT_WRITE:
                        with contextlib.suppress(BlockingIOError):
                            n = os.write(a.fileno(), _PAYLOAD[offset:offset + _CHUNK])
                            sent += n
                            offset = (offset + n) % (len(_PAYLOAD) - _CHUNK)
                    if events & selectors.EVENT_READ:
                        received += len(os.read(int(key.fd), 65536))
            wall = time.perf_counter() - start_t
            cpu = ex.cpu_seconds() - cpu0
            busy = machine_busy_seconds() - busy0
            sel.close()
        finally:
            a.close()
            b.close()
    rate = int(connect.split()[1]) if len(connect.split()) > 1 else 0
    bps = (received - start_bytes) / wall
    return {"connect": connect, "rate": rate, "bytes_per_s": bps, "cpu_pct": 100 * cpu / wall,
            "machine_pct": 100 * busy / wall}


def paced_calls(calls: int, seconds: float) -> dict[str, Any]:
    """``calls`` throttled calls at time scale 1, data both ways on each, every sender
    keeping :data:`_WINDOW` bytes in flight; the exchange's CPU and each direction's
    achieved rate."""
    specs = [f"{5580000 + i}:conexant-v92" for i in range(2 * calls)]
    with fake_exchange(specs, extra=["--throttle"], time_scale=1.0) as ex:
        # plain descriptors: pyserial's select() cannot take the fds above 1024 that
        # 512 lines need, and the fake's ptys are raw already
        ports = [os.open(line["port"], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                 for line in ex.lines]
        try:
            callers, callees = ports[:calls], ports[calls:]
            for b in callees:
                os.write(b, b"ATE0S0=1\r")
            for a, line in zip(callers, ex.lines[calls:], strict=True):
                os.write(a, f"ATE0DT{line['number']}\r".encode())
            _await_all(ports, b"CONNECT 33600\r\n", timeout=60)
            # one stream per direction: fd -> its peer's fd
            peer = dict(zip(callers, callees, strict=True))
            peer.update({b: a for a, b in peer.items()})
            fds = list(peer)
            sent = dict.fromkeys(fds, 0)       # by sender
            got = dict.fromkeys(fds, 0)        # by receiver
            sel = selectors.DefaultSelector()
            for fd in fds:
                sel.register(fd, selectors.EVENT_READ | selectors.EVENT_WRITE)
            warm = min(2.0, seconds / 2)
            t0 = time.perf_counter()
            start_t = 0.0
            start_got: dict[int, int] = {}
            cpu0 = ex.cpu_seconds()
            while (now := time.perf_counter()) - t0 < warm + seconds:
                if not start_t and now - t0 >= warm:
                    start_t, start_got, cpu0 = now, dict(got), ex.cpu_seconds()
                for key, events in sel.select(0.2):
                    fd = int(key.fd)
                    if events & selectors.EVENT_READ:
                        got[fd] += len(os.read(fd, 65536))
                    if events & selectors.EVENT_WRITE:
                        room = _WINDOW - (sent[fd] - got[peer[fd]])
                        if room > 0:
                            with contextlib.suppress(BlockingIOError):
                                sent[fd] += os.write(fd, _PAYLOAD[:room])
                    want = selectors.EVENT_READ
                    if sent[fd] - got[peer[fd]] < _WINDOW:
                        want |= selectors.EVENT_WRITE
                    if want != key.events:
                        sel.modify(fd, want)
                # senders whose window was full: ask for writability again
                for fd in fds:
                    key = sel.get_key(fd)
                    if not key.events & selectors.EVENT_WRITE \
                            and sent[fd] - got[peer[fd]] < _WINDOW:
                        sel.modify(fd, selectors.EVENT_READ | selectors.EVENT_WRITE)
            wall = time.perf_counter() - start_t
            cpu = ex.cpu_seconds() - cpu0
            sel.close()
        finally:
            for fd in ports:
                os.close(fd)
    bits = sorted(10 * (got[fd] - start_got[fd]) / wall for fd in fds)
    return {"calls": calls, "cpu_pct": 100 * cpu / wall, "min_bps": bits[0],
            "max_bps": bits[-1], "median_bps": bits[len(bits) // 2]}


def _await_all(fds: Sequence[int], needle: bytes, timeout: float) -> None:
    """Wait until every descriptor has shown ``needle`` (bounded by ``timeout``)."""
    waiting = dict.fromkeys(fds, b"")
    sel = selectors.DefaultSelector()
    for fd in waiting:
        sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while waiting:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(waiting)} ports showed no {needle!r} in {timeout}s")
            for key, _ in sel.select(1.0):
                fd = int(key.fd)
                waiting[fd] += os.read(fd, 4096)
                if needle in waiting[fd]:
                    del waiting[fd]
                    sel.unregister(fd)
    finally:
        sel.close()


def _rss_self_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("VmRSS missing from /proc/self/status")


def _memory_child(conn: Connection, steps: list[int]) -> None:
    """In a fresh process: grow an exchange to each line count in ``steps``, send RSS."""
    from modemctl.fake import Exchange
    from modemctl.log import configure

    configure()  # warnings only, on stderr: the exchange logs each line at debug

    async def grow() -> None:
        async with Exchange(time_scale=TIME_SCALE) as ex:
            for target in steps:
                while len(ex.lines) < target:
                    await ex.add_line(str(5570000 + len(ex.lines)), personality="conexant-v92")
                await asyncio.sleep(0.3)
                gc.collect()
                cpu0, t0 = time.process_time(), time.perf_counter()
                await asyncio.sleep(0.5)
                idle = 100 * (time.process_time() - cpu0) / (time.perf_counter() - t0)
                conn.send((target, _rss_self_kib(), idle))

    asyncio.run(grow())
    conn.close()


def memory_per_line(steps: list[int]) -> dict[str, Any]:
    """RSS of one exchange process as lines are added (idle, not opened by any client),
    the least-squares slope in KiB per line, and the CPU the idle lines cost (an
    unopened pty is waited on with inotify, not polled: it should be next to none)."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_memory_child, args=(child, steps))
    proc.start()
    child.close()
    points: list[tuple[int, int, float]] = []
    try:
        while len(points) < len(steps):
            if not parent.poll(60):
                raise RuntimeError("the memory probe process stopped answering")
            points.append(parent.recv())
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = (sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
             / sum((x - mx) ** 2 for x in xs))
    return {"points": points, "per_line_kib": slope}


# --------------------------------------------------------------------------- output


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement and print the tables; ``--quick`` for a short run."""
    parser = argparse.ArgumentParser(prog="python -m bench.fake_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs (about 30 s in all)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    secs = 1.0 if args.quick else 4.0
    print(f"fake exchange benchmark: {machine()}")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at start: {load} (other work on the machine skews the figures)")
    print(f"exchange in its own process (modemctl fake run), time scale {TIME_SCALE}; "
          f"{'quick' if args.quick else 'full'} run, {secs:g} s per measurement")

    one = at_rate_one_line(secs)
    table("AT round trips on one line (E1, 'AT' -> 'OK')",
          ["cmds", "cmds/s", "p50 ms", "p99 ms", "exchange CPU %", "CPU us/cmd"],
          [[one["cmds"], f"{one['rate']:.0f}", f"{one['p50_ms']:.2f}", f"{one['p99_ms']:.2f}",
            f"{one['cpu_pct']:.0f}", f"{one['cpu_us_per_cmd']:.0f}"]])

    many = [at_rate_many_lines(n, secs) for n in (64, 256)]
    table("Aggregate AT round trips, every line busy (one command outstanding per line)",
          ["lines", "cmds/s", "cmds/s/line", "exchange CPU %", "client CPU %",
           f"machine CPU % (of {100 * (os.cpu_count() or 1)})"],
          [[m["lines"], f"{m['rate']:.0f}", f"{m['per_line']:.1f}", f"{m['cpu_pct']:.0f}",
            f"{m['client_cpu_pct']:.0f}", f"{m['machine_pct']:.0f}"] for m in many])

    free = throughput(secs, throttle=False)
    table("Data across a call, unthrottled (line 1 -> line 2)",
          ["connect", "bytes/s", "MB/s", "exchange CPU %",
           f"machine CPU % (of {100 * (os.cpu_count() or 1)})"],
          [[free["connect"], f"{free['bytes_per_s']:.0f}", f"{free['bytes_per_s'] / 1e6:.2f}",
            f"{free['cpu_pct']:.0f}", f"{free['machine_pct']:.0f}"]])

    paced = throughput(max(secs, 3.0), throttle=True)
    bits = paced["bytes_per_s"] * 10  # async serial: start + 8 data + stop bits
    err = 100 * (bits - paced["rate"]) / paced["rate"] if paced["rate"] else float("nan")
    table("Throttled data against the connect rate (real time; 10 bits per byte on the line)",
          ["connect", "bytes/s", "bit/s", "error %"],
          [[paced["connect"], f"{paced['bytes_per_s']:.1f}", f"{bits:.0f}", f"{err:+.2f}"]])

    counts = (16, 64) if args.quick else (16, 64, 256)
    paced_rows = []
    for n in counts:
        r = paced_calls(n, max(secs, 3.0))
        paced_rows.append([n, 2 * n, f"{r['cpu_pct']:.0f}", f"{r['min_bps']:.0f}",
                           f"{r['median_bps']:.0f}", f"{r['max_bps']:.0f}",
                           f"{100 * (r['min_bps'] - 33600) / 33600:+.2f}"])
    table("Paced calls at once, both directions, real time (CONNECT 33600; window "
          f"{_WINDOW} B per sender)",
          ["calls", "streams", "exchange CPU %", "slowest bit/s", "median bit/s",
           "fastest bit/s", "slowest error %"], paced_rows)

    mem = memory_per_line([1, 33, 65] if args.quick else [1, 65, 129, 193, 257])
    table("Memory per line: one exchange process growing (lines idle, not opened)",
          ["lines", "RSS KiB", "idle CPU %"],
          [[n, rss, f"{idle:.1f}"] for n, rss, idle in mem["points"]])
    print(f"  => {mem['per_line_kib']:.1f} KiB per added line (least-squares slope)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
