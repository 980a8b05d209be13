"""Class 1 DLE transparency, bit order, carrier codes and +FTM=? lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modemctl.fax.class1 import (
    DleDecoder,
    PageDataDecoder,
    Training,
    carrier_code,
    frame_to_wire,
    page_to_wire,
    parse_code_list,
    reverse_bits,
    usable_modulations,
)
from modemctl.fax.class1.hdlc import fcs16, strip_fcs
from modemctl.fax.t30 import Modulation


def test_bit_reversal_known_values() -> None:
    assert reverse_bits(bytes((0x01, 0x80, 0x0F, 0xA0, 0x00, 0xFF))) == bytes(
        (0x80, 0x01, 0xF0, 0x05, 0x00, 0xFF))


def test_frame_to_wire_doubles_dle_and_ends_with_dle_etx() -> None:
    assert frame_to_wire(b"\xff\x13\x10\x03") == b"\xff\x13\x10\x10\x03\x10\x03"


def test_page_to_wire_reverses_then_stuffs() -> None:
    # 0x08 reversed is 0x10 (DLE): it must be doubled after reversal.
    assert page_to_wire(b"\x08\x80") == b"\x10\x10\x01\x10\x03"


def test_decoder_splits_at_dle_etx_and_keeps_the_result_line() -> None:
    d = DleDecoder()
    assert d.feed(b"ab\x10\x10c\x10\x03\r\nOK\r\n") == b"ab\x10c"
    assert d.ended and d.leftover == b"\r\nOK\r\n"
    assert d.feed(b"more") == b"" and d.leftover == b"\r\nOK\r\nmore"


def test_decoder_holds_a_dle_split_across_chunks() -> None:
    d = DleDecoder()
    assert d.feed(b"a\x10") == b"a"
    assert d.feed(b"\x10b\x10") == b"\x10b"
    assert not d.ended
    assert d.feed(b"\x03") == b"" and d.ended and d.leftover == b""


def test_decoder_drops_unknown_dle_pairs() -> None:
    d = DleDecoder()
    assert d.feed(b"a\x10\x1ab") == b"ab"
    assert d.dropped == 2


@given(st.binary(max_size=300), st.lists(st.integers(1, 40), max_size=20))
def test_any_page_round_trips_through_the_wire_form(data: bytes, cuts: list[int]) -> None:
    wire = page_to_wire(data) + b"\r\nOK\r\n"
    d = PageDataDecoder()
    out = bytearray()
    pos = 0
    for cut in cuts:
        out += d.feed(wire[pos:pos + cut])
        pos += cut
    out += d.feed(wire[pos:])
    assert bytes(out) == data and d.ended and d.leftover == b"\r\nOK\r\n"


@pytest.mark.parametrize(("mod", "training", "code"), [
    (Modulation.V27_2400, Training.LONG, 24), (Modulation.V27_4800, Training.SHORT, 48),
    (Modulation.V29_7200, Training.LONG, 72), (Modulation.V29_9600, Training.SHORT, 96),
    (Modulation.V17_7200, Training.LONG, 73), (Modulation.V17_7200, Training.SHORT, 74),
    (Modulation.V17_9600, Training.LONG, 97), (Modulation.V17_9600, Training.SHORT, 98),
    (Modulation.V17_12000, Training.LONG, 121), (Modulation.V17_12000, Training.SHORT, 122),
    (Modulation.V17_14400, Training.LONG, 145), (Modulation.V17_14400, Training.SHORT, 146),
])
def test_carrier_codes_follow_t31(mod: Modulation, training: Training, code: int) -> None:
    assert carrier_code(mod, training) == code


@pytest.mark.parametrize(("text", "codes"), [
    ("24,48,72,73,74,96,97,98,121,122,145,146",
     {24, 48, 72, 73, 74, 96, 97, 98, 121, 122, 145, 146}),
    ("(3)", {3}),
    ("+FTM: 24,48,72,96", {24, 48, 72, 96}),
    ("24-96", {24, 48, 72, 73, 74, 96}),
    ("", set()),
])
def test_parse_code_lists(text: str, codes: set[int]) -> None:
    assert parse_code_list(text) == codes


def test_parse_code_list_rejects_text() -> None:
    with pytest.raises(ValueError, match="not a carrier code list"):
        parse_code_list("OK")


def test_v17_needs_both_trainings() -> None:
    assert usable_modulations({24, 48, 72, 96, 145}) == {
        Modulation.V27_2400, Modulation.V27_4800, Modulation.V29_7200, Modulation.V29_9600}
    assert Modulation.V17_14400 in usable_modulations({24, 145, 146})


def test_fcs16_is_the_x25_check_value() -> None:
    # CRC-16/X.25 of "123456789" is 0x906E (sent low octet first).
    assert fcs16(b"123456789") == b"\x6e\x90"


def test_fcs_octets_are_stripped_only_when_they_are_the_fcs() -> None:
    frame = b"\xff\x13\x80\x00\xee\xf0\x00"
    assert strip_fcs(frame + fcs16(frame)) == frame
    assert strip_fcs(frame) == frame                 # a modem that passes no FCS
    assert strip_fcs(frame + b"\x00\x00") == frame + b"\x00\x00"
