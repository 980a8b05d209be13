"""``modemctl demo``: the timeline must show the secured call surviving and the other dropping."""

from __future__ import annotations

import re

from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.demo import Outcome, conclusion, demo_passed


def test_demo_shows_secured_call_surviving_and_unsecured_dropping(runner: CliRunner) -> None:
    result = runner.invoke(main, ["demo", "--time-scale", "0.05"])
    out = result.output
    assert result.exit_code == 0, out
    secured, unsecured = out.split("1. SECURED call A -> B")[1].split("2. UNSECURED call A -> B")
    # The secured call: what securing applied, the call waiting, the survival with data.
    assert re.search(r"A\s+DIALING -> CONNECTED", secured)
    assert "SECURED (dial), by:" in secured and "cancel-code" in secured
    assert "pcw-ignore        verified  +PCW=2" in secured
    assert "5559999 (ALICE) calls A while A is in the call" in secured
    assert "ALICE hears busy: call waiting is cancelled for A's call" in secured
    assert "data arrived intact: the call SURVIVED call waiting" in secured
    assert re.search(r"A\s+CONNECTED -> DISCONNECTED \(NORMAL\)", secured)
    # The unsecured one: connected, data flowed, then call waiting dropped it.
    body, summary = unsecured.split("Secured:   ")
    assert "data arrived intact" in body
    assert "SECURED (dial)" not in body
    assert "5559999 (ALICE) calls A while A is in the call" in body
    assert "the call-waiting tone cost A's modem its data call" in body
    dropped = re.search(r"A\s+the call DROPPED \((\w+)\)", body)
    assert dropped, body
    # The RI pulse that tells call waiting from a plain NO CARRIER is polled over RFC 2217;
    # on a loaded machine it can be missed, and the drop is then a bare carrier loss.
    assert dropped.group(1) in ("CALLWAITING", "CARRIERLOST", "NORMAL")
    if dropped.group(1) == "CALLWAITING":
        assert re.search(r"A\s+call waiting seen \(RI during the call", body)
    assert "SURVIVED call waiting (data after: intact)" in summary
    assert re.search(r"Unsecured: DROPPED call waiting", summary)
    assert "The secured call survived call waiting" in summary
    # Timestamps are relative, in simulated seconds, and increase within a scenario.
    stamps = [float(s) for s in re.findall(r"^\s+(\d+\.\d\d)s ", secured, re.M)]
    assert stamps and stamps[0] < 1.0 and stamps == sorted(stamps)


def test_verdict_needs_both_halves() -> None:
    good = Outcome("SECURED", True, connected=True, data_before=True, survived=True,
                   data_after=True, secured_by=("cancel-code",), party="busy")
    dropped = Outcome("UNSECURED", False, connected=True, data_before=True, survived=False,
                      reason="CARRIERLOST")
    assert demo_passed(good, dropped)
    assert not demo_passed(good, Outcome("UNSECURED", False, connected=True, survived=True))
    no_data = Outcome("SECURED", True, connected=True, data_before=True, survived=True)
    assert not demo_passed(no_data, dropped)
    assert not demo_passed(good, Outcome("UNSECURED", False))      # never connected
    assert "did NOT show the expected result" in conclusion(no_data, dropped)
    assert "cancel-code" in conclusion(good, dropped)
