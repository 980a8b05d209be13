"""The T.30 receiver, frame by frame: DIS, TCF judgement, copy quality, repeats."""

from __future__ import annotations

import pytest

from modemctl.fax.t4 import Coding, decode_page
from modemctl.fax.t30 import (
    FCF,
    T30,
    BadFrame,
    CancelTimer,
    Capabilities,
    Cause,
    CopyQuality,
    Frame,
    FrameReceived,
    Modulation,
    Negotiated,
    PageDone,
    PageQuality,
    PageReceived,
    Params,
    Phase,
    ReceiveFrames,
    ReceivePage,
    ReceiveTraining,
    Resolution,
    SendFrames,
    StartTimer,
    State,
    T30Config,
    TcfReceived,
    Timer,
    TimerExpired,
    decode_dis,
    encode_dcs,
    encode_station_id,
)
from tests.fax.test_t4 import eols_garbled
from tests.fax.test_t30_sender import drain, finished, sent

V17 = Params(Modulation.V17_14400, Resolution.FINE, min_scan_ms=0)
FINE_LINES = 2287
GOOD = PageQuality()
# 14400 bit/s for 1.5 s is 2700 octets; 1 s of zeros is 1800.
GOOD_TCF = TcfReceived(octets=2700, longest_zero_run=2700)


def cmd(fcf: FCF, fif: bytes = b"", final: bool = True) -> FrameReceived:
    return FrameReceived(Frame(fcf, fif, x=True, final=final))


def receiver(**config: object) -> T30:
    m = T30.receiver(T30Config(local_id="555 0199", **config))  # type: ignore[arg-type]
    m.start()
    actions = drain(m)
    assert actions[0] == StartTimer(Timer.T1, 35.0)
    assert sent(actions) == ["CSI", "DIS"]
    burst = actions[1]
    assert isinstance(burst, SendFrames)
    csi, dis = burst.frames
    assert (csi.final, dis.final, csi.x, dis.x) == (False, True, False, False)
    if "capabilities" not in config:
        assert decode_dis(dis.fif).modulations == set(Modulation)
    assert actions[2:] == [StartTimer(Timer.T4, 3.0), ReceiveFrames()]
    return m


def to_page(m: T30, params: Params = V17) -> None:
    m.receive(cmd(FCF.TSI, encode_station_id("+1 555 0100"), final=False))
    assert drain(m) == []
    m.receive(cmd(FCF.DCS, encode_dcs(params)))
    actions = drain(m)
    assert actions[:2] == [CancelTimer(Timer.T1), CancelTimer(Timer.T4)]
    assert isinstance(actions[2], Negotiated) and actions[2].remote_id == "+1 555 0100"
    assert actions[3:] == [StartTimer(Timer.T2, 6.0), ReceiveTraining(params.modulation)]
    m.receive(GOOD_TCF)
    actions = drain(m)
    assert sent(actions) == ["CFR"]
    assert actions[-1] == ReceivePage(0, 1, decode(params))


def decode(params: Params) -> Params:
    return Params(params.modulation, params.resolution, params.coding, params.width,
                  params.length, params.min_scan_ms)


def test_two_pages_then_dcn() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    assert drain(m) == [CancelTimer(Timer.T2), StartTimer(Timer.T2, 6.0), ReceiveFrames()]
    m.receive(cmd(FCF.MPS))
    actions = drain(m)
    assert sent(actions) == ["MCF"]
    assert [f.x for a in actions if isinstance(a, SendFrames) for f in a.frames] == [False]
    assert actions[-1] == ReceivePage(1, 1, decode(V17))
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.EOP))
    actions = drain(m)
    assert sent(actions) == ["MCF"] and actions[-1] == ReceiveFrames()
    assert m.state is State.R_WAIT_DCN
    m.receive(cmd(FCF.DCN))
    out = finished(drain(m)).outcome
    assert out.ok and out.remote_id == "+1 555 0100"
    assert [(p.index, p.accepted, p.lines, p.quality) for p in out.pages] == [
        (0, True, FINE_LINES, GOOD), (1, True, FINE_LINES, GOOD)]


def test_short_zero_run_earns_ftt_then_a_slower_dcs_trains() -> None:
    m = receiver()
    m.receive(cmd(FCF.DCS, encode_dcs(V17)))
    drain(m)
    m.receive(TcfReceived(octets=2700, longest_zero_run=1799))   # just under 1 s
    actions = drain(m)
    assert sent(actions) == ["FTT"] and actions[-1] == ReceiveFrames()
    assert m.state is State.R_WAIT_CMD
    slower = Params(Modulation.V17_12000, Resolution.FINE, min_scan_ms=0)
    m.receive(cmd(FCF.DCS, encode_dcs(slower)))
    assert drain(m)[-1] == ReceiveTraining(Modulation.V17_12000)
    m.receive(TcfReceived(octets=2250, longest_zero_run=1500))   # exactly 1 s at 12000
    assert sent(drain(m)) == ["CFR"]


def test_bad_copy_gets_rtn_and_the_retransmission_replaces_it() -> None:
    m = receiver(copy_quality=CopyQuality(min_good_percent=95, max_bad_run=5))
    to_page(m)
    m.receive(PageReceived(FINE_LINES, PageQuality(bad_lines=200, longest_bad_run=40)))
    drain(m)
    m.receive(cmd(FCF.EOP))
    actions = drain(m)
    assert sent(actions) == ["RTN"]
    done = next(a for a in actions if isinstance(a, PageDone))
    assert not done.result.accepted and done.result.response is FCF.RTN
    m.receive(cmd(FCF.DCS, encode_dcs(V17)))
    drain(m)
    m.receive(GOOD_TCF)
    assert drain(m)[-1] == ReceivePage(0, 2, decode(V17))
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.EOP))
    assert sent(drain(m)) == ["MCF"]
    m.receive(cmd(FCF.DCN))
    out = finished(drain(m)).outcome
    assert out.ok and [(p.attempts, p.accepted) for p in out.pages] == [(2, True)]


@pytest.mark.parametrize("coding", [Coding.MH, Coding.MR], ids=lambda c: c.value)
def test_a_page_that_lost_thirty_lines_with_their_eols_gets_rtn(coding: Coding) -> None:
    """The decoder's figures for a burst that ate thirty lines and their EOLs,
    judged by the receiver frame by frame: RTN, not MCF."""
    page, data = eols_garbled(coding, 100, 30)
    decoded = decode_page(data, page.width, coding=coding)
    params = Params(Modulation.V17_14400, Resolution.FINE, coding, min_scan_ms=0)
    m = receiver()
    to_page(m, params)
    m.receive(PageReceived(decoded.lines, decoded.quality))
    drain(m)
    m.receive(cmd(FCF.EOP))
    actions = drain(m)
    assert sent(actions) == ["RTN"]
    done = next(a for a in actions if isinstance(a, PageDone))
    assert not done.result.accepted and done.result.quality == decoded.quality


@pytest.mark.parametrize(("lines", "quality", "good"), [
    (1000, PageQuality(50, 5), True),       # 95 % good, run of 5
    (1000, PageQuality(51, 1), False),      # 94.9 % good
    (1000, PageQuality(6, 6), False),       # a run of 6 bad lines
    (0, PageQuality(), False),              # nothing decoded
])
def test_copy_quality_rule(lines: int, quality: PageQuality, good: bool) -> None:
    assert CopyQuality().acceptable(lines, quality) is good


def test_dis_repeated_every_t4_until_t1() -> None:
    m = receiver()
    for _ in range(3):
        m.receive(TimerExpired(Timer.T4))
        actions = drain(m)
        assert sent(actions) == ["CSI", "DIS"]
        assert actions[-2:] == [StartTimer(Timer.T4, 3.0), ReceiveFrames()]
    m.receive(TimerExpired(Timer.T1))
    actions = drain(m)
    assert sent(actions) == []
    hangup = finished(actions).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.T1_TIMEOUT, Phase.B, "11")


def test_no_page_after_cfr_is_t2_timeout() -> None:
    m = receiver()
    to_page(m)
    m.receive(TimerExpired(Timer.T2))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.T2_NO_PAGE, Phase.C, "73")


def test_no_post_page_message_is_t2_timeout_in_phase_d() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(TimerExpired(Timer.T2))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.T2_NO_COMMAND, Phase.D, "A0")


def test_lost_mcf_the_repeated_mps_gets_it_again() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.MPS))
    drain(m)
    m.receive(cmd(FCF.MPS))                 # the sender did not hear our MCF
    actions = drain(m)
    assert sent(actions) == ["MCF"]
    assert actions[-1] == ReceivePage(1, 1, decode(V17))


def test_lost_cfr_the_repeated_dcs_trains_again() -> None:
    m = receiver()
    to_page(m)
    m.receive(cmd(FCF.DCS, encode_dcs(V17)))
    assert drain(m)[-1] == ReceiveTraining(Modulation.V17_14400)
    assert m.state is State.R_WAIT_TCF


def test_eop_confirmation_lost_then_t2_still_ends_normally() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.EOP))
    drain(m)
    m.receive(cmd(FCF.EOP))
    assert sent(drain(m)) == ["MCF"]
    m.receive(TimerExpired(Timer.T2))
    assert finished(drain(m)).outcome.ok


def test_eom_returns_to_phase_b_with_a_new_dis() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.EOM))
    actions = drain(m)
    assert sent(actions) == ["MCF", "CSI", "DIS"]
    assert StartTimer(Timer.T1, 35.0) in actions
    assert m.state is State.R_WAIT_DCS
    standard = Params(Modulation.V29_9600, min_scan_ms=0)
    m.receive(cmd(FCF.DCS, encode_dcs(standard)))
    m.receive(TcfReceived(1800, 1800))
    assert drain(m)[-1] == ReceivePage(1, 1, decode(standard))


def test_pri_eop_is_answered_as_eop() -> None:
    m = receiver()
    to_page(m)
    m.receive(PageReceived(FINE_LINES, GOOD))
    drain(m)
    m.receive(cmd(FCF.PRI_EOP))
    assert sent(drain(m)) == ["MCF"] and m.state is State.R_WAIT_DCN


def test_incompatible_dcs_is_refused_with_dcn() -> None:
    m = receiver(capabilities=Capabilities(modulations=frozenset(
        {Modulation.V27_2400, Modulation.V29_9600}), fine=False))
    m.receive(cmd(FCF.DCS, encode_dcs(V17)))
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    hangup = finished(actions).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.INCOMPATIBLE, Phase.B, "70")


def test_garbled_frames_keep_the_receiver_listening() -> None:
    m = receiver()
    m.receive(BadFrame())
    assert drain(m) == [ReceiveFrames()]
    m.receive(cmd(FCF.DCS, b"\x00\x12\x80"))         # no such rate: wait for the repeat
    assert drain(m) == [ReceiveFrames()]
    assert m.state is State.R_WAIT_DCS


def _to_state(state: State) -> T30:
    m = receiver()
    if state is State.R_WAIT_DCS:
        return m
    m.receive(cmd(FCF.DCS, encode_dcs(V17)))
    if state is State.R_WAIT_TCF:
        drain(m)
        return m
    if state is State.R_WAIT_CMD:
        m.receive(TcfReceived(10, 0))
        drain(m)
        return m
    m.receive(GOOD_TCF)
    if state is not State.R_WAIT_PAGE:
        m.receive(PageReceived(FINE_LINES, GOOD))
        if state is State.R_WAIT_DCN:
            m.receive(cmd(FCF.EOP))
    drain(m)
    assert m.state is state
    return m


@pytest.mark.parametrize(("state", "phase"), [
    (State.R_WAIT_DCS, Phase.B), (State.R_WAIT_TCF, Phase.B), (State.R_WAIT_CMD, Phase.B),
    (State.R_WAIT_PAGE, Phase.C), (State.R_WAIT_PPM, Phase.D),
], ids=lambda v: getattr(v, "name", ""))
def test_dcn_at_any_point(state: State, phase: Phase) -> None:
    m = _to_state(state)
    m.receive(cmd(FCF.DCN))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.phase) == (Cause.REMOTE_DISCONNECT, phase)


def test_dcn_after_confirmed_eop_is_normal() -> None:
    m = _to_state(State.R_WAIT_DCN)
    m.receive(cmd(FCF.DCN))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.NORMAL, Phase.E, "00")


def test_crp_from_the_sender_gets_dis_again() -> None:
    m = receiver()
    m.receive(cmd(FCF.CRP))
    actions = drain(m)
    assert sent(actions) == ["CSI", "DIS"] and actions[-1] == ReceiveFrames()
