"""``modemctl hil run`` end to end: the fake rig's CI subset, and a rig whose modem is gone.

The printed table and summary must say exactly what the JUnit XML (written
by pytest's own junitxml plugin, not by us) says the suite ran.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support import require_program

Rows = dict[tuple[str, str], tuple[str, str]]


def hil_run(*args: str, limit: float = 170) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "modemctl", "hil", "run", *args],
                          capture_output=True, text=True, timeout=limit, check=False)


def table(stdout: str) -> tuple[Rows, str]:
    """(test, modem) -> (result, reason) from the results table, and the summary line."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"test\s+modem\s+result", line))
    rows: Rows = {}
    for line in lines[start + 2:]:
        if re.fullmatch(r"\d+ passed, \d+ failed, \d+ skipped", line):
            return rows, line
        test, modem, result, *reason = re.split(r"\s{2,}", line, maxsplit=3)
        rows[(test, modem)] = (result, reason[0] if reason else "")
    raise AssertionError("no summary line")


def junit(path: Path) -> Rows:
    rows: Rows = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("name", "")
        test, _, param = name.partition("[")
        failed = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped")
        if failed is not None:
            rows[(test, param.rstrip("]"))] = ("failed", "")
        elif skipped is not None:
            rows[(test, param.rstrip("]"))] = ("skipped", skipped.get("message", ""))
        else:
            rows[(test, param.rstrip("]"))] = ("passed", "")
    return rows


@pytest.mark.timeout(240)
def test_fake_rig_ci_subset_passes_and_the_table_matches_junit(tmp_path: Path) -> None:
    require_program("ser2net")
    xml = tmp_path / "hil.xml"
    done = hil_run("--fake-rig", "ci", "--junit", str(xml))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "usr-v90-ser2net" in done.stdout and "port lines" in done.stdout
    rows, summary = table(done.stdout)
    expected = junit(xml)
    assert {k: v[0] for k, v in rows.items()} == {k: v[0] for k, v in expected.items()}
    for key, (result, reason) in rows.items():
        if result == "skipped":
            assert reason and reason in expected[key][1], (key, reason)
    counts = [sum(1 for r, _ in rows.values() if r == w) for w in ("passed", "failed", "skipped")]
    assert summary == f"{counts[0]} passed, {counts[1]} failed, {counts[2]} skipped"
    assert counts[0] > 0 and counts[1] == 0
    # Through ser2net: the probe, and calls that do not hold a carrier, run and pass ...
    assert rows[("test_probe_identifies_the_profile", "usr-v90-ser2net")] == ("passed", "")
    assert rows[("test_busy", "usr-v90-ser2net->hayes-basic-pty")] == ("passed", "")
    # ... and calls that hold one: ser2net with 'local' reports DCD stuck low,
    # which the driver learns is dead instead of ending the call.
    for pair in ("agere-v92-pty->usr-v90-ser2net", "usr-v90-ser2net->hayes-basic-pty"):
        assert rows[("test_data_integrity_both_ways", pair)] == ("passed", "")
        assert rows[("test_secured_at_dial_survives_call_waiting", pair)] == ("passed", "")
    # The ones the fake rig cannot run say why, never silently.
    assert rows[("test_fax_send_and_receive", "conexant-v92-rfc2217->agere-v92-pty")][0] in (
        "passed", "skipped")
    assert rows[("test_dtr_drop_ends_the_call", "agere-v92-pty->usr-v90-ser2net")] == (
        "skipped", "agere-v92-pty: its port does not carry DTR (rig file modem_lines)")


def test_a_modem_that_is_not_there_fails_the_run(tmp_path: Path) -> None:
    rig = tmp_path / "rig.toml"
    rig.write_text('[rig]\nname = "gone"\n[[modem]]\nname = "m1"\n'
                   f'url = "{tmp_path}/ttyNONE"\nprofile = "usr"\nline = "101"\n')
    xml = tmp_path / "hil.xml"
    done = hil_run("--rig", str(rig), "--junit", str(xml), "-k", "probe", limit=60)
    assert done.returncode == 1, done.stdout + done.stderr
    rows, summary = table(done.stdout)
    assert summary == "0 passed, 2 failed, 0 skipped"
    assert {k: v[0] for k, v in rows.items()} == {k: v[0] for k, v in junit(xml).items()}
    assert all(reason for _, reason in rows.values())


def test_a_bad_rig_file_is_reported(tmp_path: Path) -> None:
    rig = tmp_path / "rig.toml"
    rig.write_text("[[modem]]\nname = 1\n")
    done = hil_run("--rig", str(rig), limit=60)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "rig.toml" in done.stderr and "'name' must be a non-empty string" in done.stderr
