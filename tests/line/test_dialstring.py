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


@pytest.mark.parametrize(("number", "position"), [
    ("T+++5551002", 2),        # '+++' inside ATD would be the escape sequence
    ("++15551002", 1),
    ("W++++1", 1),
    ("+1+5551002", 2),
    ("W+15551002", 1),         # '+' is the first digit, not after a wait
    (",+15551002", 1),
])
def test_plus_only_as_the_one_leading_digit(number: str, position: int) -> None:
    with pytest.raises(InvalidAddress, match=r"'\+' is allowed only once") as info:
        validate_number(number)
    assert info.value.position == position


@pytest.mark.parametrize("number", ["+15551002", "T+15551002", "p+15551002"])
def test_a_leading_plus_is_a_digit(number: str) -> None:
    assert "+1" in validate_number(number).text


@pytest.mark.parametrize("number", ["A T", "a-t5551002", "5551002A (T)", "555A{ T12}"])
def test_spacing_cannot_join_letters_into_at(number: str) -> None:
    with pytest.raises(InvalidAddress, match="'AT' would start a modem command") as info:
        validate_number(number)
    assert info.value.position == number.upper().index("A")


@pytest.mark.parametrize(("number", "text", "secrets", "redacted"), [
    ("5558102,,,{1234}#", "5558102,,,1234#", ("1234",), "5558102,,,***#"),
    ("555 8102,,{12 34},{999}", "5558102,,1234,999", ("1234", "999"), "5558102,,***,***"),
    ("{5558102}", "5558102", ("5558102",), "***"),
])
def test_secret_digits(number: str, text: str, secrets: tuple[str, ...], redacted: str) -> None:
    d = validate_number(number)
    assert (d.text, d.secrets, d.redacted) == (text, secrets, redacted)
    assert build_dial_command(d, "*70,", 40) == "ATDT*70," + text


@pytest.mark.parametrize(("number", "fragment"), [
    ("5558102,{12}", "at least 3"),
    ("5558102,{{1234}}", "nested"),
    ("5558102,1234}", "closes no"),
    ("5558102,{1234", "not closed"),
    ("5558102,{+1234}", r"'\+'"),
    ("5558102,{1234X}", "letters"),
])
def test_bad_secret_spans(number: str, fragment: str) -> None:
    with pytest.raises(InvalidAddress, match=fragment):
        validate_number(number)


def test_errors_never_show_secret_digits() -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_number("5558102,,,{9876};ATH")
    assert "9876" not in str(info.value) and "9876" not in repr(info.value)
    assert info.value.position == 16 and "';'" in str(info.value)
    with pytest.raises(InvalidAddress) as info:
        build_dial_command(validate_number("5558102,,,{9876}#"), "*70,", 20)
    assert "9876" not in str(info.value)


def test_localised_moves_secret_spans_with_the_tail() -> None:
    d = validate_number("+1 555 8102,,{9876}")
    local = d.localised("15558102,,9876")
    assert local.secrets == ("9876",) and local.redacted == "15558102,,***"
    with pytest.raises(InvalidAddress, match="country code"):
        validate_number("+{4420}71234567").localised("02071234567")
