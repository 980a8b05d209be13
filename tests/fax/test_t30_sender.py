"""The T.30 sender, frame by frame: every phase, fallback, repeats, give-ups."""

from __future__ import annotations

import pytest

from modemctl.fax.t30 import (
    FCF,
    T30,
    Abort,
    Action,
    BadFrame,
    CancelTimer,
    Capabilities,
    Cause,
    Finished,
    Frame,
    FrameReceived,
    LineLost,
    Modulation,
    Negotiated,
    PageDone,
    Phase,
    ReceiveFrames,
    Resolution,
    SendFrames,
    SendPage,
    SendTraining,
    StartTimer,
    State,
    T30Config,
    Timer,
    TimerExpired,
    decode_dcs,
    encode_station_id,
)

# A receiver's DIS worked out by hand from T.30 Table 2: bits 10 (ready to
# receive), 11+12+14 (V.27ter, V.29, V.17), 15 (fine), 16 (MR), 21-23 (0 ms).
DIS_V17 = bytes((0x00, 0xEE, 0x70))
DIS_V29_STANDARD = bytes((0x00, 0x0E, 0x00))      # V.27ter+V.29, no fine, no MR, 20 ms


def drain(machine: T30) -> list[Action]:
    out = []
    while (action := machine.next_action()) is not None:
        out.append(action)
    return out


def frame(fcf: FCF, fif: bytes = b"", final: bool = True) -> FrameReceived:
    return FrameReceived(Frame(fcf, fif, x=False, final=final))


def sent(actions: list[Action]) -> list[str]:
    """The frames and data an action list puts on the line, in order."""
    out: list[str] = []
    for a in actions:
        if isinstance(a, SendFrames):
            out.extend(f.fcf.name for f in a.frames)
        elif isinstance(a, SendTraining):
            out.append(f"TCF {a.modulation.rate}")
        elif isinstance(a, SendPage):
            out.append(f"page {a.index}.{a.attempt}")
    return out


def finished(actions: list[Action]) -> Finished:
    assert isinstance(actions[-1], Finished)
    return actions[-1]


def sender(pages: int = 2, **config: object) -> T30:
    machine = T30.sender(T30Config(local_id="+1 555 0100", **config), pages)  # type: ignore[arg-type]
    machine.start()
    assert drain(machine) == [StartTimer(Timer.T1, 35.0), ReceiveFrames()]
    return machine


def to_cfr(machine: T30, dis: bytes = DIS_V17) -> list[Action]:
    machine.receive(frame(FCF.CSI, encode_station_id("+44 20 7946 0000"), final=False))
    assert drain(machine) == []
    machine.receive(frame(FCF.DIS, dis))
    return drain(machine)


def to_first_page(machine: T30) -> list[Action]:
    """Through phase B to CFR: what the sender does then (the first page, and its PPM)."""
    to_cfr(machine)
    machine.receive(frame(FCF.CFR))
    return drain(machine)


def test_phase_b_answers_dis_with_tsi_dcs_and_tcf() -> None:
    m = sender()
    actions = to_cfr(m)
    assert m.remote_id == "+44 20 7946 0000"
    assert actions[0] == CancelTimer(Timer.T1)
    assert isinstance(actions[1], Negotiated) and actions[1].remote_id == "+44 20 7946 0000"
    burst = actions[2]
    assert isinstance(burst, SendFrames)
    tsi, dcs = burst.frames
    assert (tsi.fcf, tsi.final, tsi.x) == (FCF.TSI, False, True)
    assert tsi.fif == b"0010 555 1+".rjust(20)
    assert (dcs.fcf, dcs.final, dcs.x) == (FCF.DCS, True, True)
    params = decode_dcs(dcs.fif)
    assert params.modulation is Modulation.V17_14400
    assert actions[3] == SendTraining(Modulation.V17_14400, 1.5)
    assert actions[4:] == [StartTimer(Timer.T4, 3.0), ReceiveFrames()]
    assert m.state is State.S_WAIT_CFR


def test_two_pages_mps_then_eop_then_dcn() -> None:
    m = sender(pages=2)
    actions = to_first_page(m)
    assert sent(actions) == ["page 0.1", "MPS"]
    assert actions[0] == CancelTimer(Timer.T4)
    assert actions[-2:] == [StartTimer(Timer.T4, 3.0), ReceiveFrames()]
    assert [f.x for a in actions if isinstance(a, SendFrames) for f in a.frames] == [True]
    m.receive(frame(FCF.MCF))
    actions = drain(m)
    assert sent(actions) == ["page 1.1", "EOP"]
    assert isinstance(actions[1], PageDone) and actions[1].result.accepted
    m.receive(frame(FCF.MCF))
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    out = finished(actions).outcome
    assert out.ok and out.hangup.fhs_code == "00" and out.hangup.phase is Phase.D
    assert [(p.index, p.accepted, p.response) for p in out.pages] == [
        (0, True, FCF.MCF), (1, True, FCF.MCF)]
    assert out.remote_id == "+44 20 7946 0000"
    assert m.next_action() is None and m.finished


def test_ftt_falls_back_one_rate_at_a_time_then_gives_up() -> None:
    m = sender()
    actions = to_cfr(m)
    rates = [sent(actions)[-1]]
    for _ in range(7):
        m.receive(frame(FCF.FTT))
        actions = drain(m)
        rates.append(sent(actions)[-1])
    assert rates == ["TCF 14400", "TCF 12000", "TCF 9600", "TCF 9600", "TCF 7200",
                     "TCF 7200", "TCF 4800", "TCF 2400"]
    m.receive(frame(FCF.FTT))
    out = finished(drain(m)).outcome
    assert out.hangup.cause is Cause.TRAINING_FAILED and out.hangup.fhs_code == "27"
    assert out.hangup.phase is Phase.B


def test_fallback_uses_only_what_both_ends_have() -> None:
    m = sender(capabilities=Capabilities(modulations=frozenset(
        {Modulation.V27_2400, Modulation.V27_4800, Modulation.V29_9600, Modulation.V17_14400})))
    actions = to_cfr(m, DIS_V29_STANDARD)
    assert sent(actions)[-1] == "TCF 9600"
    m.receive(frame(FCF.FTT))
    assert sent(drain(m))[-1] == "TCF 4800"


def test_fine_pages_fall_back_to_standard_for_a_standard_only_receiver() -> None:
    m = sender(resolution=Resolution.FINE)
    actions = to_cfr(m, DIS_V29_STANDARD)
    burst = next(a for a in actions if isinstance(a, SendFrames))
    params = decode_dcs(burst.frames[-1].fif)
    assert params.resolution is Resolution.STANDARD and params.min_scan_ms == 20


def test_dcs_repeated_on_t4_then_hang_up_after_three_tries() -> None:
    m = sender()
    to_cfr(m)
    for _ in range(2):
        m.receive(TimerExpired(Timer.T4))
        assert sent(drain(m)) == ["TSI", "DCS", "TCF 14400"]
    m.receive(TimerExpired(Timer.T4))
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    hangup = finished(actions).outcome.hangup
    assert (hangup.cause, hangup.fhs_code, hangup.phase) == (
        Cause.DCS_NO_RESPONSE, "25", Phase.B)


@pytest.mark.parametrize("event", [BadFrame(), frame(FCF.CRP)], ids=["bad-fcs", "crp"])
def test_bad_fcs_or_crp_repeats_the_command(event: FrameReceived | BadFrame) -> None:
    m = sender()
    to_cfr(m)
    m.receive(event)
    assert sent(drain(m)) == ["TSI", "DCS", "TCF 14400"]
    m.receive(frame(FCF.CFR))
    drain(m)
    m.receive(event)
    actions = drain(m)
    assert sent(actions) == ["MPS"]
    assert actions[-2:] == [StartTimer(Timer.T4, 3.0), ReceiveFrames()]


@pytest.mark.parametrize(("pages", "ppm", "fhs"), [(2, "MPS", "52"), (1, "EOP", "54")])
def test_post_page_message_three_tries_then_hang_up(pages: int, ppm: str, fhs: str) -> None:
    m = sender(pages=pages)
    to_first_page(m)
    for _ in range(2):
        m.receive(TimerExpired(Timer.T4))
        assert sent(drain(m)) == [ppm]
    m.receive(TimerExpired(Timer.T4))
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    out = finished(actions).outcome
    assert out.hangup.fhs_code == fhs and out.hangup.phase is Phase.D
    assert [(p.index, p.accepted, p.response) for p in out.pages] == [(0, False, None)]


def test_rtn_retrains_and_sends_the_page_again() -> None:
    m = sender(pages=1)
    to_first_page(m)
    m.receive(frame(FCF.RTN))
    actions = drain(m)
    assert sent(actions) == ["TSI", "DCS", "TCF 14400"]
    m.receive(frame(FCF.CFR))
    assert sent(drain(m)) == ["page 0.2", "EOP"]
    m.receive(frame(FCF.MCF))
    out = finished(drain(m)).outcome
    assert out.ok and out.pages[0].attempts == 2


def test_rtn_gives_up_after_the_last_attempt() -> None:
    m = sender(pages=2, max_page_attempts=2)
    assert sent(to_first_page(m)) == ["page 0.1", "MPS"]
    m.receive(frame(FCF.RTN))
    assert sent(drain(m)) == ["TSI", "DCS", "TCF 14400"]
    m.receive(frame(FCF.CFR))
    assert sent(drain(m)) == ["page 0.2", "MPS"]
    m.receive(frame(FCF.RTN))
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    out = finished(actions).outcome
    assert out.hangup.cause is Cause.PAGE_REJECTED and out.hangup.phase is Phase.D
    assert "page 1 after 2 attempts" in out.hangup.text
    assert [(p.accepted, p.attempts, p.response) for p in out.pages] == [(False, 2, FCF.RTN)]
    assert not out.ok


def test_rtp_retrains_before_the_next_page() -> None:
    m = sender(pages=2)
    to_first_page(m)
    m.receive(frame(FCF.RTP))
    assert sent(drain(m)) == ["TSI", "DCS", "TCF 14400"]
    m.receive(frame(FCF.CFR))
    assert sent(drain(m)) == ["page 1.1", "EOP"]


def test_pip_counts_as_confirmation_and_pin_ends_the_call() -> None:
    m = sender(pages=2)
    to_first_page(m)
    m.receive(frame(FCF.PIP))
    assert sent(drain(m)) == ["page 1.1", "EOP"]
    m.receive(frame(FCF.PIN))
    out = finished(drain(m)).outcome
    assert out.hangup.cause is Cause.PROCEDURE_INTERRUPT and out.hangup.fhs_code == "58"
    assert [p.response for p in out.pages] == [FCF.PIP, FCF.PIN]


def test_t1_without_dis_hangs_up_without_dcn() -> None:
    m = sender()
    m.receive(TimerExpired(Timer.T1))
    actions = drain(m)
    assert sent(actions) == []
    hangup = finished(actions).outcome.hangup
    assert (hangup.cause, hangup.fhs_code, hangup.phase) == (Cause.T1_TIMEOUT, "11", Phase.B)


def test_stale_timer_and_stray_frames_keep_listening() -> None:
    m = sender()
    m.receive(TimerExpired(Timer.T4))
    assert drain(m) == []
    m.receive(frame(FCF.MCF))
    assert drain(m) == [ReceiveFrames()]
    m.receive(BadFrame())
    assert drain(m) == [ReceiveFrames()]


def test_unreadable_dis_is_waited_out() -> None:
    m = sender()
    m.receive(frame(FCF.DIS, b"\x00"))
    assert drain(m) == [ReceiveFrames()]
    assert m.state is State.S_WAIT_DIS


def test_dis_not_ready_to_receive_is_incompatible() -> None:
    m = sender()
    m.receive(frame(FCF.DIS, bytes((0x00, 0x0C, 0x00))))     # bit 10 clear
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    assert finished(actions).outcome.hangup.cause is Cause.INCOMPATIBLE


def _to_state(state: State) -> T30:
    m = sender()
    if state is State.S_WAIT_DIS:
        return m
    to_cfr(m)
    if state is State.S_WAIT_PPR:
        m.receive(frame(FCF.CFR))
        drain(m)
    assert m.state is state
    return m


@pytest.mark.parametrize("state", [State.S_WAIT_DIS, State.S_WAIT_CFR, State.S_WAIT_PPR],
                         ids=lambda s: s.name)
def test_dcn_at_any_point(state: State) -> None:
    m = _to_state(state)
    m.receive(frame(FCF.DCN))
    actions = drain(m)
    assert sent(actions) == []
    hangup = finished(actions).outcome.hangup
    assert hangup.cause is Cause.REMOTE_DISCONNECT
    assert hangup.phase is (Phase.D if state is State.S_WAIT_PPR else Phase.B)
    assert not [a for a in actions if isinstance(a, StartTimer)]
    m.receive(frame(FCF.MCF))                                 # after the end: nothing
    assert drain(m) == []


@pytest.mark.parametrize("state", [State.S_WAIT_DIS, State.S_WAIT_CFR, State.S_WAIT_PPR],
                         ids=lambda s: s.name)
def test_abort_sends_dcn_and_cancels_timers(state: State) -> None:
    m = _to_state(state)
    m.receive(Abort())
    actions = drain(m)
    assert sent(actions) == ["DCN"]
    assert any(isinstance(a, CancelTimer) for a in actions)
    assert finished(actions).outcome.hangup.fhs_code == "02"


def test_line_lost_and_modem_error_are_told_apart() -> None:
    m = _to_state(State.S_WAIT_PPR)
    m.receive(LineLost("NO CARRIER"))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.phase, hangup.fhs_code) == (Cause.CALL_LOST, Phase.D, "50")
    assert "NO CARRIER" in hangup.text
    m = _to_state(State.S_WAIT_CFR)
    m.receive(LineLost("ERROR to AT+FTM=145", modem_error=True))
    assert finished(drain(m)).outcome.hangup.cause is Cause.MODEM_ERROR


def test_config_is_checked() -> None:
    with pytest.raises(ValueError):
        T30Config(local_id="x" * 21)
    with pytest.raises(ValueError):
        T30.sender(T30Config(), 0)


def test_dis_again_means_our_dcs_was_not_heard() -> None:
    m = sender()
    to_cfr(m)
    for _ in range(2):
        m.receive(frame(FCF.DIS, DIS_V17))
        assert sent(drain(m)) == ["TSI", "DCS", "TCF 14400"]
    m.receive(frame(FCF.DIS, DIS_V17))
    hangup = finished(drain(m)).outcome.hangup
    assert (hangup.cause, hangup.fhs_code) == (Cause.DIS_REPEATED, "26")


def test_events_before_start_are_a_programming_error() -> None:
    m = T30.sender(T30Config(), 1)
    with pytest.raises(RuntimeError, match="before start"):
        m.receive(frame(FCF.DIS, DIS_V17))
    m.start()
    with pytest.raises(RuntimeError, match="twice"):
        m.start()
