"""Global logging options: -v/-q levels, --log-format json, --trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl import log
from modemctl.cli import main
from modemctl.cli.context import Settings, configure_logging, log_level
from modemctl.cli.exitcodes import ExitCode
from modemctl.cli.terminal import use_json_lines
from tests.cli.fakes import FakeSwitch


@pytest.fixture(autouse=True)
def text_notices() -> Iterator[None]:
    """The CLI sets JSON notices process-wide; later tests expect text again."""
    yield
    use_json_lines(False)


@pytest.mark.parametrize(("verbosity", "trace", "level"), [
    (0, False, logging.WARNING), (1, False, logging.INFO), (2, False, logging.DEBUG),
    (5, False, logging.DEBUG), (-1, False, logging.ERROR), (-3, False, logging.CRITICAL),
    (0, True, logging.DEBUG), (-1, True, logging.DEBUG)])
def test_levels(verbosity: int, trace: bool, level: int) -> None:
    assert log_level(verbosity, trace) == level


def test_json_format_writes_one_json_object_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(verbosity=1, log_format="json"))
    log.get_logger(line="A").info("opened", port="/dev/x")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (event["event"], event["line"], event["port"], event["level"]) == (
        "opened", "A", "/dev/x", "info")


def test_trace_shows_bytes_but_not_other_debug_events(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    configure_logging(Settings(trace=True, log_format="json"))
    logger = log.get_logger()
    logger.debug("internal detail")
    log.trace_bytes(logger, "tx", b"ATI3\r")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert [e["event"] for e in lines] == ["trace"]
    assert lines[0]["text"] == "ATI3\r" and lines[0]["dir"] == "tx"   # escaped once, by JSON


def test_trace_with_vv_keeps_all_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(trace=True, verbosity=2, log_format="json"))
    log.get_logger().debug("internal detail")
    assert "internal detail" in capsys.readouterr().err


def test_quiet_hides_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(verbosity=-1))
    log.get_logger().warning("not shown")
    log.get_logger().error("shown")
    err = capsys.readouterr().err
    assert "not shown" not in err and "shown" in err


def test_json_progress_and_errors_are_json(runner: CliRunner, switch: FakeSwitch) -> None:
    party = switch.run(switch.exchange.ring_in("5551002", caller="5559999"))
    try:
        result = runner.invoke(main, ["--log-format", "json", "dial", switch.port("5551001"),
                                      "5551002"], catch_exceptions=False)
    finally:
        switch.run(party.hangup())
    assert result.exit_code == ExitCode.BUSY, result.output
    lines = [json.loads(line) for line in result.stderr.splitlines()]   # every line is JSON
    progress = [e["message"] for e in lines if e["event"] == "progress"]
    assert progress[0].startswith("dialling 5551002") and "call not connected: BUSY" in progress
    assert all(isinstance(e["elapsed"], float) for e in lines if e["event"] == "progress")


def test_json_error_is_one_object(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--log-format", "json", "probe", "/dev/ttyNOPE9"])
    assert result.exit_code == ExitCode.PORT_NOT_FOUND
    (error,) = [json.loads(line) for line in result.stderr.splitlines()]
    assert error["event"] == "error" and error["exit_status"] == ExitCode.PORT_NOT_FOUND
    assert error["message"].startswith("no serial port at /dev/ttyNOPE9")
    assert "modemctl ports" in error["hint"]


def test_json_trace_text_is_escaped_once(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--log-format", "json", "--trace", "at", "--timeout", "0.2",
                                  "loop://", "AT"])
    traces = [json.loads(line) for line in result.stderr.splitlines()
              if '"trace"' in line]
    assert traces and traces[0]["text"] == "AT\r", traces


def test_ports_json_gives_configured_lines_as_objects(runner: CliRunner,
                                                      config_file: Path) -> None:
    config_file.write_text('[line.office]\nport = "/dev/ttyUSB0"\nlocation = "CH"\n'
                           'secure = "best-effort"\ncancel_code = "*52"\n\n'
                           '[line.lab]\nport = "/dev/ttyS1"\n')
    result = runner.invoke(main, ["ports", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = [r for r in json.loads(result.stdout) if r["kind"] == "line"]
    assert sorted(lines, key=lambda r: r["name"]) == [
        {"kind": "line", "name": "lab", "port": "/dev/ttyS1", "location": None, "secure": None,
         "baudrate": None, "cancel_code": None, "cancel_code_pulse": None},
        {"kind": "line", "name": "office", "port": "/dev/ttyUSB0", "location": "CH",
         "secure": "best-effort", "baudrate": None, "cancel_code": "*52",
         "cancel_code_pulse": None}]
