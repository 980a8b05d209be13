"""What every benchmark shares: the machine line, table printing, and a fake
exchange running in its own process (so that its CPU and memory are measured
apart from the client's)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TIME_SCALE = 0.05
"""Protocol timers (ring cadence, training) run 20x faster so calls set up quickly."""
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def machine() -> str:
    """The machine the figures come from."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{os.cpu_count()} CPU ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print one aligned table."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    print(f"\n{title}")
    for i, row in enumerate(cells):
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))
    sys.stdout.flush()


@dataclass
class FakeExchangeProcess:
    """A ``modemctl fake run`` child process and the lines it printed."""

    proc: subprocess.Popen[bytes]
    pid: int
    lines: list[dict[str, Any]]

    @property
    def ports(self) -> list[str]:
        """The pty path of every line, in the order asked for."""
        return [str(line["port"]) for line in self.lines]

    def cpu_seconds(self) -> float:
        """User + system CPU time the exchange process has used so far."""
        raw = Path(f"/proc/{self.pid}/stat").read_bytes()
        fields = raw[raw.rfind(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / _CLK_TCK

    def rss_kib(self) -> int:
        """Resident set size of the exchange process, KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("VmRSS missing from /proc status")


@contextlib.contextmanager
def fake_exchange(lines: Sequence[str], *, extra: Sequence[str] = (),
                  time_scale: float = TIME_SCALE) -> Iterator[FakeExchangeProcess]:
    """Run ``modemctl fake run`` with ``lines`` (``NUMBER:PERSONALITY`` specs) in a
    private registry dir; stop it afterwards."""
    with tempfile.TemporaryDirectory(prefix="mcb-", dir="/tmp") as d:
        env = {**os.environ, "MODEMCTL_FAKE_DIR": d}
        cmd = [sys.executable, "-m", "modemctl.cli.fake", "run", "--json",
               "--time-scale", str(time_scale), *extra]
        for spec in lines:
            cmd += ["--line", spec]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            doc = _read_json_line(proc, timeout=60.0)
            yield FakeExchangeProcess(proc, int(doc["pid"]), list(doc["lines"]))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def _read_json_line(proc: subprocess.Popen[bytes], timeout: float) -> dict[str, Any]:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or not sel.select(left):
            raise RuntimeError("the fake exchange did not print its lines in time")
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            raise RuntimeError(f"the fake exchange exited: {err.strip()}")
        buf += chunk
    result: dict[str, Any] = json.loads(buf.split(b"\n", 1)[0])
    return result
