"""Text renderings of line-layer objects for the command line.

The line layer returns typed objects (secure reports, events, caller ID);
the CLI shows them to people.  Keeping the renderings here means ``dial``,
``answer`` and ``demo`` (and error messages) describe the same thing the
same way.
"""

from __future__ import annotations

import enum

from modemctl.line.events import (
    CallerId,
    CallWaitingSeen,
    MessageWaiting,
    Ring,
    Secured,
    StateChanged,
)
from modemctl.line.report import SecureReport


def report_lines(report: SecureReport) -> list[str]:
    """A secure report as an aligned table: mechanism, state, verification, why."""
    verdict = "SECURED" if report.secured else "NOT SECURED"
    lines = [f"{verdict} ({report.when}): call waiting "
             + ("cannot drop this call" if report.secured else "may drop this call")]
    width = max((len(m.name) for m in report.mechanisms), default=0)
    for m in report.mechanisms:
        state = "in force" if m.in_force else ("applied" if m.applied else "not applied")
        check = "verified" if m.verified else ("unverified" if m.applied else "")
        why = m.reason + (f" [{m.detail}]" if m.detail else "")
        lines.append(f"  {m.name:<{width}}  {state:<11} {check:<10} {why}".rstrip())
    lines += [f"  note: {n}" for n in report.notes]
    return lines


def report_summary(report: SecureReport) -> list[str]:
    """A secure report in a few short lines: the verdict, then each mechanism in force."""
    lines = [f"{'SECURED' if report.secured else 'NOT SECURED'} ({report.when}), by:"]
    for m in report.mechanisms:
        if m.in_force:
            how = m.detail if m.verified and m.detail else m.reason.split(";")[0]
            lines.append(f"  {m.name:<17} {'verified' if m.verified else 'in force':<9} {how}")
    off = [m.name for m in report.mechanisms if not m.in_force]
    if off:
        lines.append(f"  (not in force: {', '.join(off)})")
    return lines


def enum_name(value: object) -> str:
    """``CallState.CONNECTED`` → ``CONNECTED``; anything else as ``str``."""
    return value.name if isinstance(value, enum.Enum) else str(value)


def caller_text(cid: CallerId | None) -> str:
    """Caller ID as people read it: number and name, or why there is none."""
    if cid is None:
        return "no caller ID"
    if cid.number is None and cid.withheld:
        return f"caller ID withheld ({cid.withheld})"
    return " ".join(p for p in (cid.number, f"({cid.name})" if cid.name else None) if p) \
        or "empty caller ID"


def event_text(event: object) -> str | None:
    """One line for a line event; ``None`` for events not worth a line."""
    if isinstance(event, StateChanged):
        why = f" ({event.reason.name})" if event.reason is not None else ""
        return f"{event.old.name} -> {event.new.name}{why}"
    if isinstance(event, Ring):
        return f"RING #{event.count}"
    if isinstance(event, CallerId):
        return f"caller ID: {caller_text(event)}"
    if isinstance(event, CallWaitingSeen):
        return f"call waiting seen ({event.source})"
    if isinstance(event, MessageWaiting):
        return f"message waiting ({event.state or 'on'})"
    if isinstance(event, Secured):
        return f"secured ({event.report.when}): {', '.join(event.report.in_force()) or 'nothing'}"
    return None
