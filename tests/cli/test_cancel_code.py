"""``--cancel-code`` and the config's ``cancel_code``: secure dials where a location has none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from tests.cli.fakes import FakeSwitch, keyboard, type_then_close

pytestmark = pytest.mark.usefixtures("scaled")

#: 5551003 is hayes-basic: no +PCW and no safe S10, so only a cancel code can secure it.
HAYES = "5551003"


def invoke(runner: CliRunner, *args: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return runner.invoke(main, list(args), catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def test_nz_secure_dial_with_the_carriers_code(runner: CliRunner, switch: FakeSwitch) -> None:
    line = switch.exchange.lines[HAYES]
    line.cancel_codes = (("T", "*52"),)            # the line's carrier cancels with *52
    peer = switch.echo_peer("5551002")
    with keyboard() as (stdin, type_, close):
        type_then_close(peer, type_, close, b"hi\r")
        result = runner.invoke(main, ["dial", "--secure", "--location", "NZ", "--cancel-code",
                                      "*52", switch.port(HAYES), "5551002"], input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    assert "SECURED (dial)" in result.output
    record = next(r for r in line.call_log if r.direction == "out")
    assert record.dialled.startswith("T*52,") and record.cancel_code
    assert peer.ended.wait(10)


def test_probe_says_which_code_and_whose(runner: CliRunner, switch: FakeSwitch) -> None:
    none = invoke(runner, "probe", "--location", "NZ", switch.port(HAYES))
    assert none.exit_code == 0, none.output
    assert ("cancel code none: securing by cancel code is unavailable; give your carrier's "
            "code with --cancel-code CODE") in none.output
    assert "dial --secure applies: nothing" in none.output
    given = invoke(runner, "probe", "--location", "NZ", "--cancel-code", "*52", "--json",
                   switch.port(HAYES))
    assert given.exit_code == 0, given.output
    found = json.loads(given.output)
    assert found["cancel_code"] == {"tone": "*52,", "pulse": None, "source": "user"}
    assert "cancel-code" in found["dial_secure_applies"]
    us = invoke(runner, "probe", switch.port(HAYES))
    assert "cancel code *70, (pulse 1170,), US's default" in us.output


def test_the_config_gives_the_code_and_the_command_line_wins(
        runner: CliRunner, switch: FakeSwitch, config_file: Path) -> None:
    config_file.write_text(f'[line.home]\nport = "{switch.port(HAYES)}"\nlocation = "NZ"\n'
                           'cancel_code = "*52"\ncancel_code_pulse = "1152"\n')
    from_config = invoke(runner, "probe", "--json", "home")
    assert json.loads(from_config.output)["cancel_code"] == {
        "tone": "*52,", "pulse": "1152,", "source": "user"}
    # Given on the command line, the pair replaces the config's pair.
    given = invoke(runner, "probe", "--json", "--cancel-code", "*70", "home")
    assert json.loads(given.output)["cancel_code"] == {
        "tone": "*70,", "pulse": None, "source": "user"}


@pytest.mark.parametrize(("args", "fragment"), [
    (["--cancel-code", "*52;ATS0=1"], "Invalid value for '--cancel-code': only the dial digits"),
    (["--cancel-code", "AT"], "Invalid value for '--cancel-code'"),
    (["--cancel-code", "*52", "--cancel-code-pulse", "*52"],
     "Invalid value for '--cancel-code-pulse': pulse dialling sends only the digits 0-9"),
    (["--cancel-code-pulse", "1152"], "--cancel-code-pulse needs --cancel-code"),
])
def test_a_bad_code_is_a_usage_error_before_the_port_is_opened(
        runner: CliRunner, args: list[str], fragment: str) -> None:
    result = invoke(runner, "dial", *args, "/dev/ttyNOPE9", "5551002")
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_a_bad_code_in_the_config_names_file_and_line(runner: CliRunner,
                                                      config_file: Path) -> None:
    config_file.write_text('[line.home]\nport = "/dev/ttyNOPE9"\ncancel_code = "*52!"\n')
    result = invoke(runner, "probe", "home")
    assert result.exit_code != 0
    assert f"{config_file}:3" in result.output and "cancel_code" in result.output
