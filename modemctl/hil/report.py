"""What ``modemctl hil run`` prints: the capability matrix, the results table, the summary.

Pure formatting: rows in, lines out.  The results come from the runner's
collector (:mod:`.runner`), never from re-reading the JUnit file, so a test
can check the two against each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from modemctl.hil.harness import Harness
from modemctl.profiles import get_profile

Outcome = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class Result:
    """One test on one modem or pair."""

    nodeid: str
    test: str
    modem: str
    outcome: Outcome
    reason: str = ""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    def fmt(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
    return [fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)]


def capability_matrix(harness: Harness) -> list[str]:
    """One row per modem: what the rig says it has, and what its profile promises."""
    rig = harness.rig
    sim = harness.offers
    caps = ", ".join(sorted(sim.simulator_capabilities)) or "nothing"
    lines = [f"rig {rig.name} ({harness.source}): line simulator {sim.simulator} "
             f"[{caps}], power switch {sim.power_switch}, time scale {rig.time_scale}, "
             f"data {rig.data_bytes} bytes each way"]
    rows = []
    for m in rig.modems:
        p = get_profile(m.profile)
        rows.append([m.name, m.profile, m.line, ",".join(m.modem_lines) or "none",
                     "yes" if p.v92.present else "no", ",".join(p.fax_classes) or "none",
                     m.outlet or "-", "yes" if m.removable else "no", m.url])
    lines += _table(["modem", "profile", "line", "port lines", "V.92", "fax classes",
                     "outlet", "removable", "url"], rows)
    lines.append("pairs: " + (", ".join(p.name for p in rig.pairs) or "none"))
    return lines


def results_table(results: Sequence[Result]) -> list[str]:
    return _table(["test", "modem", "result", "reason"],
                  [[r.test, r.modem, r.outcome, r.reason] for r in results])


def summary(results: Sequence[Result]) -> str:
    """``N passed, N failed, N skipped`` (pytest's words, every count always shown)."""
    n = Counter(r.outcome for r in results)
    return f"{n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped"
