"""Errors that tell the truth: what happened, in plain words, one prefix style."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl import errors
from modemctl.cli import main
from modemctl.cli.context import Settings
from modemctl.cli.exitcodes import ExitCode
from modemctl.cli.failures import describe, plain
from tests.cli.procs import fake_exchange, run


def test_a_fake_line_at_another_time_scale_is_named_as_the_cause(tmp_path: Path) -> None:
    with fake_exchange(tmp_path, "5551001:conexant-v92") as (doc, env):
        port = str(doc["lines"][0]["port"])
        # This command's clock runs 100x faster than the exchange's: the dial times out.
        result = run(["--time-scale", "0.0005", "at", port, "ATDT5551009"], env)
    assert result.returncode == ExitCode.MODEM_FAILED, result.stderr
    assert "is fake line 5551001, whose exchange runs at --time-scale 0.05" in result.stderr
    assert "power" not in result.stderr


def test_a_fake_line_sets_the_time_scale_when_none_is_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_exchange(tmp_path, "5551001:conexant-v92") as (doc, env):
        monkeypatch.setenv("MODEMCTL_FAKE_DIR", env["MODEMCTL_FAKE_DIR"])
        port = str(doc["lines"][0]["port"])
        followed, given = Settings(), Settings(time_scale=0.5, time_scale_given=True)
        followed.target(port)
        given.target(port)
    assert followed.time_scale == 0.05 and followed.scale_mismatch is None
    assert given.time_scale == 0.5 and "runs at --time-scale 0.05" in str(given.scale_mismatch)


def test_an_echo_alone_is_not_called_garbage() -> None:
    lines = describe(errors.CommandTimeout("ATDT5551009", 0.25, ["ATDT5551009"]))
    text = "\n".join(lines)
    assert "only the command came back" in text and "garble" not in text


def test_garbage_from_the_port_is_not_called_a_missing_modem() -> None:
    lines = describe(errors.CommandTimeout("AT", 1.0, ["\x7f\x03~~x"]))
    text = "\n".join(lines)
    assert "instead" in text and "wrong speed" in text
    assert "is a modem on this port" not in text


def test_pyserial_text_is_said_plainly() -> None:
    nested = ("no serial port at /dev/ttyNOPE: [Errno 2] could not open port /dev/ttyNOPE: "
              "[Errno 2] No such file or directory: '/dev/ttyNOPE'")
    assert plain(nested) == "no serial port at /dev/ttyNOPE: No such file or directory"
    assert plain("cannot open /dev/null: Could not configure port: "
                 "(25, 'Inappropriate ioctl for device')") == \
        "cannot open /dev/null: Inappropriate ioctl for device"


def test_not_a_serial_port_says_so(runner: CliRunner) -> None:
    result = runner.invoke(main, ["probe", "/dev/null"])
    assert result.exit_code == ExitCode.MODEM_FAILED, result.output
    assert "(25," not in result.output and "[Errno" not in result.output
    assert "hint: that is not a serial port" in result.output


def test_one_prefix_style_for_usage_errors(runner: CliRunner) -> None:
    result = runner.invoke(main, ["dial", "--bogus"])
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("error: No such option '--bogus'")
    assert "Error:" not in result.output
    assert "hint: usage: " in result.output and " dial [OPTIONS] PORT NUMBER" in result.output


def test_a_missing_config_named_by_the_environment_is_an_error(
        runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["ports"], env={"MODEMCTL_CONFIG": str(tmp_path / "nope.toml")})
    assert result.exit_code == ExitCode.CONFIG, result.output
    assert "nope.toml: no such file (named by MODEMCTL_CONFIG)" in result.output


def test_at_command_without_port_is_not_taken_for_a_line_name(runner: CliRunner) -> None:
    result = runner.invoke(main, ["at", "ATI3"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "'ATI3' is an AT command, not a port" in result.output
    assert "[line.ATI3]" not in result.output


def test_best_effort_and_no_secure_contradict(runner: CliRunner) -> None:
    result = runner.invoke(main, ["dial", "--best-effort", "--no-secure", "/dev/null", "1"])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "--best-effort and --no-secure contradict each other" in result.output
