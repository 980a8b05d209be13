"""The T.30 tables are complete and consistent; frames round-trip for any content."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modemctl.fax.t30 import (
    FCF,
    T30,
    Cause,
    Direction,
    Frame,
    Hangup,
    Phase,
    decode_frame,
    encode_frame,
)
from modemctl.fax.t30.state import ANY_STATE, DEFAULT_HANDLER, FRAME_TRIGGER, PHASE, RULES, State


def _handler_names() -> set[str]:
    names = {DEFAULT_HANDLER, *ANY_STATE.values()}
    for rules in RULES.values():
        names.update(rules.values())
    return names


@pytest.mark.parametrize("name", sorted(_handler_names()))
def test_every_handler_named_in_the_tables_exists(name: str) -> None:
    assert callable(getattr(T30, "_on_" + name, None))


def test_every_state_has_rules_and_a_phase() -> None:
    assert set(RULES) == set(State) and set(PHASE) == set(State)


def test_every_frame_code_has_a_trigger() -> None:
    assert set(FRAME_TRIGGER) == set(FCF)


def test_no_handler_is_left_unused() -> None:
    defined = {name[4:] for name in vars(T30) if name.startswith("_on_")}
    assert defined == _handler_names()


@given(st.sampled_from(list(FCF)), st.binary(max_size=40), st.booleans(), st.booleans())
def test_any_frame_round_trips(fcf: FCF, fif: bytes, x: bool, final: bool) -> None:
    frame = Frame(fcf, fif, x=x and fcf.has_x_bit, final=final)
    assert decode_frame(encode_frame(frame)) == frame


def test_hangup_reads_well_and_carries_the_fhs_code() -> None:
    h = Hangup(Phase.B, Cause.DCS_NO_RESPONSE, Direction.SEND, "after 3 tries")
    assert str(h) == "DCS sent three times without response (phase B, send): after 3 tries"
    assert h.fhs_code == "25" and not h.ok
    lost = Hangup(Phase.C, Cause.CALL_LOST, Direction.RECEIVE)
    assert (lost.fhs_code, lost.text) == ("90", "the call was lost (phase C, receive)")
