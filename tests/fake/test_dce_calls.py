"""Byte-exact tests of the interpreter's call states: dialing, answering, online data,
escape, ATO, DTR, ringing, caller ID and carrier loss, on a manual clock."""

from __future__ import annotations

import pytest

from modemctl.fake import DceState, available_personalities
from tests.fake.helpers import Harness

ALL = available_personalities()
DIAL_TIME = 5.0  # comfortably more than dialling 7 tone digits plus the blind-dial wait


def dial_connected(init: bytes = b"", personality: str = "conexant-v92", rate: int = 33600,
                   number: bytes = b"1") -> tuple[Harness, bytes]:
    """``ATE0<init>DT<number>`` on one line, then training and a connection at
    ``rate``: the harness, and what the DCE said about it."""
    h = Harness(personality)
    h.send(b"ATE0" + init + b"DT" + number + b"\r")
    h.advance(DIAL_TIME)
    h.dce.connected(rate)
    return h, h.out.take()


def online(personality: str = "conexant-v92", rate: int = 33600, init: bytes = b"") -> Harness:
    h, out = dial_connected(init, personality, rate, number=b"5551002")
    assert out == f"\r\nCONNECT {rate}\r\n".encode()
    return h


def until_placed(h: Harness) -> None:
    """Advance the clock in small steps until the dialled call is handed to the network."""
    for _ in range(1000):
        if h.telco.placed:
            return
        h.advance(0.01)
    raise AssertionError("never dialled")


def test_dial_places_call_then_connect() -> None:
    h = Harness("conexant-v92")
    assert h.send(b"ATDT5551002\r") == b"ATDT5551002\r"
    assert h.dce.state is DceState.DIALING and not h.telco.placed
    h.advance(DIAL_TIME)
    assert h.telco.placed[0].segments == (("T", "5551002"),)
    h.dce.connected(33600)
    assert h.out.take() == b"\r\nCONNECT 33600\r\n"
    assert h.dce.state is DceState.ONLINE_DATA and h.dce.dcd


@pytest.mark.parametrize(("personality", "code"), [
    ("conexant-v92", b"84\r"), ("agere-v92", b"84\r"), ("usr-v90", b"155\r")])
def test_numeric_connect_codes(personality: str, code: bytes) -> None:
    _, out = dial_connected(b"V0", personality, 33600)
    assert out == code


def test_hayes_numeric_connect_14400() -> None:
    _, out = dial_connected(b"V0", "hayes-basic", 14400)
    assert out == b"15\r"


def test_x0_plain_connect_and_fax_class_plain_connect() -> None:
    _, out = dial_connected(b"X0", "conexant-v92", 33600)
    assert out == b"\r\nCONNECT\r\n"
    _, out = dial_connected(b"+FCLASS=1;", "conexant-v92", 14400)
    assert out == b"\r\nCONNECT\r\n"


def test_dial_modifiers_and_punctuation() -> None:
    h = Harness()
    h.send(b"ATE0DT*70,W(555) 100-2@\r")
    h.advance(DIAL_TIME)
    req = h.telco.placed[0]
    assert req.segments == (("T", "*705551002"),) and req.quiet_answer
    h = Harness()
    h.send(b"ATE0DP1170,5551002\r")
    h.advance(30)
    assert h.telco.placed[0].segments == (("P", "11705551002"),)
    h = Harness()
    h.send(b"ATE0DP*1T*2\r")                 # '*' cannot be pulsed
    h.advance(DIAL_TIME)
    assert h.telco.placed[0].segments == (("P", "1"), ("T", "*2"))


def test_comma_pause_takes_s8() -> None:
    h = Harness()
    h.send(b"ATE0S8=10DT,1\r")
    h.advance(9.5)
    assert not h.telco.placed
    h.advance(1.0)
    assert h.telco.placed


def test_semicolon_returns_to_command_mode_and_dialling_continues() -> None:
    h = Harness()
    h.send(b"ATE0\r")
    h.send(b"ATDT555;\r")
    assert h.advance(DIAL_TIME) == b"\r\nOK\r\n"
    assert h.dce.off_hook and h.dce.state is DceState.COMMAND and not h.telco.placed
    h.send(b"ATDT1002\r")
    h.advance(DIAL_TIME)
    assert h.telco.placed[0].digits == "5551002"


@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize(("x", "detected"), [(0, False), (1, False), (2, True), (3, False),
                                             (4, True)])
def test_no_dial_tone_by_x_level(personality: str, x: int, detected: bool) -> None:
    """X2/X4 listen S6 seconds for dial tone; X0/X1/X3 dial blind and S7 runs out."""
    h = Harness(personality)
    h.telco.dial_tone = False
    h.send(b"ATE0S6=3S7=20\r")
    assert h.send(f"ATX{x}DT5551002\r".encode()) == b""
    if detected:
        assert h.advance(2.9) == b""
        text = h.dce.personality.no_dialtone_text.encode()
        assert h.advance(0.2) == b"\r\n" + text + b"\r\n"
        assert not h.telco.placed
    else:
        until_placed(h)                                  # blind: dialled into nothing
        assert h.advance(19.9) == b""
        assert h.advance(0.2) == b"\r\nNO CARRIER\r\n"
    assert not h.dce.off_hook and h.dce.state is DceState.COMMAND


def test_no_dial_tone_spellings() -> None:
    assert Harness("conexant-v92").dce.personality.no_dialtone_text == "NO DIALTONE"
    assert Harness("agere-v92").dce.personality.no_dialtone_text == "NO DIAL TONE"


def test_w_forces_dial_tone_detection_even_blind() -> None:
    h = Harness()
    h.telco.dial_tone = False
    assert h.send(b"ATE0X3DTW1\r") == b"ATE0X3DTW1\r"
    assert h.advance(2.1) == b"\r\nNO DIALTONE\r\n"


@pytest.mark.parametrize(("x", "text"), [(4, b"BUSY"), (3, b"BUSY"), (2, b"NO CARRIER"),
                                         (0, b"NO CARRIER")])
def test_busy_by_x_level(x: int, text: bytes) -> None:
    h = Harness()
    h.send(f"ATE0X{x}DT1\r".encode())
    h.advance(DIAL_TIME)
    h.dce.call_failed("busy")
    assert h.out.take() == b"\r\n" + text + b"\r\n"
    assert h.dce.state is DceState.COMMAND and not h.dce.off_hook


@pytest.mark.parametrize(("modifier", "text"), [(b"", b"NO CARRIER"), (b"@", b"NO ANSWER")])
def test_s7_expiry(modifier: bytes, text: bytes) -> None:
    h = Harness()
    h.send(b"ATE0S7=30DT1" + modifier + b"\r")
    until_placed(h)
    assert h.advance(29.0) == b""
    assert h.advance(1.5) == b"\r\n" + text + b"\r\n"
    assert h.telco.hangups == 1


def test_any_character_aborts_dialing_but_not_a_trailing_lf() -> None:
    h = Harness()
    h.send(b"ATE0\r")
    assert h.send(b"ATDT1\r\n") == b""
    h.advance(0.05)
    assert h.send(b"\n") == b""                       # within 125 ms: ignored
    h.advance(0.2)
    assert h.send(b"x") == b"\r\nNO CARRIER\r\n"
    assert h.dce.state is DceState.COMMAND and h.telco.hangups == 1


def test_answer_without_offer_waits_s7() -> None:
    h = Harness()
    h.send(b"ATE0S7=5\r")
    assert h.send(b"ATA\r") == b""
    assert h.dce.state is DceState.ANSWERING and h.telco.answers == 1
    assert h.advance(5.1) == b"\r\nNO CARRIER\r\n"


# --- escape and ATO ---------------------------------------------------------------------
def test_guarded_escape_and_ato() -> None:
    h = online()
    h.advance(1.1)
    assert h.send(b"+++") == b""
    assert h.advance(0.9) == b""
    assert h.advance(0.2) == b"\r\nOK\r\n"
    assert h.dce.state is DceState.ONLINE_COMMAND
    assert bytes(h.telco.sent) == b"+++"             # the escape still reaches the far end
    h.dce.remote_data(b"held")
    assert h.send(b"ATO\r") == b"\r\nCONNECT 33600\r\nheld"
    assert h.dce.state is DceState.ONLINE_DATA


@pytest.mark.parametrize("steps", [
    [(0.5, b"+++")],                    # guard before too short
    [(1.1, b"+++x")],                   # something follows within the guard
    [(1.1, b"++++")],                   # four escape characters
    [(1.1, b"+"), (1.5, b"++")],        # gap between characters longer than the guard
    [(1.1, b"a+++")],                   # data right before
])
def test_unguarded_plus_does_not_escape(steps: list[tuple[float, bytes]]) -> None:
    h = online()
    for wait, data in steps:
        h.advance(wait)
        h.send(data)
    assert h.advance(3.0) == b""
    assert h.dce.state is DceState.ONLINE_DATA


def test_s12_zero_escapes_without_guard_and_s2_changes_character() -> None:
    h, _ = dial_connected(b"S12=0S2=42", "conexant-v92", 33600)
    assert h.send(b"data***") == b"\r\nOK\r\n"


def test_s2_above_127_disables_escape() -> None:
    h, _ = dial_connected(b"S2=200", "conexant-v92", 33600)
    h.advance(1.1)
    h.send(b"+++")
    assert h.advance(2) == b""


def test_escape_guard_scales_with_s12() -> None:
    h, _ = dial_connected(b"S12=100", "conexant-v92", 33600)
    h.advance(1.5)
    h.send(b"+++")
    assert h.advance(3.0) == b""                     # 1.5 s < 2 s guard before
    h.advance(2.1)
    h.send(b"+++")
    assert h.advance(2.1) == b"\r\nOK\r\n"


def test_online_command_restrictions_and_hangup() -> None:
    h = online()
    h.advance(1.1)
    h.send(b"+++")
    h.advance(1.1)
    h.out.take()
    assert h.send(b"ATDT5\r") == b"\r\nERROR\r\n"   # cannot dial while a call is held
    assert h.send(b"ATA\r") == b"\r\nERROR\r\n"
    assert h.send(b"ATS10=50\r") == b"\r\nOK\r\n"
    assert h.send(b"ATH\r") == b"\r\nOK\r\n"
    assert h.telco.hangups == 1 and not h.dce.call_up
    assert h.send(b"ATO\r") == b"\r\nERROR\r\n"


def test_remote_hangup_gives_no_carrier() -> None:
    h = online()
    h.dce.remote_hangup()
    assert h.out.take() == b"\r\nNO CARRIER\r\n"
    assert h.dce.state is DceState.COMMAND and h.telco.hangups == 0


def test_data_is_transparent() -> None:
    h = online()
    every = bytes(range(256))
    h.advance(0.01)
    assert h.send(every) == b""
    assert bytes(h.telco.sent) == every
    h.dce.remote_data(every)
    assert h.out.take() == every


# --- DTR --------------------------------------------------------------------------------
@pytest.mark.parametrize(("amp_d", "out", "state"), [
    (b"&D0", b"", DceState.ONLINE_DATA),                    # DTR ignored
    (b"&D1", b"\r\nOK\r\n", DceState.ONLINE_COMMAND),       # call held, command mode
])
def test_dtr_drop_amp_d0_d1_keep_the_call(amp_d: bytes, out: bytes, state: DceState) -> None:
    h = online(init=amp_d)
    h.dce.set_dtr(False)
    assert h.out.take() == out and h.dce.state is state


def test_dtr_drop_amp_d2_hangs_up() -> None:
    h = online()
    h.dce.set_dtr(False)
    assert h.out.take() == b"\r\nNO CARRIER\r\n"
    assert h.dce.state is DceState.COMMAND and h.telco.hangups == 1


def test_dtr_drop_amp_d3_resets() -> None:
    h, _ = dial_connected(b"&D3V0S0=9", "conexant-v92", 33600)
    h.dce.set_dtr(False)
    assert h.out.take() == b""
    assert h.telco.hangups == 1 and h.dce.registers[0] == 0 and h.dce.settings.verbose == 1


def test_amp_c_controls_dcd() -> None:
    h = Harness()
    h.send(b"AT&C0\r")
    assert h.dce.dcd
    h.send(b"AT&C1\r")
    assert not h.dce.dcd


# --- ringing ----------------------------------------------------------------------------
def test_ring_counts_in_s1_and_resets_after_8s() -> None:
    h = Harness()
    h.send(b"ATE0\r")
    h.dce.ring(True)
    assert h.out.take() == b"\r\nRING\r\n" and h.dce.ri
    h.dce.ring(False)
    assert not h.dce.ri
    h.advance(6)
    h.dce.ring(True)
    assert h.send(b"ATS1?\r") == b"\r\nRING\r\n\r\n002\r\n\r\nOK\r\n"
    h.dce.ring(False)
    h.advance(8.1)
    assert h.send(b"ATS1?\r") == b"\r\n000\r\n\r\nOK\r\n"


def test_usr_s1_resets_after_6s() -> None:
    h = Harness("usr-v90")
    h.dce.ring(True)
    h.dce.ring(False)
    h.advance(6.1)
    assert h.dce.registers[1] == 0


def test_ring_numeric_and_quiet() -> None:
    h = Harness()
    h.send(b"ATE0V0\r")
    h.out.take()
    h.dce.ring(True)
    assert h.out.take() == b"2\r"
    h.send(b"ATQ1\r")
    h.dce.ring(True)
    assert h.out.take() == b""


def test_s0_auto_answer_on_nth_ring() -> None:
    h = Harness()
    h.send(b"ATE0S0=2\r")
    h.telco.offered = True
    h.dce.ring(True)
    h.dce.ring(False)
    assert h.telco.answers == 0
    h.dce.ring(True)
    assert h.telco.answers == 1 and h.dce.state is DceState.ANSWERING
    h.out.take()
    h.dce.connected(33600)
    assert h.out.take() == b"\r\nCONNECT 33600\r\n"


def test_s0_auto_answer_disabled_while_dtr_off_with_amp_d2() -> None:
    h = Harness()
    h.send(b"ATE0S0=1\r")
    h.dce.set_dtr(False)
    h.dce.ring(True)
    assert h.telco.answers == 0


CID = [("DATE", "0321"), ("TIME", "1405"), ("NMBR", "5559999"), ("NAME", "ALICE")]


def test_caller_id_formatted_when_vcid_1() -> None:
    h = Harness()
    h.send(b"ATE0+VCID=1\r")
    h.out.take()
    h.dce.caller_id(CID)
    assert h.out.take() == (b"\r\nDATE = 0321\r\nTIME = 1405\r\nNMBR = 5559999\r\n"
                            b"NAME = ALICE\r\n")


def test_caller_id_hidden_when_vcid_0() -> None:
    h = Harness()
    h.dce.caller_id(CID)
    assert h.out.take() == b""


# --- carrier ----------------------------------------------------------------------------
@pytest.mark.parametrize(("s10", "duration", "survives"), [
    (14, 0.3, True), (9, 0.3, False), (10, 0.3, True), (7, 0.3, False), (255, 10.0, True),
    (20, 1.5, False), (30, 1.5, True)])
def test_carrier_interruption_rule(s10: int, duration: float, survives: bool) -> None:
    h = Harness("usr-v90")                         # S9=6, S10 range 0-255
    h.send(f"ATE0S10={s10}DT1\r".encode())
    h.advance(DIAL_TIME)
    h.dce.connected(33600)
    h.out.take()
    assert h.dce.carrier_interruption(duration) is survives
    assert not h.dce.carrier
    out = h.advance(30)
    assert (out == b"") is survives
    if survives:
        assert h.dce.carrier and h.dce.state is DceState.ONLINE_DATA
    else:
        assert out == b"\r\nNO CARRIER\r\n" and h.telco.hangups == 1


def test_permanent_carrier_loss_waits_s10_minus_s9() -> None:
    h = online()                                   # S10=14, S9=6: 0.8 s
    h.dce.carrier_interruption(None)
    assert h.advance(0.7) == b""
    assert h.advance(0.2) == b"\r\nNO CARRIER\r\n"


def test_s10_255_never_hangs_up_but_ato_reports_no_carrier() -> None:
    h, _ = dial_connected(b"S10=255", "usr-v90", 33600)
    h.dce.carrier_interruption(None)
    assert h.advance(600) == b"" and h.dce.call_up and not h.dce.dcd
    h.send(b"+++")
    assert h.advance(1.1) == b"\r\nOK\r\n"
    assert h.send(b"ATO\r") == b"\r\nNO CARRIER\r\n"


def test_caller_id_unformatted_when_vcid_2_is_mdmf_hex() -> None:
    h = Harness()
    h.send(b"ATE0+VCID=2\r")
    h.out.take()
    h.dce.caller_id(CID)
    out = h.out.take()
    assert out.startswith(b"\r\n") and out.endswith(b"\r\n")
    raw = bytes.fromhex(out.strip().decode())
    assert raw[0] == 0x80 and raw[1] == len(raw) - 3 and sum(raw) % 256 == 0
    assert b"\x01\x0803211405" in raw and b"\x02\x075559999" in raw and b"\x07\x05ALICE" in raw


def test_private_caller_uses_absence_parameter() -> None:
    from modemctl.fake.callerid import mdmf
    raw = mdmf([("NMBR", "P")])
    assert raw[2:5] == b"\x04\x01P" and sum(raw) % 256 == 0
