"""The Class 1 session op by op: T.30 actions as T.31 commands, answers as events."""

from __future__ import annotations

import pytest

from modemctl.at import ResultCode
from modemctl.fax.class1 import (
    AbortReceive,
    AtCommand,
    Class1Quirks,
    Class1Session,
    Data,
    Hangup,
    Op,
    PageEnded,
    Pause,
    ReadData,
    ReadResult,
    ReceivePageData,
    Result,
    SendPageData,
    T30Notice,
    Timeout,
    WriteData,
    frame_to_wire,
)
from modemctl.fax.class1.hdlc import fcs16
from modemctl.fax.t30 import (
    FCF,
    T30,
    Cause,
    Finished,
    Frame,
    Modulation,
    Negotiated,
    PageQuality,
    Params,
    Resolution,
    StartTimer,
    T30Config,
    Timer,
    TimerExpired,
    encode_dcs,
    encode_frame,
    encode_station_id,
)

OK, CONNECT, ERROR = ResultCode.OK, ResultCode.CONNECT, ResultCode.ERROR
DIS_V17 = bytes((0x00, 0xEE, 0x70))
FCS = b"\x5a\xa5"          # two octets that are not the frame's FCS


def ops(session: Class1Session) -> list[Op]:
    out = []
    while (op := session.next_op()) is not None:
        out.append(op)
    return out


def io_ops(session: Class1Session) -> list[Op]:
    """The ops that talk to the modem (notices left out)."""
    return [op for op in ops(session) if not isinstance(op, T30Notice)]


def incoming(fcf: FCF, fif: bytes = b"", final: bool = True, x: bool = False) -> bytes:
    """A frame as the modem delivers it: stuffed, with FCS, DLE ETX, then OK."""
    encoded = encode_frame(Frame(fcf, fif, x=x, final=final))
    return frame_to_wire(encoded + fcs16(encoded)) + b"\r\nOK\r\n"


def deliver(session: Class1Session, wire: bytes, code: ResultCode = OK) -> list[Op]:
    """Answer a ReadData with ``wire``; then the result line."""
    session.receive(Data(wire))
    got = ops(session)
    assert isinstance(got[0], ReadResult) and got[0].leftover.endswith(b"\r\n")
    session.receive(Result(code))
    return ops(session)


def answer(session: Class1Session, *codes: ResultCode) -> list[Op]:
    out: list[Op] = []
    for code in codes:
        session.receive(Result(code))
        out = ops(session)
    return out


def sender_session(pages: int = 1) -> Class1Session:
    s = Class1Session(T30.sender(T30Config(local_id="+1 555 0100"), pages))
    s.start()
    assert ops(s) == [T30Notice(StartTimer(Timer.T1, 35.0)), ReadData()]   # implied +FRH=3
    return s


def to_dcs(s: Class1Session) -> None:
    """Sender: CSI then DIS arrive; TSI/DCS and TCF go out; listening for CFR."""
    assert deliver(s, incoming(FCF.CSI, encode_station_id("999"), final=False)) == [
        AtCommand("AT+FRH=3")]
    assert answer(s, CONNECT) == [ReadData()]
    got = deliver(s, incoming(FCF.DIS, DIS_V17))
    assert isinstance(got[1], T30Notice) and isinstance(got[1].action, Negotiated)
    assert got[2:] == [AtCommand("AT+FTS=8")]
    assert answer(s, OK) == [AtCommand("AT+FTH=3")]
    tsi = answer(s, CONNECT)
    assert tsi == [WriteData(b"\xff\x03\x43" + b"0010 555 1+".rjust(20) + b"\x10\x03")]
    dcs = answer(s, CONNECT)
    assert len(dcs) == 1 and isinstance(dcs[0], WriteData)
    assert dcs[0].data[:3] == b"\xff\x13\x83" and dcs[0].data.endswith(b"\x10\x03")
    assert answer(s, OK) == [AtCommand("AT+FTS=8")]
    assert answer(s, OK) == [AtCommand("AT+FTM=145")]
    tcf = answer(s, CONNECT)
    assert tcf == [WriteData(bytes(2700) + b"\x10\x03")]      # 1.5 s at 14400 bit/s
    assert answer(s, OK) == [T30Notice(StartTimer(Timer.T4, 3.0)), AtCommand("AT+FRH=3")]
    assert answer(s, CONNECT) == [ReadData()]


def test_sender_phase_b_as_t31_commands() -> None:
    s = sender_session()
    to_dcs(s)
    assert s.t30.remote_id == "999"


def test_sender_page_post_page_and_dcn() -> None:
    s = sender_session(pages=1)
    to_dcs(s)
    got = [op for op in deliver(s, incoming(FCF.CFR)) if not isinstance(op, T30Notice)]
    assert got == [AtCommand("AT+FTS=8")]
    assert answer(s, OK) == [AtCommand("AT+FTM=146")]             # page: V.17 short train
    got = answer(s, CONNECT)
    assert len(got) == 1 and isinstance(got[0], SendPageData)
    assert (got[0].index, got[0].attempt, got[0].params.modulation) == (
        0, 1, Modulation.V17_14400)
    assert answer(s, OK) == [AtCommand("AT+FTS=8")]
    assert answer(s, OK) == [AtCommand("AT+FTH=3")]
    assert answer(s, CONNECT) == [WriteData(b"\xff\x13\x2f\x10\x03")]     # EOP, X bit set
    assert answer(s, OK)[-1] == AtCommand("AT+FRH=3")
    answer(s, CONNECT)
    got = [op for op in deliver(s, incoming(FCF.MCF)) if not isinstance(op, T30Notice)]
    assert got == [AtCommand("AT+FTS=8")]
    answer(s, OK)
    assert answer(s, CONNECT) == [WriteData(b"\xff\x13\xfb\x10\x03")]     # DCN
    last = answer(s, OK)
    assert isinstance(last[-1], T30Notice) and isinstance(last[-1].action, Finished)
    assert last[-1].action.outcome.ok
    assert s.finished


def test_bad_fcs_on_the_response_repeats_dcs() -> None:
    s = sender_session()
    to_dcs(s)
    s.receive(Data(frame_to_wire(b"\xff\x13\x84" + FCS)))
    ops(s)
    assert io_ops_after(s, ERROR) == [AtCommand("AT+FTS=8")]
    assert answer(s, OK) == [AtCommand("AT+FTH=3")]


def io_ops_after(s: Class1Session, code: ResultCode) -> list[Op]:
    s.receive(Result(code))
    return [op for op in ops(s) if not isinstance(op, T30Notice)]


def test_timer_during_a_receive_aborts_it_before_repeating() -> None:
    s = sender_session()
    to_dcs(s)                                    # now reading, waiting for CFR
    s.receive(Timeout(TimerExpired(Timer.T4)))
    assert io_ops(s) == [AbortReceive()]
    assert io_ops_after(s, OK) == [AtCommand("AT+FTS=8")]   # DCS again


def test_a_timer_t30_ignores_leaves_the_receive_alone() -> None:
    s = sender_session()
    s.receive(Timeout(TimerExpired(Timer.T4)))   # stale: T4 is not running
    assert ops(s) == []
    got = deliver(s, incoming(FCF.DIS, DIS_V17))
    assert AtCommand("AT+FTS=8") in got


def test_receiver_answers_with_csi_dis_then_trains_and_takes_a_page() -> None:
    r = Class1Session(T30.receiver(T30Config(local_id="+1 555 0199")))
    r.start()
    got = ops(r)
    assert got[0] == T30Notice(StartTimer(Timer.T1, 35.0))
    assert got[1:] == [WriteData(b"\xff\x03\x40" + b"9910 555 1+".rjust(20) + b"\x10\x03")]
    dis = answer(r, CONNECT)                     # implied +FTH=3 after ATA: no command
    assert isinstance(dis[0], WriteData) and dis[0].data[:3] == b"\xff\x13\x80"
    assert answer(r, OK)[-1] == AtCommand("AT+FRH=3")
    answer(r, CONNECT)
    assert deliver(r, incoming(FCF.TSI, encode_station_id("1"), final=False, x=True)) == [
        AtCommand("AT+FRH=3")]
    answer(r, CONNECT)
    params = Params(Modulation.V17_14400, Resolution.FINE, min_scan_ms=0)
    got = deliver(r, incoming(FCF.DCS, encode_dcs(params), x=True))
    assert got[-1] == AtCommand("AT+FRM=145")
    assert answer(r, CONNECT) == [ReadData()]
    r.receive(Data(bytes(1000)))
    assert ops(r) == []
    r.receive(Data(bytes(1700) + b"\x10\x03\r\nNO CARRIER\r\n"))
    assert ops(r) == [ReadResult(b"\r\nNO CARRIER\r\n")]
    got = io_ops_after(r, ResultCode.NO_CARRIER)
    assert got == [AtCommand("AT+FTS=8")]
    assert answer(r, OK) == [AtCommand("AT+FTH=3")]
    assert answer(r, CONNECT) == [WriteData(b"\xff\x13\x84\x10\x03")]        # CFR
    assert answer(r, OK)[-1] == AtCommand("AT+FRM=146")
    got = answer(r, CONNECT)
    assert len(got) == 1 and isinstance(got[0], ReceivePageData)
    r.receive(PageEnded(2287, PageQuality()))
    assert io_ops(r) == [AtCommand("AT+FRH=3")]
    assert r.t30.remote_id == "1"


def test_fcerror_on_frm_means_the_sender_repeated_its_command() -> None:
    r = Class1Session(T30.receiver(T30Config()))
    r.start()
    answer(r, OK)                                      # DIS sent (no CSI without an ID)
    answer(r, CONNECT)
    params = Params(Modulation.V29_9600, min_scan_ms=0)
    deliver(r, incoming(FCF.DCS, encode_dcs(params), x=True))
    assert answer(r, ResultCode.FCERROR) == [AtCommand("AT+FRH=3")]
    answer(r, CONNECT)
    got = deliver(r, incoming(FCF.DCS, encode_dcs(params), x=True))
    assert got[-1] == AtCommand("AT+FRM=96")           # training again at the same rate


@pytest.mark.parametrize(("code", "cause"), [
    (ResultCode.NO_CARRIER, Cause.CALL_LOST), (ResultCode.ERROR, Cause.MODEM_ERROR)])
def test_modem_refusing_a_transmission_ends_the_call(code: ResultCode, cause: Cause) -> None:
    s = sender_session()
    deliver(s, incoming(FCF.DIS, DIS_V17))
    answer(s, OK)                                     # +FTS
    s.receive(Result(code))                           # +FTH=3 refused
    got = ops(s)
    assert isinstance(got[-1], T30Notice) and isinstance(got[-1].action, Finished)
    assert got[-1].action.outcome.hangup.cause is cause
    assert not [op for op in got if isinstance(op, (AtCommand, WriteData))]
    assert s.finished


def test_line_gone_mid_receive_finishes_at_once() -> None:
    s = sender_session()
    s.receive(Hangup("port closed"))
    got = ops(s)
    assert isinstance(got[-1], T30Notice) and isinstance(got[-1].action, Finished)
    assert got[-1].action.outcome.hangup.cause is Cause.CALL_LOST
    assert not [op for op in got if not isinstance(op, T30Notice)]


def test_user_abort_while_listening_stops_the_receive_then_sends_dcn() -> None:
    s = sender_session()
    to_dcs(s)
    s.receive(Hangup(user_abort=True))
    assert io_ops(s) == [AbortReceive()]
    assert io_ops_after(s, OK) == [AtCommand("AT+FTS=8")]
    answer(s, OK)
    assert answer(s, CONNECT) == [WriteData(b"\xff\x13\xfb\x10\x03")]
    last = answer(s, OK)
    assert isinstance(last[-1], T30Notice) and isinstance(last[-1].action, Finished)
    assert last[-1].action.outcome.hangup.cause is Cause.ABORTED


def test_no_carrier_on_frh_is_retried_then_gives_up() -> None:
    s = sender_session()
    deliver(s, incoming(FCF.CSI, encode_station_id("999"), final=False))
    for _ in range(3):
        assert io_ops_after(s, ResultCode.NO_CARRIER) == [AtCommand("AT+FRH=3")]
    s.receive(Result(ResultCode.NO_CARRIER))
    got = ops(s)
    assert isinstance(got[-1], T30Notice) and isinstance(got[-1].action, Finished)
    assert got[-1].action.outcome.hangup.cause is Cause.CALL_LOST


def test_quirks_early_connect_delay_and_frames_without_fcs() -> None:
    quirks = Class1Quirks(fcs_octets=0, tm_connect_delay=0.4, turnaround_silence=7)
    s = Class1Session(T30.sender(T30Config(), 1), quirks)
    s.start()
    ops(s)
    s.receive(Data(frame_to_wire(encode_frame(Frame(FCF.DIS, DIS_V17))) + b"\r\nOK\r\n"))
    ops(s)
    assert io_ops_after(s, OK) == [AtCommand("AT+FTS=7")]       # the DIS parsed whole
    answer(s, OK)
    dcs = answer(s, CONNECT)
    assert isinstance(dcs[0], WriteData) and dcs[0].data[:3] == b"\xff\x13\x83"
    answer(s, OK)
    assert answer(s, OK) == [AtCommand("AT+FTM=145")]
    assert answer(s, CONNECT) == [Pause(0.4), WriteData(bytes(2700) + b"\x10\x03")]


def test_quirk_values_are_checked() -> None:
    with pytest.raises(ValueError):
        Class1Quirks(fcs_octets=-1)


def test_a_dis_without_the_final_bit_still_ends_the_receive() -> None:
    s = sender_session()
    got = deliver(s, incoming(FCF.DIS, DIS_V17, final=False))
    assert AtCommand("AT+FRH=3") not in got and got[-1] == AtCommand("AT+FTS=8")
