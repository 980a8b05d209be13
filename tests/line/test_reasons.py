"""Disconnect reasons from result codes and from end-of-call evidence (no modem)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from modemctl.line.line import Line
from modemctl.line.states import DisconnectReason, reason_for_result
from modemctl.profiles import get_profile


@pytest.mark.parametrize(("text", "reason"), [
    ("BUSY", DisconnectReason.BUSY),
    ("NO ANSWER", DisconnectReason.NOANSWER),
    ("NO DIALTONE", DisconnectReason.NODIALTONE),
    ("NO CARRIER", DisconnectReason.UNAVAIL),
    ("BLACKLISTED", DisconnectReason.BLOCKED),
    ("DIALING DISABLED", DisconnectReason.BLOCKED),
    ("DELAYED 24", DisconnectReason.TEMPFAILURE),
    ("WARBLE", DisconnectReason.UNKNOWN),
])
def test_setup_results(text: str, reason: DisconnectReason) -> None:
    assert reason_for_result(text) is reason


def test_vendor_spelling_goes_through_the_profile() -> None:
    canonical = get_profile("agere").canonical_result("NO DIAL TONE")
    assert reason_for_result(canonical) is DisconnectReason.NODIALTONE


@pytest.mark.parametrize(("source", "cw", "reason"), [
    ("result-code", 0, DisconnectReason.NORMAL),
    ("dcd", 0, DisconnectReason.CARRIERLOST),
    ("port", 0, DisconnectReason.UNKNOWN),
    (None, 0, DisconnectReason.UNKNOWN),
    ("result-code", 1, DisconnectReason.CALLWAITING),
    ("dcd", 2, DisconnectReason.CALLWAITING),
])
def test_end_of_call_evidence(source: str | None, cw: int, reason: DisconnectReason) -> None:
    call: Any = SimpleNamespace(end_source=source, call_waiting_seen=cw)
    assert Line.remote_end_reason(None, call) is reason  # type: ignore[arg-type]
