"""``A/`` (repeat once, every personality) and ``A>`` (repeat continuously, USR only [V5]),
byte-exact on a manual clock."""

from __future__ import annotations

import pytest

from modemctl.fake import DceState, available_personalities
from modemctl.fake.dce import REPEAT_PAUSE
from tests.fake.helpers import Harness
from tests.fake.test_dce_calls import until_placed

ALL = available_personalities()
NOT_USR = [p for p in ALL if p != "usr-v90"]


def busy_dial(h: Harness) -> None:
    """Wait for the current dial to reach the network, then answer it with busy."""
    until_placed(h)
    h.dce.call_failed("busy")


@pytest.mark.parametrize("personality", ALL)
def test_a_slash_repeats_a_dial_once(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    h.send(b"ATDT5551002\r")
    busy_dial(h)
    assert h.out.take() == b"\r\nBUSY\r\n"
    h.telco.placed.clear()
    assert h.send(b"a/") == b""
    busy_dial(h)
    assert h.out.take() == b"\r\nBUSY\r\n"
    h.telco.placed.clear()
    h.advance(60)
    assert not h.telco.placed                       # once only


def test_a_gt_redials_until_connect_on_usr() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0\r")
    h.send(b"ATDT5551002\r")
    busy_dial(h)
    h.out.take()
    assert h.send(b"A>") == b""
    for _ in range(3):                              # busy three times, redialled each time
        h.telco.placed.clear()
        busy_dial(h)
        assert h.out.take() == b"\r\nBUSY\r\n"
        assert h.advance(REPEAT_PAUSE - 0.01) == b"" and h.dce.state is DceState.COMMAND
        h.advance(0.02)
        assert h.dce.state is DceState.DIALING
    until_placed(h)
    h.dce.connected(28800)
    assert h.out.take() == b"\r\nCONNECT 28800\r\n"
    h.dce.remote_hangup()
    assert h.out.take() == b"\r\nNO CARRIER\r\n"
    h.telco.placed.clear()
    h.advance(60)
    assert not h.telco.placed                       # CONNECT ended the repetition


def test_a_gt_stops_at_a_key_and_eats_it() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0\r")
    assert h.send(b"ATS0?\r") == b"\r\n000\r\n\r\nOK\r\n"
    assert h.send(b"A>") == b"\r\n000\r\n\r\nOK\r\n"
    assert h.advance(REPEAT_PAUSE) == b"\r\n000\r\n\r\nOK\r\n"
    assert h.advance(REPEAT_PAUSE) == b"\r\n000\r\n\r\nOK\r\n"
    assert h.send(b"x") == b""                      # the key stops it and is not a command
    assert h.advance(10 * REPEAT_PAUSE) == b""
    assert h.send(b"AT\r") == b"\r\nOK\r\n"


def test_a_gt_key_during_the_dial_aborts_and_stops() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0\r")
    h.send(b"ATDT5551002\r")
    busy_dial(h)
    h.out.take()
    h.send(b"A>")
    h.advance(0.5)
    assert h.send(b"\x18") == b"\r\nNO CARRIER\r\n"
    h.telco.placed.clear()
    h.advance(60)
    assert not h.telco.placed


@pytest.mark.parametrize("personality", NOT_USR)
def test_a_gt_is_not_a_prefix_elsewhere(personality: str) -> None:
    h = Harness(personality)
    assert h.send(b"ATS0?\r") == b"ATS0?\r\r\n000\r\n\r\nOK\r\n"
    assert h.send(b"A>") == b"A>"                   # echoed, nothing executed
    assert h.advance(10 * REPEAT_PAUSE) == b""
