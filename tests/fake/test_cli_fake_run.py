"""``modemctl fake run`` as a real process, driven from this (other) process.

The exchange is started as ``python -m modemctl.cli.fake run --json``; its
JSON is read from the pipe, its lines are opened with pyserial, and calls and
faults come in through the ``ring``/``inject``/``hangup``/``list`` commands
(both as further processes and through click's runner in this process).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import shlex
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import serial
from click.testing import CliRunner

from modemctl.cli.fake import fake
from modemctl.fake import registry
from modemctl.fake.control import request
from modemctl.fake.faults import FAULTS

SCALE = "0.05"


@dataclass
class Running:
    proc: subprocess.Popen[bytes]
    doc: dict[str, Any]
    directory: Path
    env: dict[str, str]

    def line(self, number: str) -> dict[str, Any]:
        return next(ln for ln in self.doc["lines"] if ln["number"] == number)


def read_line(proc: subprocess.Popen[bytes], within: float = 30.0) -> bytes:
    """One line of the child's stdout, bounded in time."""
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buf = b""
    deadline = time.monotonic() + within
    try:
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"no complete line within {within} s: {buf!r}")
            chunk = os.read(proc.stdout.fileno(), 1)
            if not chunk:
                err = proc.stderr.read() if proc.stderr else b""
                raise AssertionError(f"exchange exited ({proc.wait()}): {buf!r} {err!r}")
            buf += chunk
    finally:
        sel.close()
    return buf


def start(directory: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, registry.ENV_DIR: str(directory)}
    return subprocess.Popen([sys.executable, "-m", "modemctl.cli.fake", "run", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
        raise


@pytest.fixture
def fake_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mc-", dir="/tmp") as d:
        monkeypatch.setenv(registry.ENV_DIR, d)
        yield Path(d)


@pytest.fixture
def running(fake_dir: Path) -> Iterator[Running]:
    proc = start(fake_dir, "--json", "--time-scale", SCALE,
                 "--line", "5551001:conexant-v92", "--line", "5551002:agere-v92:rfc2217")
    try:
        doc = json.loads(read_line(proc))
        yield Running(proc, doc, fake_dir, {**os.environ, registry.ENV_DIR: str(fake_dir)})
    finally:
        stop(proc)


def cli(r: Running, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m modemctl.cli.fake ARGS`` as another process."""
    return subprocess.run([sys.executable, "-m", "modemctl.cli.fake", *args], env=r.env,
                          capture_output=True, text=True, timeout=30, check=False)


def open_line(r: Running, number: str) -> serial.Serial:
    return serial.Serial(r.line(number)["port"], 115200, timeout=0.2)


def expect(port: serial.Serial, needle: bytes, within: float = 10.0) -> bytes:
    buf = b""
    deadline = time.monotonic() + within
    while needle not in buf:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} within {within} s; got {buf!r}")
        buf += port.read(max(1, port.in_waiting))
    return buf


def at(port: serial.Serial, cmd: str, within: float = 10.0) -> bytes:
    port.write(cmd.encode() + b"\r")
    return expect(port, b"OK\r\n", within)


def test_run_json_describes_lines_and_registers_them(running: Running) -> None:
    doc = running.doc
    assert doc["pid"] == running.proc.pid
    assert doc["time_scale"] == float(SCALE)
    a, b = running.line("5551001"), running.line("5551002")
    assert a["personality"] == "conexant-v92" and a["url"] is None
    assert b["personality"] == "agere-v92" and b["url"].startswith("rfc2217://127.0.0.1:")
    for ln in (a, b):
        assert stat.S_ISCHR(os.stat(ln["port"]).st_mode)
    assert stat.S_ISSOCK(os.stat(doc["control"]).st_mode)
    lines = registry.list_running_lines(running.directory)
    assert [(i.number, i.port, i.url, i.pid, i.control) for i in lines] == [
        (a["number"], a["port"], None, doc["pid"], doc["control"]),
        (b["number"], b["port"], b["url"], doc["pid"], doc["control"])]


def test_ring_from_another_process_reaches_the_line(running: Running) -> None:
    with open_line(running, "5551001") as port:
        at(port, "AT+VCID=1")
        r = cli(running, "ring", "5551001", "--caller", "5559999", "--name", "ALICE")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "ringing 5551001 from 5559999 (ALICE), party p1"
        out = expect(port, b"RING")
        out += expect(port, b"RING")  # caller ID comes between the first and second ring
        assert b"5559999" in out and b"ALICE" in out
        port.write(b"ATA\r")
        expect(port, b"CONNECT")
        party = request(running.doc["control"], "party", {"party": "p1"})
        deadline = time.monotonic() + 10
        while party["outcome"] != "answered" and time.monotonic() < deadline:
            time.sleep(0.05)
            party = request(running.doc["control"], "party", {"party": "p1"})
        assert party["outcome"] == "answered"
        request(running.doc["control"], "send", {"party": "p1", "data": "hi from p1\r\n"})
        expect(port, b"hi from p1")
        port.write(b"hello caller")
        got = ""
        for _ in range(20):
            got += request(running.doc["control"], "recv",
                           {"party": "p1", "timeout": 0.5})["data"]
            if "hello caller" in got:
                break
        assert "hello caller" in got
        r = cli(running, "hangup", "5551001")
        assert r.returncode == 0, r.stderr
        expect(port, b"NO CARRIER")


def test_list_shows_live_state(running: Running) -> None:
    r = cli(running, "list", "--json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert [row["number"] for row in rows] == ["5551001", "5551002"]
    assert all(row["pid"] == running.doc["pid"] for row in rows)
    assert all(row["state"] for row in rows)
    r = cli(running, "list")
    assert r.stdout.splitlines()[0].split() == ["NUMBER", "PERSONALITY", "STATE", "DEVICE",
                                                "URL", "PID"]
    assert "5551002" in r.stdout and running.line("5551002")["url"] in r.stdout


def test_dead_line_gives_no_dialtone(running: Running) -> None:
    r = cli(running, "dead", "5551001")
    assert r.returncode == 0 and "line 5551001 is dead" in r.stdout
    with open_line(running, "5551001") as port:
        port.write(b"ATDT5551002\r")
        expect(port, b"NO DIALTONE")
        assert cli(running, "dead", "5551001", "off").returncode == 0
        # Dial tone again: ';' dials and returns to command mode with OK.
        out = at(port, "ATDT5551002;")
        assert b"NO DIALTONE" not in out
        at(port, "ATH")


def test_client_commands_in_process(running: Running) -> None:
    runner = CliRunner()
    r = runner.invoke(fake, ["ring", "5551002", "--caller", "5550000", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["number"] == "5551002"
    r = runner.invoke(fake, ["ring", "5551003"])
    assert r.exit_code == 1
    assert "no running fake exchange has line 5551003 (running lines: 5551001, 5551002)" \
        in r.output
    r = runner.invoke(fake, ["inject", "5551001", "meteor"])
    assert r.exit_code == 1 and "Error:" in r.output and "Traceback" not in r.output
    r = runner.invoke(fake, ["inject", "5551001", "garbage"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "injected garbage into 5551001"
    r = runner.invoke(fake, ["list", "--control", running.doc["control"], "--json"])
    assert r.exit_code == 0 and len(json.loads(r.output)) == 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_unregisters(fake_dir: Path, sig: int) -> None:
    proc = start(fake_dir, "--json", "--time-scale", SCALE, "--line", "5551001:hayes-basic")
    doc = json.loads(read_line(proc))
    assert len(registry.list_running_lines(fake_dir)) == 1
    assert stop(proc, sig) == 0
    assert registry.list_running_lines(fake_dir) == []
    assert not os.path.exists(doc["control"])
    assert os.listdir(fake_dir) == []
    assert b"Traceback" not in (proc.stderr.read() if proc.stderr else b"")


def test_table_output_and_default_lines(fake_dir: Path) -> None:
    proc = start(fake_dir, "--time-scale", SCALE)
    try:
        header = read_line(proc).decode()
        assert header.split() == ["NUMBER", "PERSONALITY", "DEVICE", "URL"]
        rows = [read_line(proc).decode().split() for _ in range(2)]
        assert [r[:2] for r in rows] == [["5551001", "conexant-v92"], ["5551002", "agere-v92"]]
        assert all(stat.S_ISCHR(os.stat(r[2]).st_mode) and r[3] == "-" for r in rows)
        rest = b"".join(read_line(proc) for _ in range(4)).decode()
        assert "control socket:" in rest and "Ctrl-C" in rest
    finally:
        assert stop(proc, signal.SIGINT) == 0


def test_unknown_personality_is_a_short_error(fake_dir: Path) -> None:
    proc = start(fake_dir, "--json", "--line", "5551001:rotary-phone")
    rc = proc.wait(timeout=30)
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert rc == 1
    assert err.startswith("Error: line 5551001:") and "rotary-phone" in err
    assert "Traceback" not in err
    assert os.listdir(fake_dir) == []


def test_second_exchange_on_same_control_socket_is_refused(fake_dir: Path) -> None:
    sock = str(fake_dir / "ctl.sock")
    first = start(fake_dir, "--json", "--control", sock, "--line", "5551001:hayes-basic")
    try:
        read_line(first)
        second = start(fake_dir, "--json", "--control", sock, "--line", "5551002:hayes-basic")
        rc = second.wait(timeout=30)
        err = second.stderr.read().decode() if second.stderr else ""
        assert rc == 1 and "already listens" in err
        assert request(sock, "lines")["lines"][0]["number"] == "5551001"
    finally:
        stop(first)


def _call(r: Running, a: serial.Serial, b: serial.Serial, dial: str) -> None:
    at(b, "ATS0=1")
    a.write(f"ATDT{dial}\r".encode())
    expect(a, b"CONNECT", 20)
    expect(b, b"CONNECT", 20)


def test_call_waiting_from_another_process(running: Running) -> None:
    """A default Conexant drops an unprotected call on call waiting; *70 protects it."""
    with open_line(running, "5551001") as a, open_line(running, "5551002") as b:
        _call(running, a, b, "5551002")
        r = cli(running, "ring", "5551001", "--caller", "5553333", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["outcome"] == "waiting-dropped"
        expect(a, b"NO CARRIER")
        _call(running, a, b, "*70,5551002")
        r = cli(running, "ring", "5551001", "--caller", "5553333", "--wait", "2")
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().endswith(": busy")
        b.write(b"still connected")
        expect(a, b"still connected")


def test_modemctl_ports_lists_the_running_lines(running: Running) -> None:
    from modemctl.cli.ports import fake_ports

    rows = fake_ports()
    assert [row.port for row in rows] == [ln["port"] for ln in running.doc["lines"]]
    assert "fake agere-v92, number 5551002" in rows[1].description


def test_device_dir_gives_stable_paths(fake_dir: Path) -> None:
    devices = fake_dir / "dev"
    proc = start(fake_dir, "--json", "--time-scale", SCALE, "--device-dir", str(devices),
                 "--line", "5551001:usr-v90")
    try:
        doc = json.loads(read_line(proc))
        assert doc["lines"][0]["port"] == str(devices / "tty5551001")
        with serial.Serial(doc["lines"][0]["port"], 115200, timeout=0.2) as port:
            assert b"OK" in at(port, "AT")
    finally:
        assert stop(proc) == 0
    assert list(devices.iterdir()) == []  # links removed, the directory is the user's


def test_run_help_lists_installed_personalities() -> None:
    r = CliRunner().invoke(fake, ["run", "--help"])
    assert r.exit_code == 0
    from modemctl.fake import available_personalities

    names = available_personalities()
    assert {"conexant-v92", "agere-v92", "usr-v90", "hayes-basic"} <= set(names)
    assert f"Personalities: {', '.join(names)}; or the path of" in " ".join(r.output.split())


def test_talk_as_the_caller_with_send_and_recv(running: Running) -> None:
    runner = CliRunner()
    with open_line(running, "5551002") as port:
        at(port, "ATS0=1")
        r = runner.invoke(fake, ["ring", "5551002", "--caller", "5550000", "--wait", "20"])
        assert r.exit_code == 0, r.output
        assert r.output.strip() == "ringing 5551002 from 5550000, party p1: answered"
        expect(port, b"CONNECT")
        r = runner.invoke(fake, ["send", "p1", "hello line\r\n"])
        assert r.exit_code == 0 and r.output.strip() == "sent 12 bytes as p1"
        expect(port, b"hello line\r\n")
        port.write(b"hello caller")
        got = b""
        for _ in range(10):
            r = runner.invoke(fake, ["recv", "p1", "--timeout", "1"])
            assert r.exit_code == 0, r.output
            got += r.stdout_bytes
            if got == b"hello caller":
                break
        assert got == b"hello caller"
        assert runner.invoke(fake, ["hangup", "5551002"]).exit_code == 0
        expect(port, b"NO CARRIER")
        assert runner.invoke(fake, ["recv", "p1"]).exit_code == 3
        r = runner.invoke(fake, ["send", "p1", "too late"])
        assert r.exit_code == 1 and "party p1 is not connected (call over)" in r.output
        r = runner.invoke(fake, ["send", "p1", "€"])
        assert r.exit_code == 2 and "latin-1" in r.output
        r = runner.invoke(fake, ["recv", "p9"])
        assert r.exit_code == 1 and "no party 'p9'" in r.output


def test_relative_control_path_is_made_absolute(fake_dir: Path) -> None:
    env = {**os.environ, registry.ENV_DIR: str(fake_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "modemctl.cli.fake", "run", "--json",
                             "--control", "ctl.sock", "--line", "5551001:hayes-basic"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=fake_dir)
    try:
        doc = json.loads(read_line(proc))
        assert doc["control"] == str(fake_dir / "ctl.sock")
        (line,) = registry.list_running_lines(fake_dir)
        assert line.control == str(fake_dir / "ctl.sock")
        r = CliRunner().invoke(fake, ["list", "--json"])  # from another directory
        assert r.exit_code == 0 and json.loads(r.output)[0]["number"] == "5551001"
    finally:
        assert stop(proc) == 0


def test_two_exchanges_are_listed_and_rung_by_number(fake_dir: Path) -> None:
    one = start(fake_dir, "--json", "--time-scale", SCALE, "--line", "5551001:hayes-basic")
    two = start(fake_dir, "--json", "--time-scale", SCALE, "--line", "5552001:usr-v90",
                "--line", "5552002:agere-v92")
    try:
        doc1, doc2 = json.loads(read_line(one)), json.loads(read_line(two))
        runner = CliRunner()
        r = runner.invoke(fake, ["list", "--json"])
        assert r.exit_code == 0
        assert {(row["number"], row["pid"]) for row in json.loads(r.output)} == {
            ("5551001", doc1["pid"]), ("5552001", doc2["pid"]), ("5552002", doc2["pid"])}
        r = runner.invoke(fake, ["ring", "5552002", "--caller", "5550000"])
        assert r.exit_code == 0, r.output
        assert request(doc2["control"], "party", {"party": "p1"})["party"] == "p1"
        r = runner.invoke(fake, ["send", "p1", "x"])  # no number: which exchange?
        assert r.exit_code == 1 and "2 fake exchanges are running" in r.output
    finally:
        assert stop(one) == 0
        assert stop(two) == 0


def test_killed_exchange_leaves_nothing_usable_behind(fake_dir: Path) -> None:
    proc = start(fake_dir, "--json", "--time-scale", SCALE, "--line", "5551001:hayes-basic")
    doc = json.loads(read_line(proc))
    assert stop(proc, signal.SIGKILL) == -signal.SIGKILL
    assert os.path.exists(doc["control"])  # nobody could clean up...
    assert registry.list_running_lines(fake_dir) == []  # ...until the registry is read
    assert not (fake_dir / f"exchange-{doc['pid']}.json").exists()
    assert not os.path.exists(doc["control"])
    link = doc["lines"][0]["port"]                       # its device link and link dir too
    assert not os.path.lexists(link) and not os.path.exists(os.path.dirname(link))
    r = CliRunner().invoke(fake, ["ring", "5551001"])
    assert r.exit_code == 1 and "no fake exchange is running" in r.output
    # A new exchange can use the same socket path.
    again = start(fake_dir, "--json", "--control", doc["control"], "--line", "5551001:usr-v90")
    try:
        assert json.loads(read_line(again))["control"] == doc["control"]
        assert request(doc["control"], "lines")["lines"][0]["personality"] == "usr-v90"
    finally:
        assert stop(again) == 0


def test_inject_help_examples_work(running: Running) -> None:
    runner = CliRunner()
    help_text = runner.invoke(fake, ["inject", "--help"]).output
    listed = " ".join(help_text.split())                # undo click's wrapping
    for kind, spec in FAULTS.items():                    # every kind, every parameter
        assert f" {kind} " in listed
        for name, _meaning in spec.params:
            assert f"{name}: " in listed, (kind, name)
    with open_line(running, "5551001") as port:
        at(port, "AT")
        for line in help_text.splitlines():
            if line.strip().startswith("modemctl fake inject 5551001"):
                args = shlex.split(line.strip())[2:]
                r = runner.invoke(fake, args)
                assert r.exit_code == 0, (line, r.output)
        # The stall would swallow commands for 5 protocol seconds: clear it (and the rest).
        assert runner.invoke(fake, ["inject", "5551001", "clear"]).exit_code == 0
        port.write(b"AT\r")
        out = expect(port, b"OK\r\n")
        assert len(out[:out.index(b"AT\r")]) == 16  # the garbage
        r = runner.invoke(fake, ["inject", "5551001", "unsolicited", "--param",
                                 'lines=["MESSAGE-WAITING"]'])
        assert r.exit_code == 0
        port.write(b"AT\r")
        assert b"MESSAGE-WAITING" in expect(port, b"OK\r\n")
    r = runner.invoke(fake, ["inject", "5551001", "stall", "--param", "duration=-1"])
    assert r.exit_code == 1 and "duration must be a number >= 0" in r.output


def test_personality_from_a_file(fake_dir: Path) -> None:
    from modemctl.fake.personality import personality_dir

    text = (personality_dir() / "usr-v90.toml").read_text()
    text = text.replace('name = "usr-v90"', 'name = "my-modem"', 1)
    text = re.sub(r'(?m)^I3 = .*$', 'I3 = "MY MODEM 1.0"', text, count=1)
    mine = fake_dir / "my-modem.toml"
    mine.write_text(text)
    proc = start(fake_dir, "--json", "--time-scale", SCALE, "--line", f"5551001:{mine}")
    try:
        doc = json.loads(read_line(proc))
        assert doc["lines"][0]["personality"] == "my-modem"
        with serial.Serial(doc["lines"][0]["port"], 115200, timeout=0.2) as port:
            assert b"MY MODEM 1.0" in at(port, "ATI3")
    finally:
        assert stop(proc) == 0
    (fake_dir / "broken.toml").write_text("name = [")
    proc = start(fake_dir, "--json", "--line", f"5551001:{fake_dir / 'broken.toml'}")
    assert proc.wait(timeout=30) == 1
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert err.startswith("Error: line 5551001: cannot read personality file")
    assert "Traceback" not in err


def test_unplugged_line_leaves_ports_at_once_until_replug(running: Running) -> None:
    from modemctl.cli.ports import fake_ports

    both = [ln["port"] for ln in running.doc["lines"]]
    assert cli(running, "inject", "5551001", "unplug").returncode == 0
    # the reply comes after the registry was rewritten: no wait, no poll
    assert [i.number for i in registry.list_running_lines(running.directory)] == ["5551002"]
    assert [row.port for row in fake_ports()] == both[1:]
    assert cli(running, "inject", "5551001", "clear").returncode == 0
    assert [row.port for row in fake_ports()] == both[1:]          # clear does not plug in
    r = cli(running, "inject", "5551001", "replug")
    assert r.returncode == 0, r.stderr
    assert [row.port for row in fake_ports()] == both
    with open_line(running, "5551001") as port:
        assert at(port, "AT").endswith(b"OK\r\n")
