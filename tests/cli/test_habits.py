"""Habits of cu, picocom and minicom users: speed, echo, quiet failures, ring counts."""

from __future__ import annotations

import json

from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from tests.cli.fakes import FakeSwitch, keyboard, type_then_close


def test_baud_sets_the_port_speed(runner: CliRunner, switch: FakeSwitch) -> None:
    result = runner.invoke(main, ["-vv", "--log-format", "json", "at", "-s", "9600",
                                  switch.port("5551001"), "AT"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    opened = [json.loads(line) for line in result.stderr.splitlines()
              if line.startswith("{") and '"port-opened"' in line]
    assert opened and all(e["baudrate"] == 9600 for e in opened), result.stderr


def test_baud_refuses_a_speed_no_port_has(runner: CliRunner) -> None:
    result = runner.invoke(main, ["dial", "--baud", "12345", "/dev/null", "5551234"])
    assert result.exit_code == ExitCode.USAGE and "--baud" in result.output


def test_quiet_failed_dial_still_says_why(runner: CliRunner, switch: FakeSwitch) -> None:
    party = switch.run(switch.exchange.ring_in("5551002", caller="5559999"))
    try:
        result = runner.invoke(main, ["-q", "dial", switch.port("5551001"), "5551002"],
                               catch_exceptions=False)
    finally:
        switch.run(party.hangup())
    assert result.exit_code == ExitCode.BUSY, result.output
    assert result.stderr == "call not connected: BUSY\n"
    assert result.stdout == ""


def test_echo_shows_what_is_typed(runner: CliRunner, switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002")
    with keyboard() as (stdin, type_, close):
        type_then_close(peer, type_, close, b"hello\r")
        result = runner.invoke(main, ["-q", "dial", "--echo", "--idle", "0.5",
                                      switch.port("5551001"), "5551002"], input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    # What was typed (echoed locally), then the far end's upper-cased echo of it.
    assert result.stdout_bytes.startswith(b"hello\rHELLO\r"), result.stdout_bytes


def test_answer_timeout_without_a_call_has_its_own_status(runner: CliRunner,
                                                          switch: FakeSwitch) -> None:
    result = runner.invoke(main, ["-q", "answer", "--timeout", "0.3", switch.port("5551002")],
                           catch_exceptions=False)
    assert result.exit_code == ExitCode.NO_CALL != ExitCode.NO_ANSWER
    assert result.stderr == "no call within 0.3 s\n"
