"""``modemctl`` as real processes against ``modemctl fake run`` (another process)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from modemctl.cli.exitcodes import ExitCode
from tests.cli.procs import MODEMCTL, Fake, Proc, cli_env, far_end, port_of, run


def test_python_dash_m_runs_the_cli(fake: Fake) -> None:
    _doc, env = fake
    result = run(["--version"], env)
    assert result.returncode == 0 and "modemctl, version" in result.stdout


def test_ports_lists_the_running_fake_lines(fake: Fake) -> None:
    doc, env = fake
    result = run(["ports", "--json"], env)
    assert result.returncode == 0, result.stderr
    fakes = {r["port"]: r["description"] for r in json.loads(result.stdout) if r["kind"] == "fake"}
    assert fakes == {port_of(doc, "5551001"): "fake conexant-v92, number 5551001",
                     port_of(doc, "5551002"): "fake agere-v92, number 5551002"}


def test_probe_and_at_against_the_fake_process(fake: Fake) -> None:
    doc, env = fake
    probed = run(["probe", "--json", port_of(doc, "5551002")], env)
    assert probed.returncode == 0, probed.stderr
    caps = json.loads(probed.stdout)
    assert caps["profile"] == "agere" and caps["v92"] is True
    assert {m["name"] for m in caps["mechanisms"] if m["at_dial"]} >= {"cancel-code",
                                                                       "pcw-ignore"}
    at = run(["at", port_of(doc, "5551001"), "ATI3", "AT+PCW?"], env)
    assert at.returncode == 0, at.stderr
    assert at.stdout.splitlines() == ["CX93001-EIS_V0.2002-V92", "OK", "+PCW: 0", "OK"]


def test_busy_port_between_processes(fake: Fake) -> None:
    doc, env = fake
    port = port_of(doc, "5551001")
    holder = Proc([*MODEMCTL, "at", port], env, stdin=True)    # console keeps the port open
    try:
        holder.type(b"ATI3\n")
        assert holder.wait_for(b"OK", "out"), str(holder)
        second = run(["at", port, "AT"], env)
        assert second.returncode == ExitCode.PORT_BUSY, second.stderr
        assert f"process {holder.popen.pid}" in second.stderr
        assert f"kill {holder.popen.pid}" in second.stderr
    finally:
        holder.close_stdin()
        assert holder.finish() == 0, str(holder)


def test_dial_and_answer_processes_talk_and_tilde_dot_ends_it(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env)
    dial = None
    try:
        dial = Proc([*MODEMCTL, "dial", "--secure", "-e", "~", port_of(doc, "5551001"),
                     "5551002"], env, stdin=True)
        assert answer.wait_for(b"incoming call: 5551001"), str(answer)
        assert dial.wait_for(b"SECURED (dial)"), str(dial)
        assert answer.wait_for(b"connected; input is data"), str(answer)   # piped: no escape
        assert dial.wait_for(b"connected; type ~?"), str(dial)
        dial.type(b"ping from A\r")
        assert answer.wait_for(b"ping from A\r", "out"), str(answer)
        answer.type(b"pong from B\r\n")
        assert dial.wait_for(b"pong from B\r\n", "out"), str(dial)
        dial.type(b"~.")
        assert dial.finish() == ExitCode.OK, str(dial)
        # The far end's hang-up is a bare NO CARRIER on a pty: not a clean exit.
        assert answer.finish() == ExitCode.ENDED_UNEXPLAINED, str(answer)
    finally:
        answer.stop()
        if dial is not None:
            dial.stop()
    assert b"hung up locally (~.)" in dial.err and b"call ended: NORMAL" in dial.err
    assert b"call ended: NORMAL" in answer.err


def test_answer_shows_the_caller_rung_by_fake_ring(fake: Fake) -> None:
    doc, env = fake
    answer = Proc([*MODEMCTL, "answer", "--rings", "2", port_of(doc, "5551002")], env,
                  stdin=True)
    try:
        assert answer.wait_for(b"waiting for a call"), str(answer)
        rang = run(["fake", "ring", "5551002", "--caller", "5559999", "--name", "ALICE"], env)
        assert rang.returncode == 0, rang.stderr
        assert answer.wait_for(b"incoming call: 5559999 (ALICE)"), str(answer)
        assert answer.wait_for(b"RING #2"), str(answer)
        assert answer.wait_for(b"connected;"), str(answer)
        hung = run(["fake", "hangup", "5551002"], env)
        assert hung.returncode == 0, hung.stderr
        assert answer.finish() == ExitCode.ENDED_UNEXPLAINED, str(answer)
    finally:
        answer.stop()
    assert b"call ended: NORMAL" in answer.err


def test_ctrl_c_while_dialling_hangs_up_and_frees_the_port(fake: Fake) -> None:
    doc, env = fake
    port = port_of(doc, "5551001")
    dial = Proc([*MODEMCTL, "dial", port, "5551002"], env, stdin=True)
    try:
        assert dial.wait_for(b"DIALTONE -> DIALING"), str(dial)
        dial.popen.send_signal(signal.SIGINT)
        assert dial.finish() == ExitCode.INTERRUPTED, str(dial)
    finally:
        dial.stop()
    assert b"interrupted" in dial.err and b"Traceback" not in dial.err
    after = run(["at", port, "ATH", "AT"], env)        # port and lock released, modem usable
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == ["OK", "OK"]


def test_ctrl_c_as_the_call_connects_exits_quietly_and_leaves_the_modem_on_hook(
        fake: Fake) -> None:
    """Issue 8 item 7: interrupted the moment the call is up, ``dial`` hangs up
    (the modem is online in data mode: an escape on this DTR-less pty) and
    exits with nothing but its progress and the reason at the default
    verbosity; the bound on how long that takes is the driver's test
    (tests/driver/test_ctrl_c.py), in guard times."""
    doc, env = fake
    answer = far_end(doc, env)
    dial = Proc([*MODEMCTL, "dial", port_of(doc, "5551001"), "5551002"], env, stdin=True)
    try:
        assert dial.wait_for(b"-> CONNECTED"), str(dial)
        dial.popen.send_signal(signal.SIGINT)
        assert dial.finish(limit=10) == ExitCode.INTERRUPTED, str(dial)
    finally:
        answer.stop()
        dial.stop()
    lines = dial.err.decode().splitlines()
    assert lines[-1] == "error: interrupted", str(dial)
    progress = re.compile(r"\[ *\d+\.\d\ds\] ")
    assert all(progress.match(line) for line in lines[:-1]), str(dial)    # no log lines
    listed = run(["fake", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    states = {line["number"]: line["state"] for line in json.loads(listed.stdout)}
    assert states["5551001"] == "command"          # on-hook, in command mode


def test_bash_completion_end_to_end(tmp_path: Path) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    (tmp_path / "config.toml").write_text('[line.office]\nport = "/dev/ttyUSB0"\n')
    env = cli_env(tmp_path, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    script = ('eval "$(_MODEMCTL_COMPLETE=bash_source modemctl)"; '
              'COMP_WORDS=(modemctl di); COMP_CWORD=1; _modemctl_completion modemctl; '
              'echo "[${COMPREPLY[*]}]"; COMPREPLY=(); '
              'COMP_WORDS=(modemctl dial of); COMP_CWORD=2; _modemctl_completion modemctl; '
              'echo "[${COMPREPLY[*]}]"')
    result = subprocess.run([bash, "-c", script], env=env, capture_output=True, text=True,
                            timeout=30, check=False)
    assert result.stdout.splitlines() == ["[dial]", "[office]"], result.stderr


def test_piped_console_dials_talks_and_returns(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env)
    console = None
    try:
        console = Proc([*MODEMCTL, "at", port_of(doc, "5551001")], env, stdin=True)
        # All typed at once: the bytes after the ATD line belong to the call, then ~.
        # returns to the console, which reads the next command.
        console.type(b"ATDT5551002\nhello B\r~.ATI3\nquit\n")
        assert answer.wait_for(b"hello B\r", "out"), str(answer)
        assert console.finish() == 0, str(console)
        assert answer.finish() == ExitCode.ENDED_UNEXPLAINED, str(answer)
    finally:
        answer.stop()
        if console is not None:
            console.stop()
    out = console.out.decode()
    assert out.startswith("CONNECT") and out.rstrip().endswith("CX93001-EIS_V0.2002-V92\nOK")
