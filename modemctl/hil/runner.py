"""``modemctl hil run``: run the conformance suite in-process and report per modem.

pytest runs the suite shipped in the package (its own settings file, so an
installed wheel behaves as a checkout); a collector plugin records each
test's outcome as pytest reports it, with the modem or pair from the
plugin's ``modem`` property.  The capability matrix is printed once the rig
is up, the table and the summary at the end; the exit status is 0 only when
nothing failed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

import modemctl.hil.suite
from modemctl.hil.plugin import HARNESS
from modemctl.hil.report import Outcome, Result, capability_matrix, results_table, summary

SUITE = Path(modemctl.hil.suite.__file__).parent


def _reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    if report.failed:
        crash = getattr(longrepr, "reprcrash", None)
        return str(crash.message).splitlines()[0] if crash is not None else report.when
    return ""


class Collector:
    """A pytest plugin object: one :class:`Result` per test, in the order they ran."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.results: dict[str, Result] = {}
        self.collection_errors: list[str] = []

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        harness = session.config.stash.get(HARNESS, None)
        if harness is not None:
            for line in capability_matrix(harness):
                self.echo(line)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(report.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        modem = str(dict(report.user_properties).get("modem", "-"))
        test = report.nodeid.split("::")[-1].split("[")[0]
        outcome: Outcome | None = None
        if report.when == "setup" and not report.passed:
            outcome = "skipped" if report.skipped else "failed"
        elif report.when == "call":
            outcome = "skipped" if report.skipped else "failed" if report.failed else "passed"
        elif report.when == "teardown" and report.failed:
            outcome = "failed"
        if outcome is not None:
            self.results[report.nodeid] = Result(report.nodeid, test, modem, outcome,
                                                 _reason(report) if outcome != "passed" else "")


def pytest_args(rig: Path | None, junit: Path | None, keyword: str | None,
                fake_subset: str, data_bytes: int | None,
                lg_env: Path | None = None, coordinator: str | None = None) -> list[str]:
    """The pytest command line for one run of the suite."""
    args = [str(SUITE), "-c", str(SUITE / "suite.toml"), "--rootdir", str(SUITE), "-q",
            "-W", "ignore::pytest.PytestAssertRewriteWarning",
            "--tb=short", "--fake-rig", fake_subset]
    if rig is not None:
        args += ["--rig", str(rig)]
    if lg_env is not None:
        args += ["--lg-env", str(lg_env)]
        if coordinator is not None:
            args += ["--lg-coordinator", coordinator]
    if junit is not None:
        args += ["--junitxml", str(junit), "-o", "junit_family=xunit2"]
    if keyword:
        args += ["-k", keyword]
    if data_bytes is not None:
        args += ["--data-bytes", str(data_bytes)]
    return args


def run(rig: Path | None = None, junit: Path | None = None, keyword: str | None = None,
        fake_subset: str = "full", data_bytes: int | None = None,
        echo: Callable[[str], None] = print, labgrid: Sequence[str] = (),
        coordinator: str | None = None, lg_env: Path | None = None,
        ) -> tuple[int, list[Result]]:
    """Run the suite; (exit status, results).  Status 0 only when nothing failed.

    With ``labgrid`` (place names or tags) the places are reserved and acquired
    through the coordinator, the suite runs on them, and they are released.
    With ``lg_env`` the suite runs on that labgrid environment's targets as
    they are (places the caller acquired, or local resources).
    """
    if not labgrid:
        return _run(pytest_args(rig, junit, keyword, fake_subset, data_bytes, lg_env,
                                coordinator), echo)
    from modemctl.hil.labgridplaces import DEFAULT_COORDINATOR, acquired, env_yaml

    address = coordinator or os.environ.get("LG_COORDINATOR", DEFAULT_COORDINATOR)
    with acquired(labgrid, address) as places, \
            tempfile.TemporaryDirectory(prefix="modemctl-lg-") as tmp:
        echo(f"labgrid: acquired {', '.join(places)} on {address}")
        env = Path(tmp) / "env.yaml"
        env.write_text(env_yaml(places))
        return _run(pytest_args(None, junit, keyword, fake_subset, data_bytes, env, address),
                    echo)


def _run(args: list[str], echo: Callable[[str], None]) -> tuple[int, list[Result]]:
    collector = Collector(echo)
    code = pytest.main(args, plugins=[collector])
    results = list(collector.results.values())
    echo("")
    for line in results_table(results):
        echo(line)
    failed = any(r.outcome == "failed" for r in results) or bool(collector.collection_errors)
    echo(summary(results))
    ok_codes = (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED)
    return (1 if failed or code not in ok_codes else 0), results
