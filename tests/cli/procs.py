"""Running ``modemctl`` as real processes: a fake exchange, and commands against it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCALE = 0.05
MODEMCTL = [sys.executable, "-m", "modemctl"]


class Proc:
    """A child process whose stdout and stderr are collected by reader threads."""

    def __init__(self, args: list[str], env: Mapping[str, str], stdin: bool = False) -> None:
        self.args = args
        self.popen = subprocess.Popen(
            args, env=dict(env), stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = bytearray()
        self.err = bytearray()
        self._threads = [threading.Thread(target=self._pump, args=(s, b), daemon=True)
                         for s, b in ((self.popen.stdout, self.out),
                                      (self.popen.stderr, self.err))]
        for t in self._threads:
            t.start()

    @staticmethod
    def _pump(stream: Any, into: bytearray) -> None:
        while chunk := stream.read1(4096):
            into += chunk

    def type(self, data: bytes) -> None:
        assert self.popen.stdin is not None
        self.popen.stdin.write(data)
        self.popen.stdin.flush()

    def close_stdin(self) -> None:
        if self.popen.stdin is not None and not self.popen.stdin.closed:
            self.popen.stdin.close()

    def wait_for(self, needle: bytes, stream: str = "err", limit: float = 20.0) -> bool:
        """Poll (bounded) until ``needle`` appears in stdout (``out``) or stderr (``err``)."""
        buf = self.out if stream == "out" else self.err
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if needle in buf:
                return True
            if self.popen.poll() is not None:
                break
            time.sleep(0.02)            # another process's output: nothing to wait on
        for t in self._threads:
            t.join(0.5)
        return needle in buf

    def finish(self, limit: float = 20.0) -> int:
        """Wait for exit (bounded; killed after ``limit``) and for its output."""
        try:
            code = self.popen.wait(limit)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            code = self.popen.wait(5)
        for t in self._threads:
            t.join(2)
        return code

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        self.close_stdin()
        self.finish(10)

    def __str__(self) -> str:
        return (f"{' '.join(self.args)}\n--- stdout\n{self.out.decode(errors='replace')}"
                f"\n--- stderr\n{self.err.decode(errors='replace')}")


def cli_env(base: Path, **extra: str) -> dict[str, str]:
    """Environment for child processes: private config, registry, state; scaled time."""
    env = dict(os.environ)
    config = base / "config.toml"
    if not config.exists():
        config.touch()                   # named by MODEMCTL_CONFIG, so it must exist
    for key in ("MODEMCTL_LINE", "MODEMCTL_CONFIG"):
        env.pop(key, None)
    env.update({"MODEMCTL_CONFIG": str(base / "config.toml"),
                "MODEMCTL_FAKE_DIR": str(base / "fake"),
                "XDG_STATE_HOME": str(base / "state"),
                "MODEMCTL_TIME_SCALE": str(SCALE),
                "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


#: A running ``modemctl fake run``: its ``--json`` document and the env to reach it.
Fake = tuple[dict[str, Any], dict[str, str]]


def port_of(doc: dict[str, Any], number: str) -> str:
    """The port of line ``number`` in a ``fake run --json`` document."""
    return next(str(ln["port"]) for ln in doc["lines"] if ln["number"] == number)


def far_end(doc: dict[str, Any], env: Mapping[str, str], *options: str,
            number: str = "5551002") -> Proc:
    """``modemctl answer OPTIONS`` on line ``number``, its stdin held open (it never
    hangs up by itself); returns once it waits for a call, stopped if it never does."""
    proc = Proc([*MODEMCTL, "answer", *options, port_of(doc, number)], dict(env), stdin=True)
    if not proc.wait_for(b"waiting for a call"):
        proc.stop()
        raise AssertionError(f"the answering side never waited for a call:\n{proc}")
    return proc


@contextmanager
def fake_exchange(base: Path, *lines: str) -> Iterator[Fake]:
    """``modemctl fake run --json`` as a process; yields its JSON document and the env."""
    env = cli_env(base)
    args = [*MODEMCTL, "fake", "run", "--json", "--time-scale", str(SCALE)]
    for line in lines:
        args += ["--line", line]
    proc = Proc(args, env)
    try:
        assert proc.wait_for(b"\n", "out", limit=20), f"fake exchange did not start:\n{proc}"
        doc = json.loads(proc.out.split(b"\n", 1)[0])
        yield doc, env
    finally:
        proc.stop()


def run(args: list[str], env: Mapping[str, str], limit: float = 30.0
        ) -> subprocess.CompletedProcess[str]:
    """Run ``modemctl ARGS`` to completion (bounded) and capture its output."""
    return subprocess.run([*MODEMCTL, *args], env=dict(env), capture_output=True, text=True,
                          timeout=limit, stdin=subprocess.DEVNULL, check=False)
