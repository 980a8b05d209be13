"""Result format drift (issue 8, item 1): the core frames numeric and verbose
results and echo on or off at any time, whatever it last set, and reports a
change once, as FormatChanged, so the driver can re-assert its format."""

from __future__ import annotations

import pytest

from modemctl.at import (
    ATConnection,
    Echo,
    Event,
    FormatChanged,
    Information,
    Response,
    ResultCode,
    ResultFormat,
)
from modemctl.at.commands import FormatRequest, requested_format
from tests.at.helpers import SPLITS, answer


def _set_up(core: ATConnection) -> None:
    """What the line does at open: echo off, verbose."""
    answer(core, "ATE0Q0V1", b"ATE0Q0V1\r\r\nOK\r\n")
    assert core.result_format == ResultFormat(verbose=True, echo=False)


def _changes(events: list[Event]) -> list[FormatChanged]:
    return [e for e in events if isinstance(e, FormatChanged)]


@pytest.mark.parametrize("split", SPLITS)
def test_modem_gone_numeric_answers_every_command(split: str) -> None:
    """A modem that switched to V0 by itself: every command still completes."""
    core = ATConnection()
    _set_up(core)
    events = answer(core, "ATS0?", b"000\r\n0\r", split)
    [r] = [e for e in events if isinstance(e, Response)]
    assert (r.final, r.info, r.numeric) == (ResultCode.OK, ("000",), True)
    [change] = _changes(events)
    assert change.previous == ResultFormat(verbose=True, echo=False)
    assert change.current == ResultFormat(verbose=False, echo=False)
    assert events.index(change) < events.index(r)       # the cue comes first
    events = answer(core, "AT", b"0\r", split)
    assert [type(e) for e in events] == [Response]      # reported once, not per command


def test_numeric_to_verbose_is_reported() -> None:
    core = ATConnection()
    answer(core, "ATE0V0", b"ATE0V0\r0\r")
    assert core.result_format == ResultFormat(verbose=False, echo=False)
    events = answer(core, "AT", b"\r\nOK\r\n")
    assert [type(e) for e in events] == [FormatChanged, Response]
    assert core.result_format.verbose is True


def test_echo_switched_on_is_reported_at_the_echo() -> None:
    """E1 with Q1: no result ever comes, but the echo alone shows the change."""
    core = ATConnection()
    _set_up(core)
    events = answer(core, "AT", b"AT\r")
    assert [type(e) for e in events] == [FormatChanged, Echo]
    assert _changes(events)[0].current == ResultFormat(verbose=True, echo=True)


def test_echo_switched_off_costs_one_timeout_at_most() -> None:
    """Echo believed on: an answer without its echo cannot be told from a
    stray one, so it is refused; the abort that follows forgets echo at once
    and the very next command frames (before, it took two aborts)."""
    core = ATConnection()
    answer(core, "AT", b"AT\r\r\nOK\r\n")
    assert core.result_format.echo is True
    events = answer(core, "ATI0", b"\r\n56000\r\n\r\nOK\r\n")
    assert not [e for e in events if isinstance(e, Response)]
    core.abort_command()                                  # the engine's timeout
    events = answer(core, "ATI0", b"\r\n56000\r\n\r\nOK\r\n")
    [r] = [e for e in events if isinstance(e, Response)]
    assert (r.final, r.info) == (ResultCode.OK, ("56000",))
    assert core.result_format.echo is False


def test_stray_final_then_lost_echo_still_needs_evidence() -> None:
    """The echo arrived (the refusal was right): one abort does not forget echo."""
    core = ATConnection()
    answer(core, "AT", b"AT\r\r\nOK\r\n")
    answer(core, "ATI0", b"\r\nOK\r\nATI0\r")
    core.abort_command()
    assert core.result_format.echo is True


def test_own_format_commands_are_not_changes() -> None:
    """ATV0's own OK may come numeric: what the driver set is no surprise."""
    core = ATConnection()
    _set_up(core)
    events = answer(core, "ATV0", b"0\r")
    assert [type(e) for e in events] == [Response]
    events = answer(core, "ATE1V1", b"0\r")                         # answered in the old format
    assert [type(e) for e in events] == [Response]
    assert core.result_format == ResultFormat(verbose=True, echo=True)


def test_atz_restoring_a_numeric_echoing_profile() -> None:
    """ATZ restores V0 E1 (issue 8): the ATZ answer shows V0, the next
    command's echo shows E1, each reported once, and framing never stops."""
    core = ATConnection()
    _set_up(core)
    events = answer(core, "ATZ", b"0\r")
    assert [type(e) for e in events] == [FormatChanged, Response]
    events = answer(core, "ATI3", b"ATI3\rCX81801\r\n0\r")
    assert [type(e) for e in events] == [FormatChanged, Echo, Information, Response]
    assert core.result_format == ResultFormat(verbose=False, echo=True)
    events = answer(core, "ATE0V1", b"ATE0V1\r\r\nOK\r\n")   # the driver re-asserts
    assert [type(e) for e in events] == [Echo, Response]
    assert core.result_format == ResultFormat(verbose=True, echo=False)


def test_first_answer_is_learnt_not_reported() -> None:
    core = ATConnection()
    events = answer(core, "AT", b"AT\r0\r")
    assert not _changes(events)
    assert core.result_format == ResultFormat(verbose=False, echo=True)


@pytest.mark.parametrize(("command", "wanted"), [
    ("ATE0Q0V1", FormatRequest(echo=False, verbose=True)),
    ("ATZ", FormatRequest(resets=True)),
    ("AT&F", FormatRequest(resets=True)),
    ("AT&FE0V0", FormatRequest(echo=False, verbose=False, resets=True)),
    ("ATS0=0E1", FormatRequest(echo=True)),
    ("at+vcid=1;e0", FormatRequest(echo=False)),
    ("AT-SEC=1,E1", FormatRequest()),               # an extended command's argument
    ("ATDT5551234E0", FormatRequest()),             # a dial string, not E0
    ("ATV", FormatRequest(verbose=False)),          # no digit means 0
    ("ATS7=60V1", FormatRequest(verbose=True)),
    ("AT%C0\\N3E1", FormatRequest(echo=True)),
    ("ATI3", FormatRequest()),
    ("A/", FormatRequest()),
])
def test_requested_format(command: str, wanted: FormatRequest) -> None:
    assert requested_format(command) == wanted
