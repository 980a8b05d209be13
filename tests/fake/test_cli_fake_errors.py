"""``modemctl fake``: option parsing and error paths that need no running exchange."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from modemctl.cli.fake import LineSpec, fake, parse_line_spec, parse_param
from modemctl.fake import registry


@pytest.fixture
def fake_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="mc-", dir="/tmp") as d:
        monkeypatch.setenv(registry.ENV_DIR, d)
        yield Path(d)


def test_group_without_subcommand_prints_help() -> None:
    r = CliRunner().invoke(fake, [])
    assert r.exit_code == 0
    assert "Fake modems on a simulated telephone exchange" in r.output
    for sub in ("run", "ring", "inject", "hangup", "carrier-loss", "dead", "list"):
        assert sub in r.output


@pytest.mark.parametrize(("text", "spec"), [
    ("5551001:conexant-v92", LineSpec("5551001", "conexant-v92", False)),
    ("5551002:agere-v92:rfc2217", LineSpec("5551002", "agere-v92", True)),
    ("*70#:usr-v90", LineSpec("*70#", "usr-v90", False)),
    ("5551003:hayes-basic:cancel=T*52,P1152",
     LineSpec("5551003", "hayes-basic", False, (("T", "*52"), ("P", "1152")))),
    ("5551003:hayes-basic:cancel=T*52:rfc2217",
     LineSpec("5551003", "hayes-basic", True, (("T", "*52"),))),
])
def test_line_spec_parses(text: str, spec: LineSpec) -> None:
    assert parse_line_spec(text) == spec


@pytest.mark.parametrize(("text", "message"), [
    ("5551001", "expected NUMBER:PERSONALITY"),
    ("5551001:", "expected NUMBER:PERSONALITY"),
    ("a:b:c:d:e", "expected NUMBER:PERSONALITY"),
    ("555-1001:conexant-v92", "1-32 of 0-9"),
    ("1" * 33 + ":conexant-v92", "1-32 of 0-9"),
    ("5551001:conexant-v92:tcp", "line options are 'rfc2217' and 'cancel=CODES'"),
    ("5551001:conexant-v92:rfc2217:rfc2217", "each once"),
    ("5551001:conexant-v92:cancel=*52", "a cancel code is T or P and 2-8 of"),
    ("5551001:conexant-v92:cancel=T*52;ATH", "a cancel code is T or P and 2-8 of"),
])
def test_bad_line_spec_says_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(click.BadParameter, match=message):
        parse_line_spec(text)


def test_run_rejects_bad_lines_before_starting(fake_dir: Path) -> None:
    r = CliRunner().invoke(fake, ["run", "--line", "5551001:x", "--line", "5551001:y"])
    assert r.exit_code == 2
    assert "line 5551001 is given twice" in r.output
    r = CliRunner().invoke(fake, ["run", "--line", "nope"])
    assert r.exit_code == 2 and "expected NUMBER:PERSONALITY" in r.output
    r = CliRunner().invoke(fake, ["run", "--time-scale", "0"])
    assert r.exit_code == 2 and "--time-scale" in r.output
    assert list(fake_dir.iterdir()) == []


@pytest.mark.parametrize(("text", "pair"), [
    ("count=8", ("count", 8)), ("rate=0.5", ("rate", 0.5)), ("on=true", ("on", True)),
    ("text=RING", ("text", "RING")), ('text="8"', ("text", "8")), ("x=", ("x", "")),
    ("text=a=b", ("text", "a=b")),
])
def test_inject_params(text: str, pair: tuple[str, object]) -> None:
    assert parse_param(text) == pair


def test_bad_inject_param(fake_dir: Path) -> None:
    r = CliRunner().invoke(fake, ["inject", "5551001", "garbage", "--param", "count"])
    assert r.exit_code == 2
    assert "expected NAME=VALUE" in r.output


@pytest.mark.parametrize("args", [
    ["ring", "5551001"], ["inject", "5551001", "garbage"], ["hangup", "5551001"],
    ["carrier-loss", "5551001"], ["dead", "5551001"],
])
def test_no_exchange_running_is_actionable(fake_dir: Path, args: list[str]) -> None:
    r = CliRunner().invoke(fake, args)
    assert r.exit_code == 1
    assert "no fake exchange is running; start one with `modemctl fake run`" in r.output
    assert "Traceback" not in r.output


def test_list_with_nothing_running(fake_dir: Path) -> None:
    r = CliRunner().invoke(fake, ["list"])
    assert r.exit_code == 0
    assert "no fake exchange is running" in r.output
    r = CliRunner().invoke(fake, ["list", "--json"])
    assert json.loads(r.output) == []


def test_unknown_number_names_the_running_lines(fake_dir: Path) -> None:
    with registry.register([("5551001", "conexant-v92", "/dev/pts/1", None)],
                           control=str(fake_dir / "x.sock")):
        r = CliRunner().invoke(fake, ["ring", "5551009"])
    assert r.exit_code == 1
    assert "no running fake exchange has line 5551009 (running lines: 5551001)" in r.output


def test_registered_but_dead_socket_is_actionable(fake_dir: Path) -> None:
    path = fake_dir / "x.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()
    with registry.register([("5551001", "conexant-v92", "/dev/pts/1", None)],
                           control=str(path)):
        r = CliRunner().invoke(fake, ["hangup", "5551001"])
    assert r.exit_code == 1
    assert "no fake exchange listens on" in r.output
    assert "is `modemctl fake run` still running?" in r.output


def test_explicit_control_path_that_does_not_exist(fake_dir: Path) -> None:
    r = CliRunner().invoke(fake, ["list", "--control", str(fake_dir / "none.sock")])
    assert r.exit_code == 1
    assert "no fake exchange listens on" in r.output


def test_stale_registry_entries_are_not_used(fake_dir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=10)
    (fake_dir / f"exchange-{proc.pid}.json").write_text(json.dumps(
        {"version": 1, "pid": proc.pid, "control": "/nonexistent.sock", "lines": [
            {"number": "5551001", "personality": "x", "port": "/dev/pts/1", "url": None}]}))
    r = CliRunner().invoke(fake, ["ring", "5551001"])
    assert "no fake exchange is running" in r.output
    assert os.listdir(fake_dir) == []


def test_number_on_two_exchanges_is_ambiguous(fake_dir: Path) -> None:
    # Two live registrations: ours, and one written for our parent process.
    with registry.register([("5551001", "conexant-v92", "/dev/pts/1", None)],
                           control=str(fake_dir / "a.sock")):
        (fake_dir / f"exchange-{os.getppid()}.json").write_text(json.dumps(
            {"version": 1, "pid": os.getppid(), "control": str(fake_dir / "b.sock"),
             "lines": [{"number": "5551001", "personality": "x", "port": "/dev/pts/2",
                        "url": None}]}))
        r = CliRunner().invoke(fake, ["ring", "5551001"])
    assert r.exit_code == 1
    assert "line 5551001 is on 2 running exchanges" in r.output
    assert "pass --control PATH" in r.output


def test_list_skips_an_unreachable_exchange_with_a_warning(fake_dir: Path) -> None:
    with registry.register([("5551001", "conexant-v92", "/dev/pts/1", None)],
                           control=str(fake_dir / "gone.sock")):
        r = CliRunner().invoke(fake, ["list", "--json"])
    assert r.exit_code == 0
    assert "warning: no fake exchange listens on" in r.stderr
    assert json.loads(r.stdout) == []


def test_shell_completion_of_numbers_and_fault_kinds(fake_dir: Path) -> None:
    from modemctl.cli.fake import complete_fault, complete_number

    ctx = click.Context(fake)
    param = click.Argument(["x"])
    assert complete_number(ctx, param, "") == []
    with registry.register([("5551001", "conexant-v92", "/dev/pts/1", None),
                            ("5552001", "usr-v90", "/dev/pts/2", None)], control=None):
        assert [c.value for c in complete_number(ctx, param, "5551")] == ["5551001"]
        assert [c.value for c in complete_number(ctx, param, "")] == ["5551001", "5552001"]
    assert [c.value for c in complete_fault(ctx, param, "s")] == ["stall", "stored-profile", "slow"]
