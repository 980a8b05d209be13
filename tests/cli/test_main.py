"""The command group itself: global options, ports, config errors, completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl import __version__
from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from modemctl.fake import registry


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_unknown_command_is_a_usage_error(runner: CliRunner) -> None:
    result = runner.invoke(main, ["frobnicate"])
    assert result.exit_code == ExitCode.USAGE
    assert "No such command" in result.output


def test_ports_lists_running_fake_lines(runner: CliRunner, isolated_env: Path) -> None:
    with registry.register([("5551001", "conexant-v92", "/dev/pts/99", None),
                            ("5551002", "agere-v92", "/dev/pts/98", "rfc2217://127.0.0.1:7")],
                           control=None):
        result = runner.invoke(main, ["ports"])
        assert result.exit_code == 0, result.output
        assert "/dev/pts/99" in result.output
        assert "fake conexant-v92, number 5551001" in result.output
        assert "also rfc2217://127.0.0.1:7" in result.output
        as_json = runner.invoke(main, ["ports", "--json"])
    rows = json.loads(as_json.output)
    assert {"kind": "fake", "port": "/dev/pts/98",
            "description": "fake agere-v92, number 5551002, also rfc2217://127.0.0.1:7"} in rows
    assert all(r["kind"] in ("serial", "fake", "line") for r in rows)
    gone = runner.invoke(main, ["ports", "--json"])
    assert "/dev/pts/99" not in gone.output


def test_ports_shows_configured_lines(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text('[line.office]\nport = "/dev/ttyUSB0"\nsecure = true\n')
    result = runner.invoke(main, ["ports"])
    assert result.exit_code == 0
    assert "office -> /dev/ttyUSB0" in result.output and "secure true" in result.output


def test_malformed_config_is_reported_with_its_path(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text("[line.office\n")
    result = runner.invoke(main, ["ports"])
    assert result.exit_code == ExitCode.CONFIG
    assert f"error: config {config_file}: not valid TOML" in result.output
    assert "Traceback" not in result.output


def test_verbose_adds_the_traceback(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text("[line.office\n")
    result = runner.invoke(main, ["-v", "ports"])
    assert result.exit_code == ExitCode.CONFIG
    assert "Traceback" in result.output and "TOMLDecodeError" in result.output


def test_shell_completion_script_is_generated(runner: CliRunner) -> None:
    result = runner.invoke(main, [], prog_name="modemctl",
                           env={"_MODEMCTL_COMPLETE": "bash_source"})
    assert result.exit_code == 0
    assert "_MODEMCTL_COMPLETE=bash_complete" in result.output


def test_completion_offers_line_names(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text('[line.office]\nport = "/dev/ttyUSB0"\n')
    env = {"_MODEMCTL_COMPLETE": "bash_complete", "COMP_WORDS": "modemctl probe of",
           "COMP_CWORD": "2", "MODEMCTL_CONFIG": str(config_file)}
    result = runner.invoke(main, [], prog_name="modemctl", env=env)
    assert "plain,office" in result.output.splitlines()


def test_a_bug_is_reported_briefly_and_with_traceback_under_v(
        runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from modemctl.cli import ports

    def boom() -> list[ports.PortRow]:
        raise RuntimeError("boom")

    monkeypatch.setattr(ports, "serial_ports", boom)
    result = runner.invoke(main, ["ports"])
    assert result.exit_code == ExitCode.ERROR
    assert "error: modemctl failed unexpectedly (RuntimeError)" in result.output
    assert "boom" not in result.output                # raw Python text is for -v
    assert "Traceback" not in result.output
    verbose = runner.invoke(main, ["-v", "ports"])
    assert isinstance(verbose.exception, RuntimeError)


def test_time_scale_option_and_environment(runner: CliRunner) -> None:
    assert "--time-scale S" in runner.invoke(main, ["--help"]).output
    bad = runner.invoke(main, ["ports"], env={"MODEMCTL_TIME_SCALE": "-1"})
    assert bad.exit_code == ExitCode.USAGE and "--time-scale" in bad.output


def test_completion_offers_locations(runner: CliRunner) -> None:
    env = {"_MODEMCTL_COMPLETE": "bash_complete", "COMP_WORDS": "modemctl dial --location ",
           "COMP_CWORD": "3"}
    result = runner.invoke(main, [], prog_name="modemctl", env=env)
    assert {"plain,US", "plain,CA", "plain,DE"} <= set(result.output.splitlines())


def test_unknown_location_lists_the_known_ones(runner: CliRunner) -> None:
    result = runner.invoke(main, ["probe", "--location", "XX", "/dev/ttyNOPE9"])
    assert result.exit_code == ExitCode.USAGE
    assert "'XX' is not a known location (known: AT, AU, BE," in result.output


def test_fake_group_is_registered(runner: CliRunner) -> None:
    result = runner.invoke(main, ["fake", "--help"])
    assert result.exit_code == 0, result.output
    assert "run" in result.output and "ring" in result.output
    assert "fake" in runner.invoke(main, ["--help"]).output
