"""T.30 frame codec, station IDs and DIS/DCS bits, against the standard's tables."""

from __future__ import annotations

import pytest

from modemctl.fax.t30 import (
    FCF,
    Capabilities,
    Coding,
    Frame,
    FrameError,
    Modulation,
    PageLength,
    PageWidth,
    Params,
    Resolution,
    decode_dcs,
    decode_dis,
    decode_frame,
    decode_station_id,
    encode_dcs,
    encode_dis,
    encode_frame,
    encode_station_id,
)
from modemctl.fax.t30.caps import ladder

# T.30 Table 1 writes each code with the first transmitted bit on the left
# and X for the X bit; a Class 1 modem delivers the first bit as the LSB.
T30_TABLE = {
    FCF.DIS: "00000001", FCF.CSI: "00000010", FCF.NSF: "00000100",
    FCF.DTC: "10000001", FCF.CIG: "10000010", FCF.NSC: "10000100",
    FCF.DCS: "X1000001", FCF.TSI: "X1000010", FCF.NSS: "X1000100",
    FCF.CFR: "X0100001", FCF.FTT: "X0100010",
    FCF.EOM: "X1110001", FCF.MPS: "X1110010", FCF.EOP: "X1110100",
    FCF.PRI_EOM: "X1111001", FCF.PRI_MPS: "X1111010", FCF.PRI_EOP: "X1111100",
    FCF.MCF: "X0110001", FCF.RTN: "X0110010", FCF.RTP: "X0110011",
    FCF.PIN: "X0110100", FCF.PIP: "X0110101",
    FCF.DCN: "X1011111", FCF.CRP: "X1011000",
}


def _wire_byte(pattern: str, x: int) -> int:
    return int(pattern.replace("X", str(x))[::-1], 2)


def test_every_code_is_in_the_table() -> None:
    assert set(T30_TABLE) == set(FCF)


@pytest.mark.parametrize("fcf", list(FCF), ids=lambda f: f.name)
def test_code_values_match_t30_table_1(fcf: FCF) -> None:
    pattern = T30_TABLE[fcf]
    assert int(fcf) == _wire_byte(pattern, 0)
    assert fcf.has_x_bit == pattern.startswith("X")


@pytest.mark.parametrize("fcf", [f for f in FCF if f.has_x_bit], ids=lambda f: f.name)
def test_x_bit_round_trips_for_both_stations(fcf: FCF) -> None:
    for x in (0, 1):
        wire = bytes((0xFF, 0x13, _wire_byte(T30_TABLE[fcf], x)))
        frame = decode_frame(wire)
        assert (frame.fcf, frame.x, frame.final) == (fcf, bool(x), True)
        assert encode_frame(frame) == wire


def test_dtc_is_not_dis_with_x_bit() -> None:
    assert decode_frame(b"\xff\x13\x81\x00\x00\x00").fcf is FCF.DTC
    with pytest.raises(ValueError):
        Frame(FCF.DIS, x=True)


def test_control_octet_says_final() -> None:
    assert encode_frame(Frame(FCF.CSI, b"1", final=False)) == b"\xff\x03\x401"
    assert decode_frame(b"\xff\x03\x40" + b" " * 20).final is False


@pytest.mark.parametrize(("data", "reason"), [
    (b"\xff\x13", "at least 3"),
    (b"\xfe\x13\x80", "address"),
    (b"\xff\x23\x80", "control"),
    (b"\xff\x13\x00", "unknown facsimile control field"),
    (b"\xff\x13\x10", "unknown"),
])
def test_bad_frames_raise_typed_errors(data: bytes, reason: str) -> None:
    with pytest.raises(FrameError, match=reason) as info:
        decode_frame(data)
    assert info.value.data == data


def test_station_id_is_sent_last_character_first() -> None:
    fif = encode_station_id("+1 555 0100")
    assert len(fif) == 20
    assert fif == b"0010 555 1+".rjust(20)
    assert decode_station_id(fif) == "+1 555 0100"


def test_station_id_decode_is_lenient() -> None:
    assert decode_station_id(b"\x00\x00" + b"54321") == "12345"
    assert decode_station_id(bytes([0x01]) + b"A") == "A?"


@pytest.mark.parametrize("bad", ["x" * 21, "caf\u00e9"])
def test_station_id_encode_rejects_what_cannot_be_sent(bad: str) -> None:
    with pytest.raises(ValueError):
        encode_station_id(bad)


# --- DIS / DCS bits (T.30 Table 2), worked by hand --------------------------
# bit n is octet (n-1)//8, value 1 << ((n-1) % 8); bit 24 = "octet 4 follows".


def test_dis_bits_for_a_v17_fine_mr_station() -> None:
    # bits 10 (receive), 11+12+14 (V.27ter, V.29, V.17), 15 (fine), 16 (MR),
    # 21-23 = 1,1,1 (0 ms), 24 (extend); octet 4 all zero (no ECM).
    assert encode_dis(Capabilities()) == bytes((0x00, 0xEE, 0xF0, 0x00))


def test_dis_decodes_modulation_sets() -> None:
    v29_only = decode_dis(bytes((0x00, 0x06, 0x00)))
    assert v29_only.modulations == {Modulation.V27_2400, Modulation.V29_7200,
                                    Modulation.V29_9600}
    fallback = decode_dis(bytes((0x00, 0x02, 0x00)))
    assert fallback.modulations == {Modulation.V27_2400}
    assert decode_dis(bytes((0x00, 0x2E, 0x00))).modulations == set(Modulation)


def test_dis_scan_time_halved_at_fine() -> None:
    # bits 21, 22 = 1, 1 and 23 = 0: 20 ms at standard, half at fine.
    caps = decode_dis(bytes((0x00, 0x42, 0x30)))
    assert (caps.min_scan_ms, caps.scan_halved_at_fine) == (20, True)
    assert caps.scan_time_ms(Resolution.FINE) == 10
    assert caps.scan_time_ms(Resolution.STANDARD) == 20
    assert encode_dis(caps)[:3] == bytes((0x00, 0x42, 0xB0))


def test_dis_width_length_and_ecm_bits() -> None:
    caps = decode_dis(bytes((0x00, 0x02, 0x0A, 0x04)))      # bits 18, 20, 27
    assert caps.widths == {PageWidth.A4, PageWidth.B4, PageWidth.A3}
    assert caps.lengths == {PageLength.A4, PageLength.B4, PageLength.UNLIMITED}
    assert caps.ecm and caps.can_receive and not caps.fine


def test_dis_too_short() -> None:
    with pytest.raises(FrameError, match="need 3"):
        decode_dis(b"\x00\x02")


@pytest.mark.parametrize(("mod", "octet2"), [
    # bits 11, 12, 13, 14 per T.30 Table 2 (DCS), plus bit 10 (0x02)
    (Modulation.V27_2400, 0x02), (Modulation.V27_4800, 0x0A),
    (Modulation.V29_9600, 0x06), (Modulation.V29_7200, 0x0E),
    (Modulation.V17_14400, 0x22), (Modulation.V17_12000, 0x2A),
    (Modulation.V17_9600, 0x26), (Modulation.V17_7200, 0x2E),
])
def test_dcs_rate_codes(mod: Modulation, octet2: int) -> None:
    fif = encode_dcs(Params(mod, min_scan_ms=20))
    assert fif == bytes((0x00, octet2, 0x80, 0x00))     # 20 ms = 0,0,0; extend
    assert decode_dcs(fif).modulation is mod


def test_dcs_round_trip_fine_mr() -> None:
    params = Params(Modulation.V17_14400, Resolution.FINE, Coding.MR, min_scan_ms=0)
    fif = encode_dcs(params)
    assert fif == bytes((0x00, 0xE2, 0xF0, 0x00))
    assert decode_dcs(fif) == params


def test_dcs_unknown_rate_is_typed() -> None:
    with pytest.raises(FrameError, match="no modulation"):
        decode_dcs(bytes((0x00, 0x12, 0x80)))                # bit 13 alone


def test_ladder_falls_back_fastest_first() -> None:
    assert ladder(Modulation) == (
        Modulation.V17_14400, Modulation.V17_12000, Modulation.V17_9600,
        Modulation.V29_9600, Modulation.V17_7200, Modulation.V29_7200,
        Modulation.V27_4800, Modulation.V27_2400)
    assert ladder({Modulation.V27_2400, Modulation.V29_9600}) == (
        Modulation.V29_9600, Modulation.V27_2400)
