"""``modemctl dial`` with secret digits in braces: dialled, never printed or traced."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from tests.cli.fakes import FakeSwitch

pytestmark = pytest.mark.usefixtures("scaled")
PIN = "86420"


def test_dial_with_secret_digits_traces_the_dial_but_not_the_digits(
        runner: CliRunner, switch: FakeSwitch) -> None:
    switch.exchange.set_line_dead("5551001", True)      # NO DIALTONE: quick, after ATD went out
    result = runner.invoke(main, ["--trace", "--log-format", "json", "dial",
                                  switch.port("5551001"), "5551002,,,{" + PIN + "}#"],
                           catch_exceptions=False)
    assert result.exit_code == ExitCode.NO_DIALTONE, result.output
    # stderr alone: the runner's interleaved output can overlap the two streams' lines
    assert "dialling 5551002,,,***# on" in result.stderr
    assert '"text": "ATDT5551002,,,*****#\\r"' in result.stderr      # the trace saw the dial
    assert PIN not in result.output and PIN.encode().hex(" ") not in result.output
    assert PIN not in result.stderr and PIN.encode().hex(" ") not in result.stderr
