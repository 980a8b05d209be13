"""Class 1 (T.31) on the fake, byte for byte and at exact protocol times.

Two DCEs on one manual clock are wired back to back (tests/fake/faxpair.py), so
each assertion is what a DTE would read, at the moment the modem would send it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modemctl.fake.faxwire import (
    CED,
    CED_GAP,
    CED_TIME,
    CNG,
    HDLC_PREAMBLE,
    MODULATIONS,
    V21,
    CarrierOff,
    CarrierOn,
    Data,
    Frame,
    frame_time,
)
from modemctl.fake.personality import PersonalityError, load_personality, personality_dir
from tests.fake.faxpair import FaxPair
from tests.fake.helpers import Harness

OK, ERROR, CONNECT = b"\r\nOK\r\n", b"\r\nERROR\r\n", b"\r\nCONNECT\r\n"
NO_CARRIER, FCERROR = b"\r\nNO CARRIER\r\n", b"\r\n+FCERROR\r\n"
DLE_ETX = b"\x10\x03"
ALL_CODES = b"24,48,72,73,74,96,97,98,121,122,145,146"
CLASS1 = ["conexant-v92", "agere-v92", "usr-v90"]

# T.30 frames as a DTE sends them (address, control, FCF, FIF), DLE (0x10) inside.
CSI = b"\xff\x03\x40" + b"\x10 5551002".ljust(20, b" ")
DIS = b"\xff\x13\x80\x00\xce\xf4"
DCN = b"\xff\x13\xfb"


def no_echo(personality: str) -> Harness:
    h = Harness(personality)
    h.dce.settings.echo = 0
    return h


def stuffed(frame: bytes) -> bytes:
    return frame.replace(b"\x10", b"\x10\x10") + DLE_ETX


# ---------------------------------------------------------------------- what each modem offers
@pytest.mark.parametrize(("personality", "classes"), [
    ("conexant-v92", b"0,1,1.0"), ("agere-v92", b"0,1,1.0,2,2.0"), ("usr-v90", b"0,1,2.0"),
    ("hayes-basic", b"0"),
])
def test_fclass_test_lists_the_personalitys_classes(personality: str, classes: bytes) -> None:
    h = no_echo(personality)
    assert h.send(b"AT+FCLASS=?\r") == b"\r\n" + classes + b"\r\n" + OK


@pytest.mark.parametrize("personality", CLASS1)
def test_class1_modems_list_their_modulations(personality: str) -> None:
    h = no_echo(personality)
    assert h.send(b"AT+FCLASS=1\r") == OK
    assert h.send(b"AT+FCLASS?\r") == b"\r\n1\r\n" + OK
    assert h.send(b"AT+FTM=?\r") == b"\r\n" + ALL_CODES + b"\r\n" + OK
    assert h.send(b"AT+FRM=?\r") == b"\r\n" + ALL_CODES + b"\r\n" + OK
    assert h.send(b"AT+FTH=?\r") == b"\r\n3\r\n" + OK
    assert h.send(b"AT+FRH=?\r") == b"\r\n3\r\n" + OK
    assert h.send(b"AT+FTS=?\r") == b"\r\n0-255\r\n" + OK
    assert h.send(b"AT+FLO=?\r") == b"\r\n(0-2)\r\n" + OK
    assert h.send(b"AT+FCLASS=0\r") == OK


def test_a_modem_without_fax_refuses_class1() -> None:
    h = no_echo("hayes-basic")
    for cmd in (b"AT+FCLASS=1\r", b"AT+FTM=?\r", b"AT+FTH=3\r", b"AT+FRM=96\r"):
        assert h.send(cmd) == ERROR


@pytest.mark.parametrize("personality", CLASS1)
def test_class1_transfers_need_class1_and_off_hook(personality: str) -> None:
    h = no_echo(personality)
    assert h.send(b"AT+FTH=3\r") == ERROR              # class 0
    assert h.send(b"AT+FCLASS=1\r") == OK
    for cmd in (b"AT+FTH=3\r", b"AT+FRH=3\r", b"AT+FTM=96\r", b"AT+FRM=96\r",
                b"AT+FTS=8\r", b"AT+FRS=8\r"):
        assert h.send(cmd) == ERROR                     # on-hook (§4.1, spandsp)


# ---------------------------------------------------------------------- call set-up
def test_ata_sends_ced_then_connects_in_fth_and_atd_connects_on_v21() -> None:
    pair = FaxPair()
    a_out, b_out = pair.connect()
    assert a_out == CONNECT                 # implied +FRH=3: V.21 flags heard
    assert b_out == CONNECT                 # +FTH=3 after CED
    b_sent = pair.b_telco.fax_sent
    assert [type(s) for s in b_sent] == [CarrierOn, CarrierOff, CarrierOn]
    on_ced, off_ced, on_v21 = b_sent
    assert isinstance(on_ced, CarrierOn) and isinstance(on_v21, CarrierOn)
    assert isinstance(off_ced, CarrierOff)
    assert on_ced.kind == CED and on_v21.kind == V21
    assert off_ced.end - on_ced.start == pytest.approx(CED_TIME)
    assert on_v21.start - off_ced.end == pytest.approx(CED_GAP)
    first = pair.a_telco.fax_sent[0]
    assert isinstance(first, CarrierOn) and first.kind == CNG
    assert pair.a.current_state().value == "fax" and pair.b.current_state().value == "fax"


def test_atd_in_class1_without_a_fax_answer_ends_with_no_carrier_at_s7() -> None:
    pair = FaxPair()
    pair.a_send(b"AT+FCLASS=1\r")
    pair.a_send(b"ATS7=20D5551002\r")
    a_out, _ = pair.advance(19.0)
    assert a_out == b""
    a_out, _ = pair.advance(5.0)
    assert a_out == NO_CARRIER
    assert not pair.a.off_hook


# ---------------------------------------------------------------------- HDLC frames
@pytest.mark.parametrize("personality", CLASS1)
def test_frames_travel_at_300_bits_with_dle_transparency_both_ways(personality: str) -> None:
    pair = FaxPair(personality, personality)
    pair.connect()
    t0 = pair.clock.now()
    assert pair.b_send(stuffed(CSI)) == b""
    # the preamble (1 s of flags from the V.21 start) and the frame's own time
    v21_start = pair.b_telco.fax_sent[-1].start        # type: ignore[union-attr]
    done = v21_start + HDLC_PREAMBLE + frame_time(CSI)
    a_out, b_out = pair.advance(done - t0 - 0.01)
    assert (a_out, b_out) == (b"", b"")
    a_out, b_out = pair.advance(0.02)
    assert b_out == CONNECT                               # more frames may follow
    assert a_out == stuffed(CSI) + OK                     # CONNECT came with the flags
    assert pair.b_send(stuffed(DIS)) == b""
    assert pair.a_send(b"AT+FRH=3\r") == CONNECT          # the carrier is still on
    a_out, b_out = pair.advance(frame_time(DIS) + 0.01)
    assert b_out == OK                                    # final frame: carrier off, OK
    assert a_out == stuffed(DIS) + OK
    sent = [s for s in pair.b_telco.fax_sent if isinstance(s, Frame)]
    assert [s.data for s in sent] == [CSI, DIS]
    assert sent[1].end - sent[1].start == pytest.approx(frame_time(DIS))


def test_frame_damaged_in_flight_arrives_with_bad_fcs() -> None:
    pair = FaxPair()
    pair.connect()
    pair.b_send(stuffed(DIS))
    now = pair.clock.now()
    pair.interruptions.append((now + 0.5, now + 0.8))     # during the preamble: harmless
    a_out, b_out = pair.advance(3.0)
    assert b_out == OK and a_out == stuffed(DIS) + OK
    pair.b_send(b"AT+FTH=3\r")
    pair.b_out.take()
    assert pair.a_send(b"AT+FRH=3\r") == CONNECT
    pair.b_send(stuffed(DIS))
    now = pair.clock.now()
    pair.interruptions.append((now + 1.05, now + 1.35))   # during the frame
    a_out, b_out = pair.advance(3.0)
    assert b_out == OK
    assert a_out == stuffed(DIS) + ERROR


def test_fth_gives_error_when_the_dte_sends_nothing_for_5_s() -> None:
    pair = FaxPair()
    pair.connect()
    _, b_out = pair.advance(4.9)
    assert b_out == b""
    _, b_out = pair.advance(0.2)
    assert b_out == ERROR
    assert isinstance(pair.b_telco.fax_sent[-1], CarrierOff)


def test_frh_is_aborted_by_a_dte_character_with_ok() -> None:
    pair = FaxPair()
    pair.connect()
    pair.b_send(stuffed(DIS))
    pair.advance(3.0)
    pair.a_out.take()
    assert pair.a_send(b"AT+FRH=3\r") == b""
    pair.advance(0.5)
    assert pair.a_send(b"\x18") == OK                       # CAN, as efax sends
    assert pair.a_send(b"AT\r") == OK                       # back in command state


def test_frh_ignores_a_trailing_lf_within_125_ms() -> None:
    pair = FaxPair()
    pair.connect()
    pair.b_send(stuffed(DIS))
    pair.advance(3.0)
    assert pair.a_send(b"AT+FRH=3\r\n") == b""              # still receiving
    pair.b_send(b"AT+FTH=3\r")
    pair.b_send(stuffed(DCN))
    a_out, _ = pair.advance(3.0)
    assert a_out == CONNECT + stuffed(DCN) + OK


# ---------------------------------------------------------------------- high-speed data
def _to_data_phase(pair: FaxPair) -> None:
    """a (caller) ends up in command state, b has sent its final frame."""
    pair.connect()
    pair.b_send(stuffed(DIS))
    pair.advance(3.0)
    pair.a_out.take()
    pair.b_out.take()


@pytest.mark.parametrize(("code", "receiver"), [
    (24, "conexant-v92"), (48, "usr-v90"), (72, "agere-v92"), (96, "conexant-v92"),
    (145, "usr-v90"), (146, "agere-v92")])
def test_ftm_frm_carry_the_bytes_at_the_modulation_rate(code: int, receiver: str) -> None:
    pair = FaxPair("conexant-v92", receiver)
    _to_data_phase(pair)
    mod = MODULATIONS[code]
    payload = bytes(range(256)) * 3                          # every byte, DLE and XON too
    assert pair.b_send(f"AT+FRM={code}\r".encode()) == b""
    assert pair.a_send(f"AT+FTM={code}\r".encode()) == b""
    a_out, b_out = pair.advance(mod.training - 0.001)
    assert (a_out, b_out) == (b"", b"")
    a_out, b_out = pair.advance(0.002)
    assert a_out == CONNECT and b_out == CONNECT              # after the training
    pair.a.feed(payload.replace(b"\x10", b"\x10\x10") + DLE_ETX)
    a_out = pair.a_out.take()
    assert a_out.replace(b"\x13", b"").replace(b"\x11", b"") == b""  # only flow control
    airtime = len(payload) / mod.bytes_per_second
    a_out, b_out = pair.advance(airtime - 0.06)
    assert OK not in a_out and NO_CARRIER not in b_out
    a_out2, b_out2 = pair.advance(0.2)
    assert (a_out + a_out2).endswith(OK)
    assert b_out + b_out2 == (payload.replace(b"\x10", b"\x10\x10") + mod.turn_off
                              + DLE_ETX + NO_CARRIER)     # turn-off ones, then the end


def test_ftm_flow_control_xon_xoff_by_default_rts_cts_with_flo2() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.a_send(b"AT+FTM=24\r")
    assert pair.advance(1.0)[0] == CONNECT
    assert pair.a_send(b"\x00" * 2000) == b"\x13"             # XOFF: buffer above 1 KB
    assert pair.advance(6.0)[0] == b"\x11"                     # 300 bytes/s drain it: XON
    pair.a.feed(DLE_ETX)
    assert pair.advance(2.0)[0] == OK
    assert pair.a_send(b"AT+FLO=2\r") == OK
    pair.a_send(b"AT+FTM=24\r")
    assert pair.advance(1.0)[0] == CONNECT
    assert pair.a_send(b"\x00" * 2000) == b""
    assert pair.a_out.flow_stops == [True]                      # port reads stopped...
    pair.advance(6.0)
    assert pair.a_out.flow_stops == [True, False]               # ...and resumed


def test_frm_on_a_different_modulation_is_fcerror() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.b_send(b"AT+FRM=96\r")
    assert pair.a_send(b"AT+FTM=145\r") == b""
    assert pair.b_out.take() == FCERROR
    assert pair.advance(2.0) == (CONNECT, b"")
    pair.a.feed(b"\x00" * 100 + DLE_ETX)
    assert pair.advance(1.0) == (OK, b"")
    pair.b_send(b"AT+FRM=96\r")                                # V.21 instead: +FCERROR too
    pair.a_send(b"AT+FTH=3\r")
    assert pair.b_out.take() == FCERROR


def test_frm_short_train_hears_long_train_of_the_same_rate() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.b_send(b"AT+FRM=146\r")
    pair.a_send(b"AT+FTM=145\r")
    assert pair.advance(1.5) == (CONNECT, CONNECT)


@pytest.mark.parametrize(("personality", "expected"), [
    ("conexant-v92", FCERROR), ("usr-v90", FCERROR),
    ("agere-v92", CONNECT + ERROR),                  # Class1HasRHConnectBug
])
def test_frh_on_a_high_speed_carrier(personality: str, expected: bytes) -> None:
    pair = FaxPair(caller="conexant-v92", answerer=personality)
    _to_data_phase(pair)
    pair.b_send(b"AT+FRH=3\r")
    pair.a_send(b"AT+FTM=96\r")
    _, b_out = pair.advance(0.5)
    pair.a.feed(b"\x00" * 10 + DLE_ETX)
    _, b_out2 = pair.advance(1.0)
    assert b_out + b_out2 == expected


def test_agere_connects_before_training_others_after() -> None:
    pair = FaxPair(caller="agere-v92", answerer="conexant-v92")
    _to_data_phase(pair)
    assert pair.a_send(b"AT+FTM=145\r") == CONNECT           # early CONNECT (§4.2, §5.3)
    assert pair.b_send(b"AT+FTH=3\r") == CONNECT             # answerer is conexant
    pair.b_send(stuffed(DCN))
    pair.advance(3.0)
    pair.b_out.take()
    assert pair.b_send(b"AT+FTM=145\r") == b""
    assert pair.advance(1.4)[1] == CONNECT


def test_frm_missing_the_training_waits_for_the_next_carrier() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.a_send(b"AT+FTM=96\r")
    pair.advance(0.5)
    pair.a.feed(b"\x01" * 100)
    pair.advance(0.1)
    assert pair.b_send(b"AT+FRM=96\r") == b""                # carrier under way
    pair.a.feed(DLE_ETX)
    a_out, b_out = pair.advance(1.0)
    assert b_out == b"" and a_out.endswith(OK)
    pair.a_send(b"AT+FTM=96\r")
    _, b_out = pair.advance(0.3)
    pair.a.feed(b"\x02" * 12 + DLE_ETX)
    _, b_out2 = pair.advance(1.0)
    assert b_out + b_out2 == CONNECT + b"\x02" * 12 + b"\xff" * 16 + DLE_ETX + NO_CARRIER


def test_data_damaged_in_flight_arrives_with_a_corrupted_stretch() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.b_send(b"AT+FRM=24\r")
    pair.a_send(b"AT+FTM=24\r")
    pair.advance(1.0)
    pair.a.feed(b"\x00" * 600 + DLE_ETX)        # 2 s at 300 bytes/s
    now = pair.clock.now()
    pair.interruptions.append((now + 0.5, now + 0.8))
    _, b_out = pair.advance(3.0)
    data = b_out.removeprefix(CONNECT).removesuffix(b"\xff" * 8 + DLE_ETX + NO_CARRIER)
    assert len(data) == 600
    bad = [i for i, byte in enumerate(data) if byte]
    assert 80 <= len(bad) <= 100                  # 0.3 s of 300 bytes/s
    assert bad == list(range(bad[0], bad[0] + len(bad)))   # one stretch


def test_data_on_the_wire_is_exactly_what_the_dte_sent() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.a_send(b"AT+FTM=96\r")
    pair.advance(0.3)
    pair.a.feed(b"\x10\x10\x10\x11\xff" + DLE_ETX)   # DLE DLE, a DLE pair of no meaning
    pair.advance(1.0)
    sent = b"".join(s.data for s in pair.a_telco.fax_sent if isinstance(s, Data))
    assert sent == b"\x10\xff" + b"\xff" * 16                 # + V.29 9600 turn-off ones


# ---------------------------------------------------------------------- silence and results
def test_fts_and_frs_wait_their_tens_of_milliseconds() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    assert pair.a_send(b"AT+FTS=8\r") == b""
    assert pair.advance(0.079)[0] == b""
    assert pair.advance(0.002)[0] == OK
    pair.b_send(b"AT+FTH=3\r")
    pair.b_out.take()
    assert pair.a_send(b"AT+FRS=20\r") == b""       # b's flags are on the line
    assert pair.advance(2.0)[0] == b""
    pair.b_send(stuffed(DCN))
    assert pair.advance(frame_time(DCN) + 0.001)[0] == b""   # DCN ends, carrier drops
    off = pair.b_telco.fax_sent[-1]
    assert isinstance(off, CarrierOff)
    wait = off.end + 0.2 - pair.clock.now()
    assert pair.advance(wait - 0.005)[0] == b""
    assert pair.advance(0.01)[0] == OK


def test_fcerror_is_plus_f4_in_numeric_mode() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.b_send(b"ATV0\r")
    pair.b_out.take()
    pair.b_send(b"AT+FRM=96\r")
    pair.a_send(b"AT+FTH=3\r")
    assert pair.b_out.take() == b"+F4\r"


def test_only_class1_personalities_carry_a_fax_table() -> None:
    assert load_personality("conexant-v92").fax is not None
    assert load_personality("hayes-basic").fax is None


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace("[fax]", "[nofax]"), r"a \[fax\] table"),
    (lambda t: t.replace("ftm = [24,", "ftm = [3, 25,"), "unknown high-speed"),
    (lambda t: t.replace('hardware_flow = "&K3"', 'hardware_flow = "K3"'), "hardware_flow"),
    (lambda t: t.replace('fax_classes = ["0", "1", "1.0"]', 'fax_classes = ["0"]'),
     "offers no class 1"),
])
def test_a_broken_fax_table_is_refused(tmp_path: Path, edit: Callable[[str], str],
                                       message: str) -> None:
    text = (personality_dir() / "conexant-v92.toml").read_text()
    broken = tmp_path / "broken.toml"
    broken.write_text(edit(text))
    with pytest.raises(PersonalityError, match=message):
        load_personality(broken)


@pytest.mark.parametrize(("personality", "init", "flo"), [
    ("conexant-v92", b"", b"1"), ("conexant-v92", b"AT&K3\r", b"2"),
    ("agere-v92", b"AT&K4\r", b"1"), ("agere-v92", b"AT&K3\r", b"2"),
    ("usr-v90", b"AT&K3\r", b"1"),                    # USR: &K is compression
])
def test_class1_flow_control_follows_the_modems_hardware_flow_setting(
        personality: str, init: bytes, flo: bytes) -> None:
    h = no_echo(personality)
    if init:
        assert h.send(init) == OK
    assert h.send(b"AT+FCLASS=1\r") == OK
    assert h.send(b"AT+FLO?\r") == b"\r\n" + flo + b"\r\n" + OK
    assert h.send(b"AT+FLO=0\r") == OK
    assert h.send(b"AT+FLO?\r") == b"\r\n0\r\n" + OK
    assert h.send(b"AT+FLO=3\r") == ERROR


def test_far_hang_up_ends_a_receive_with_no_carrier_but_not_an_idle_modem() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    assert pair.a_send(b"AT+FRH=3\r") == b""
    pair.a.remote_hangup()
    assert pair.a_out.take() == NO_CARRIER and not pair.a.off_hook
    pair.b.remote_hangup()                         # b is in fax command state
    assert pair.b_out.take() == b"" and not pair.b.off_hook


@pytest.mark.parametrize(("code", "ones"), [(24, 8), (48, 12), (72, 12), (96, 16), (121, 20),
                                            (145, 24), (146, 24)])
def test_a_carrier_ends_with_32_symbols_of_ones(code: int, ones: int) -> None:
    assert MODULATIONS[code].turn_off == b"\xff" * ones


def test_the_sender_hears_ok_before_the_receiver_notices_the_carrier_is_gone() -> None:
    pair = FaxPair()
    _to_data_phase(pair)
    pair.b_send(b"AT+FRM=96\r")
    pair.a_send(b"AT+FTM=96\r")
    pair.advance(0.3)
    pair.a.feed(b"\x00" * 12 + DLE_ETX)
    a_out, b_out = pair.advance(0.04)      # 12 bytes + 16 ones at 1200 bytes/s from 0.303 s
    assert a_out == OK and not b_out.endswith(NO_CARRIER)
    assert pair.advance(0.05)[1].endswith(DLE_ETX + NO_CARRIER)   # noticed 50 ms later
