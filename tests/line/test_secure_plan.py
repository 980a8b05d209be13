"""Secure planning and judging as pure functions (no modem involved)."""

from __future__ import annotations

import pytest

from modemctl.line.caps import LineCaps, derive_caps
from modemctl.line.dialstring import validate_number
from modemctl.line.report import Mechanism
from modemctl.line.secure import (
    CARRIER_GRACE_MARGIN,
    Applied,
    Setting,
    carrier_grace,
    judge,
    parse_value,
    plan_secure,
)
from modemctl.locations import get_location
from modemctl.profiles import get_profile


def caps_for(profile: str, location: str, v92: bool, country: str | None = "B5",
             s9: int = 6) -> LineCaps:
    return derive_caps(
        profile=get_profile(profile), identified=profile != "generic-hayes", identity={},
        location=get_location(location), pcw_values=(0, 1, 2) if v92 else (),
        fax_classes=("0", "1"), caller_id=True, modem_country=country, s9=s9, s10=14)


def test_conexant_us_never_plans_s10_16_or_more() -> None:
    for country in ("B5", None):
        caps = caps_for("conexant", "US", v92=True, country=country)
        s10 = caps.mechanism(Mechanism.S10_RIDE_THROUGH)
        assert s10.at_dial and s10.value is not None and int(s10.value) < 16
    # Outside the US country code the quirk does not apply; target stays the profile's.
    de = caps_for("conexant", "DE", v92=True, country="04")
    assert de.mechanism(Mechanism.S10_RIDE_THROUGH).value == "14"


def test_generic_never_touches_s10() -> None:
    caps = caps_for("generic-hayes", "US", v92=False)
    assert not caps.mechanism(Mechanism.S10_RIDE_THROUGH).available
    assert caps.secure_at_dial == (Mechanism.CANCEL_CODE,)
    assert caps.secure_after_connect == ()
    gb = caps_for("generic-hayes", "GB", v92=False)
    assert gb.secure_at_dial == () and gb.secure_after_connect == ()


def test_ride_through_needs_margin_over_s9() -> None:
    caps = caps_for("conexant", "US", v92=True, s9=12)      # 15 - 12 = 3 tenths
    assert not caps.mechanism(Mechanism.S10_RIDE_THROUGH).available
    assert "under the 5" in caps.mechanism(Mechanism.S10_RIDE_THROUGH).reason


def test_dial_plan_us_v92() -> None:
    caps = caps_for("conexant", "US", v92=True)
    plan = plan_secure(caps, "dial", "data", validate_number("5551002"))
    assert plan.prefix == "*70,"
    settings = {s.register: s.value for m in plan.mechanisms for s in m.settings}
    assert settings == {"+PCW": 2, "+PMH": 1, "S10": 14, "S0": 0}
    assert plan.can_protect


def test_dial_plan_pulse_code_and_existing_code() -> None:
    caps = caps_for("usr", "CA", v92=False)
    assert plan_secure(caps, "dial", dial=validate_number("P5551002")).prefix == "1170,"
    plan = plan_secure(caps, "dial", dial=validate_number("*70,5551002"))
    assert plan.prefix == ""
    cancel = next(m for m in plan.mechanisms if m.name == Mechanism.CANCEL_CODE)
    assert cancel.usable and "already" in cancel.reason


def test_connected_plan_never_dials() -> None:
    caps = caps_for("usr", "US", v92=False)
    plan = plan_secure(caps, "connected")
    assert plan.prefix == ""
    assert [m.name for m in plan.mechanisms if m.usable] == [Mechanism.S10_RIDE_THROUGH]
    hayes = plan_secure(caps_for("generic-hayes", "US", v92=False), "connected")
    assert not hayes.can_protect


def test_fax_plan_has_no_ride_through() -> None:
    caps = caps_for("usr", "GB", v92=False)
    plan = plan_secure(caps, "dial", "fax", validate_number("5551002"))
    assert not plan.can_protect


@pytest.mark.parametrize("profile", ["conexant", "agere", "usr"])
def test_only_the_cancel_code_protects_a_fax_call(profile: str) -> None:
    # A V.92 modem in GB (no cancel code): +PCW=2 and S10 secure a data call...
    caps = caps_for(profile, "GB", v92=True, country="B4")
    number = validate_number("5551002")
    assert plan_secure(caps, "dial", "data", number).can_protect
    # ...but neither acts on a fax call (firmware-notes/fax-call-waiting.md).
    fax = plan_secure(caps, "dial", "fax", number)
    assert not fax.can_protect
    for name in (Mechanism.PCW_IGNORE, Mechanism.MOH_OFF, Mechanism.S10_RIDE_THROUGH):
        planned = next(m for m in fax.mechanisms if m.name == name)
        assert not planned.usable and not planned.settings
        assert "fax" in planned.reason
    # In the US the cancel code is dialled before the number, and that is enough.
    us = plan_secure(caps_for(profile, "US", v92=True), "dial", "fax", number)
    assert us.can_protect and us.prefix.startswith("*70")
    assert [m.name for m in us.mechanisms if m.usable and m.name != "auto-answer-off"] \
        == [Mechanism.CANCEL_CODE]


@pytest.mark.parametrize(("register", "info", "value"), [
    ("S10", ("014",), 14),
    ("S10", ("", "7"), 7),
    ("+PCW", ("+PCW: 2",), 2),
    ("+PMH", ("1",), 1),
    ("+PCW", ("garbage",), None),
    ("+PCW", (), None),
])
def test_parse_value(register: str, info: tuple[str, ...], value: int | None) -> None:
    assert parse_value(register, info) == value


def test_setting_commands() -> None:
    assert Setting("S10", 14).set_command() == "ATS10=14"
    assert Setting("+PCW", 2).query_command() == "AT+PCW?"
    assert Setting("+PCW", 2).set_command(0) == "AT+PCW=0"


def test_judge_s10_on_v92_needs_moh_off() -> None:
    caps = caps_for("conexant", "GB", v92=True)
    results = [Applied(Mechanism.CANCEL_CODE, False, False, "none"),
               Applied(Mechanism.PCW_IGNORE, False, False, "refused"),
               Applied(Mechanism.MOH_OFF, True, False, "x"),
               Applied(Mechanism.S10_RIDE_THROUGH, True, True, "x")]
    report = {m.name: m for m in judge(results, caps, connected=True)}
    assert not report[Mechanism.S10_RIDE_THROUGH].in_force
    results[2] = Applied(Mechanism.MOH_OFF, True, True, "x")
    report = {m.name: m for m in judge(results, caps, connected=True)}
    assert report[Mechanism.S10_RIDE_THROUGH].in_force


def test_judge_keeps_dial_time_cancel_code() -> None:
    caps = caps_for("generic-hayes", "US", v92=False)
    first = judge([Applied(Mechanism.CANCEL_CODE, True, False, "dialled")], caps, connected=True)
    assert first[0].in_force and not first[0].verified
    later = judge([Applied(Mechanism.CANCEL_CODE, False, False, "never mid-call")], caps,
                  connected=True, previous=first)
    assert later[0].in_force and later[0].applied


def test_port_with_dcd_secures_with_s10_alone() -> None:
    # DCD is not silenced (&C0) for a ride-through: the driver's carrier grace
    # follows S10 instead, so DCD keeps telling a real carrier loss apart.
    base = caps_for("usr", "GB", v92=False)
    with_dcd = derive_caps(
        profile=base.profile, identified=True, identity={}, location=base.location,
        pcw_values=(), fax_classes=(), caller_id=True, modem_country="B5", s9=6, s10=7,
        has_dcd=True)
    for caps in (with_dcd, base):
        plan = plan_secure(caps, "connected")
        assert [s.set_command() for m in plan.mechanisms for s in m.settings] == ["ATS10=14"]


def test_carrier_grace_follows_the_modems_ride_through() -> None:
    assert carrier_grace(6, 14) == pytest.approx(0.8 + CARRIER_GRACE_MARGIN)
    assert carrier_grace(6, 7) == pytest.approx(0.1 + CARRIER_GRACE_MARGIN)
    assert carrier_grace(6, 3) == pytest.approx(CARRIER_GRACE_MARGIN)   # S10 below S9
    assert carrier_grace(6, 254) == pytest.approx(24.8 + CARRIER_GRACE_MARGIN)
    assert carrier_grace(6, 255) is None                                 # never hangs up
