"""A user's cancel code: checked like a location's, and whose it is is kept."""

from __future__ import annotations

import dataclasses

import pytest

from modemctl.errors import InvalidAddress, InvalidCancelCode
from modemctl.line.caps import derive_caps
from modemctl.line.dialstring import validate_number
from modemctl.line.report import Mechanism
from modemctl.line.secure import plan_secure
from modemctl.locations import Location, get_location
from modemctl.locations.model import check_cancel_code
from modemctl.profiles import get_profile


@pytest.mark.parametrize(("given", "dialled"), [
    ("*52", "*52,"), ("*52,", "*52,"), ("*70W", "*70W"), ("1170", "1170,"), ("#31#", "#31#,"),
])
def test_a_code_gets_one_pause_before_the_number(given: str, dialled: str) -> None:
    assert check_cancel_code(given, pulse=False) == dialled


@pytest.mark.parametrize(("code", "position"), [
    ("*52;ATS0=1", 3),      # ';' would end the dial command and chain another
    ("AT*52", 0),
    ("+++", 0),             # the modem's escape
    ("*52,,", 3),           # one pause only: a second is no digit
    ("T*52", 0),            # the dial mode is the line's, not the code's
    ("*52!", 3),            # a hook flash drops the call
    ("*52\r", 3),
    ("7", None),            # too short
    ("123456789", None),    # too long
    ("", None),
    (",", None),
])
def test_anything_but_dial_digits_is_refused(code: str, position: int | None) -> None:
    with pytest.raises(InvalidCancelCode) as info:
        check_cancel_code(code, pulse=False)
    assert info.value.position == position
    assert isinstance(info.value, InvalidAddress) and isinstance(info.value, ValueError)


def test_pulse_dialling_has_only_digits() -> None:
    with pytest.raises(InvalidCancelCode, match="pulse dialling sends only the digits 0-9"):
        check_cancel_code("*52", pulse=True)
    assert check_cancel_code("1152", pulse=True) == "1152,"


def test_with_cancel_code_is_a_new_location_marked_as_the_users() -> None:
    nz = get_location("NZ")
    assert nz.cancel_code(False) is None and nz.cancel_source == "location"
    mine = nz.with_cancel_code("*52")
    assert (mine.cancel_tone, mine.cancel_pulse, mine.cancel_source) == ("*52,", None, "user")
    assert dataclasses.replace(mine, cancel_tone=None, cancel_pulse=None,
                               cancel_source="location") == nz    # nothing else changed
    assert get_location("NZ").cancel_tone is None                  # the built-in is untouched
    # A code of digits only is the same digits by pulse; a given pulse code wins.
    assert nz.with_cancel_code("52").cancel_pulse == "52,"
    assert nz.with_cancel_code("*52", "1152").cancel_pulse == "1152,"
    # Not the location's pulse code: that is its default carrier's, not the user's.
    assert get_location("US").with_cancel_code("*52").cancel_pulse is None


def _caps(location: Location):  # type: ignore[no-untyped-def]
    return derive_caps(profile=get_profile("generic-hayes"), identified=False, identity={},
                       location=location, pcw_values=(), fax_classes=(), caller_id=False,
                       modem_country=None, s9=6, s10=14)


def test_caps_say_which_code_and_whose() -> None:
    nz = get_location("NZ")
    none = _caps(nz)
    cancel = none.mechanism(Mechanism.CANCEL_CODE)
    assert not cancel.at_dial and "--cancel-code" in cancel.reason
    assert none.describe()["cancel_code"] == {"tone": None, "pulse": None, "source": None}
    given = _caps(nz.with_cancel_code("*52"))
    cancel = given.mechanism(Mechanism.CANCEL_CODE)
    assert cancel.at_dial and cancel.value == "*52,"
    assert "given for this line" in cancel.reason
    assert given.describe()["cancel_code"] == {"tone": "*52,", "pulse": None, "source": "user"}
    us = _caps(get_location("US")).describe()["cancel_code"]
    assert us == {"tone": "*70,", "pulse": "1170,", "source": "location"}


def test_plan_uses_the_users_code_and_not_for_pulse_without_one() -> None:
    caps = _caps(get_location("NZ").with_cancel_code("*52"))
    tone = plan_secure(caps, "dial", "data", validate_number("5551002"))
    assert tone.prefix == "*52," and tone.can_protect
    pulse = plan_secure(caps, "dial", "data", validate_number("P5551002"))
    assert pulse.prefix == "" and not pulse.can_protect
    # A number that already starts with the code is not given it twice.
    typed = plan_secure(caps, "dial", "data", validate_number("*52,5551002"))
    assert typed.prefix == "" and typed.can_protect
