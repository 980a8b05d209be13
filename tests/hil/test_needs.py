"""Needs: every lack has a reason; the call-waiting prediction agrees with the fake."""

from __future__ import annotations

import pytest

from modemctl.hil.fakerig import PROFILE_OF
from modemctl.hil.needs import Offers, lacking
from modemctl.hil.rig import RigModem
from modemctl.hil.steps import unsecured_call_drops
from modemctl.profiles import get_profile
from tests.line.test_call_waiting import DEFAULT_DROPS

PTY = RigModem("pty", "/dev/pts/3", "usr", "101")
UART = RigModem("uart", "/dev/ttyS0", "conexant", "102", modem_lines=("dcd", "ri", "dtr"),
                outlet="2", removable=True)
SER2NET = RigModem("s2n", "rfc2217://127.0.0.1:7000?ign_set_control", "agere", "103")
FULL = Offers("fake", frozenset({"ring", "call-waiting", "dead-line", "remote-hangup"}), "fake")
BARE = Offers("none", frozenset(), "none")


def test_a_rig_with_everything_lacks_nothing() -> None:
    needs = ["v92", "dcd", "dtr", "power-switch", "removable", "call-waiting"]
    assert lacking(needs, [UART], FULL) is None


@pytest.mark.parametrize(("needs", "modem", "offers", "words"), [
    (["v92"], PTY, FULL, "not a V.92 modem"),
    (["dcd"], PTY, FULL, "does not carry DCD"),
    (["dtr"], SER2NET, FULL, "does not carry DTR"),
    (["power-switch"], UART, BARE, "no power switch"),
    (["power-switch"], PTY, FULL, "not on a power-switch outlet"),
    (["removable"], RigModem("u", "/dev/ttyS1", "usr", "1", outlet="1"), FULL, "not removable"),
    (["call-waiting"], UART, BARE, "no line simulator"),
    (["silence"], UART, FULL, "cannot do silence"),
])
def test_lacks_have_reasons(needs: list[str], modem: RigModem, offers: Offers,
                            words: str) -> None:
    reason = lacking(needs, [modem], offers)
    assert reason is not None and words in reason


def test_unknown_need_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown need"):
        lacking(["teleport"], [PTY], FULL)


@pytest.mark.parametrize("personality", sorted(DEFAULT_DROPS))
def test_drop_prediction_matches_the_fake(personality: str) -> None:
    # The fake's table is written from firmware notes, the prediction from the profile.
    assert unsecured_call_drops(get_profile(PROFILE_OF[personality])) == \
        DEFAULT_DROPS[personality]
