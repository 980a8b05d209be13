"""The dial-string parser and the DCE state table, without a modem or a clock."""

from __future__ import annotations

import pytest

from modemctl.fake.callstate import (
    TRANSITIONS,
    DceEvent,
    DceState,
    IllegalTransition,
    may,
    next_state,
)
from modemctl.fake.dialstring import DialStringError, parse_dial_string


def test_methods_group_digits_and_pulse_drops_dtmf_only_symbols() -> None:
    plan = parse_dial_string("T*70,P12#A3W@", pulse=False, comma_pause=2, dtmf_ms=95)
    assert plan.segments == (("T", "*70"), ("P", "123"))
    assert plan.pulse and plan.quiet_answer and plan.wait_for_tone
    assert not plan.stay_in_command
    # 3 tones at 2*95 ms, a 2 s comma, pulses 1,2,3 (0.1 s each + 0.7 s gap), W 1 s
    assert plan.duration == pytest.approx(3 * 0.19 + 2 + (0.8 + 0.9 + 1.0) + 1.0)


def test_semicolon_continues_pending_digits_and_must_end_the_string() -> None:
    plan = parse_dial_string("55;", pulse=False, comma_pause=2, dtmf_ms=100,
                             pending=(("T", "12"),))
    assert plan.segments == (("T", "1255"),) and plan.stay_in_command
    with pytest.raises(DialStringError):
        parse_dial_string("55;1", pulse=False, comma_pause=2, dtmf_ms=100)
    assert parse_dial_string("55; ", pulse=False, comma_pause=2, dtmf_ms=100).stay_in_command


def test_ignored_characters_dial_nothing() -> None:
    plan = parse_dial_string("(555) 100-2 $", pulse=True, comma_pause=2, dtmf_ms=100)
    assert plan.segments == (("P", "5551002"),)


def test_every_state_can_hang_up_and_only_listed_changes_are_legal() -> None:
    for state in DceState:
        assert next_state(state, DceEvent.HANG_UP) is DceState.COMMAND
    assert not may(DceState.ONLINE_DATA, DceEvent.DIAL)
    with pytest.raises(IllegalTransition):
        next_state(DceState.COMMAND, DceEvent.RETURN_ONLINE)
    online_entries = {state for (state, _e), new in TRANSITIONS.items()
                      if new is DceState.ONLINE_DATA}
    assert online_entries == {DceState.DIALING, DceState.ANSWERING, DceState.ONLINE_COMMAND}
