"""V.92 modem-on-hold, byte-exact per V.92 personality on a manual clock: the call is held
for the time the far end granted (+PMHT), then retrains and resumes; +PMHF flashes back
early.  Data written on either side during the hold is delivered after the resume."""

from __future__ import annotations

import pytest

from modemctl.fake import CwOutcome, DceState
from modemctl.fake.dce import MOH_FLASH, MOH_RETRAIN, MOH_TIMEOUTS
from tests.fake.helpers import Harness
from tests.fake.test_dce_calls import online

V92 = ("conexant-v92", "agere-v92")
GUARD = 1.1      # a little over S12 = 50 (1 s)


def held(personality: str, pmht: int) -> Harness:
    """Online at 33600, MOH enabled, the far end granting ``pmht``; call waiting arrives."""
    h = online(personality, init=b"+PCW=0;+PMH=0;")
    h.telco.moh = pmht
    assert h.dce.call_waiting(far_grants_moh=True) is CwOutcome.HELD
    return h


def escape(h: Harness) -> None:
    h.advance(GUARD)
    h.send(b"+++")
    assert h.advance(GUARD) == b"\r\nOK\r\n"


@pytest.mark.parametrize("personality", V92)
@pytest.mark.parametrize("pmht", [1, 5])
def test_hold_lasts_the_granted_time_then_retrains(personality: str, pmht: int) -> None:
    h = held(personality, pmht)
    granted = MOH_TIMEOUTS[pmht]
    assert granted is not None and (pmht, granted) in ((1, 10), (5, 60))
    assert not h.dce.dcd and h.dce.on_hold
    assert h.send(b"typed while held") == b""
    h.dce.remote_data(b"sent by far end")
    assert h.advance(granted + MOH_RETRAIN - 0.1) == b""       # held, then retraining
    assert not h.dce.dcd and h.telco.sent == bytearray()
    assert h.advance(0.2) == b"sent by far end"                 # resumed: no CONNECT in data
    assert h.dce.dcd and h.dce.state is DceState.ONLINE_DATA
    assert bytes(h.telco.sent) == b"typed while held"
    h.dce.remote_data(b"after")
    assert h.out.take() == b"after"


@pytest.mark.parametrize("personality", V92)
def test_indefinite_hold_until_pmhf_then_ato(personality: str) -> None:
    h = held(personality, 13)
    assert MOH_TIMEOUTS[13] is None
    h.dce.remote_data(b"queued")
    assert h.advance(3600) == b"" and h.dce.on_hold
    escape(h)
    assert h.send(b"AT+PMHF\r") == b"\r\nOK\r\n"
    assert h.advance(MOH_FLASH + MOH_RETRAIN + 0.1) == b""      # back, but online-command
    assert h.dce.dcd and not h.dce.on_hold
    assert h.send(b"ATO\r") == b"\r\nCONNECT 33600\r\nqueued"


@pytest.mark.parametrize("personality", V92)
def test_ato_during_hold_says_connect_when_the_call_resumes(personality: str) -> None:
    h = held(personality, 1)
    escape(h)
    assert h.send(b"ATO\r") == b""                              # nothing to resume yet
    assert h.dce.state is DceState.ONLINE_DATA
    assert h.advance(10 + MOH_RETRAIN) == b"\r\nCONNECT 33600\r\n"


@pytest.mark.parametrize("personality", V92)
def test_far_hangup_during_hold_is_no_carrier(personality: str) -> None:
    h = held(personality, 13)
    h.dce.remote_hangup()
    assert h.out.take() == b"\r\nNO CARRIER\r\n"
    assert not h.dce.on_hold and h.advance(60) == b""


@pytest.mark.parametrize("personality", V92)
def test_pmhf_errors_when_not_on_hold_or_moh_disabled(personality: str) -> None:
    h = online(personality, init=b"+PCW=0;+PMH=0;")
    escape(h)
    assert h.send(b"AT+PMHF\r") == b"\r\nERROR\r\n"             # not on hold
    h = held(personality, 13)
    escape(h)
    h.send(b"AT+PMH=1\r")
    assert h.send(b"AT+PMHF\r") == b"\r\nERROR\r\n"             # MOH disabled


@pytest.mark.parametrize("personality", ["usr-v90", "hayes-basic"])
def test_pmhf_is_unknown_without_v92(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT+PMHF\r") == b"\r\nERROR\r\n"
