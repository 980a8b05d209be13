"""Dial-string validation: only dial digits and modifiers reach an ATD command."""

from __future__ import annotations

import pytest

from modemctl.errors import InvalidAddress
from modemctl.line.dialstring import build_dial_command, has_prefix_code, validate_number


@pytest.mark.parametrize(("number", "text", "pulse"), [
    ("5551234", "5551234", False),
    ("(555) 123-4567", "5551234567", False),
    ("T555,1234", "T555,1234", False),
    ("p5551234", "P5551234", True),
    ("9W5551234@", "9W5551234@", False),
    ("*70,5551234", "*70,5551234", False),
    ("+44 20 7123 4567", "+442071234567", False),
    ("!*72#ABCD", "!*72#ABCD", False),
])
def test_valid_numbers(number: str, text: str, pulse: bool) -> None:
    d = validate_number(number)
    assert (d.text, d.pulse) == (text, pulse)


@pytest.mark.parametrize(("number", "position", "fragment"), [
    ("5551234\r", 7, "line break"),
    ("555\n1234", 3, "line break"),
    ("5551234;", 7, "';'"),
    ("5551234;ATS0=1", 7, "';'"),
    ("5551234 AT", 8, "'AT'"),
    ("555;H", 3, "';'"),
    ("ATDT5551234", 0, "'AT'"),
    ("5551234at", 7, "'AT'"),
    ("555E1234", 3, "letters"),
    ("555x", 3, "letters"),
    ("555/1234", 3, "not a dial digit"),
    ("555+1234", 3, "'+'"),
    ("5551234é", 7, "letters"),
])
def test_invalid_numbers(number: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_number(number)
    assert info.value.position == position
    assert fragment in str(info.value)
    assert f"position {position + 1}" in str(info.value)


@pytest.mark.parametrize("number", ["", "   ", "TPW,", "()-"])
def test_no_digits(number: str) -> None:
    with pytest.raises(InvalidAddress, match="no dial digits"):
        validate_number(number)


def test_not_a_string() -> None:
    with pytest.raises(InvalidAddress):
        validate_number(5551234)  # type: ignore[arg-type]


def test_build_dial_command() -> None:
    assert build_dial_command(validate_number("5551234"), "*70,", 40) == "ATDT*70,5551234"
    assert build_dial_command(validate_number("P5551234"), "1170,", 40) == "ATDP1170,5551234"
    assert build_dial_command(validate_number("5551234"), "", 40) == "ATDT5551234"
    with pytest.raises(InvalidAddress, match="command buffer takes 20"):
        build_dial_command(validate_number("5551234567890123"), "*70,", 20)


def test_prefix_already_present() -> None:
    assert has_prefix_code(validate_number("*70,5551234"), "*70,")
    assert has_prefix_code(validate_number("T*705551234"), "*70,")
    assert not has_prefix_code(validate_number("5551234"), "*70,")
