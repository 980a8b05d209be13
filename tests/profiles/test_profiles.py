"""Profile data files: every shipped profile loads, matches what it should, and
malformed files are refused with a ConfigError naming file and key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from modemctl.errors import ConfigError
from modemctl.profiles import (
    builtin_profiles,
    choose_profile,
    fallback_profile,
    get_profile,
    load_profile_file,
)

GOOD = """
name = "test-modem"
family = "Test"
description = "a test profile"
max_rate = 33600
[match]
ati0 = ['^4242$']
[init]
commands = ["E0", "Q0", "V1"]
[registers]
s9_default = 6
s10_default = 14
s10_min = 1
s10_max = 255
s12_default = 50
[v92]
present = false
[ride_through]
safe = true
target = 14
reason = "test"
[fax]
classes = ["0"]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "p.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_builtin_profiles_load() -> None:
    names = {p.name for p in builtin_profiles()}
    assert names == {"conexant", "agere", "usr", "generic-hayes"}
    assert fallback_profile().name == "generic-hayes"


@pytest.mark.parametrize(("answers", "expected"), [
    ({"ati0": "56000", "ati3": "CX93001-EIS_V0.2002-V92", "gmi": "CONEXANT"}, "conexant"),
    ({"ati0": "56000"}, "conexant"),
    ({"gmi": "ROCKWELL"}, "conexant"),
    ({"ati0": "LT V.92 1.0 MT5634ZBA Serial Data/Fax Modem Version 8.19i",
      "gmi": "Multi-Tech Systems", "gmm": "MT5634ZBA"}, "agere"),
    ({"gmi": "Agere Systems"}, "agere"),
    ({"ati0": "5601", "gmi": "U.S. Robotics"}, "usr"),
    ({"ati0": "3361"}, "usr"),
    ({"gmi": "USRobotics"}, "usr"),
    ({"ati0": "144", "gmi": "HAYES", "ati3": "HAYES OPTIMA 144 V.32bis"}, "generic-hayes"),
    ({}, "generic-hayes"),
])
def test_choose_profile(answers: dict[str, str], expected: str) -> None:
    profile, score = choose_profile(answers)
    assert profile.name == expected
    assert (score > 0) == (expected != "generic-hayes")


def test_ati0_56000_is_not_a_substring_match() -> None:
    # "556000" is some other modem's product code, not Conexant's "56000".
    assert choose_profile({"ati0": "556000"})[0].name == "generic-hayes"


def test_conexant_us_limit_and_generic_unsafe() -> None:
    cx = get_profile("conexant")
    assert cx.ride_through.safe
    assert cx.ride_through.limit_for("B5") == 15
    assert cx.ride_through.limit_for("04") is None
    assert cx.ride_through.limit_for(None) == 15       # unknown country: strictest
    assert cx.v92.present and cx.v92.pcw_default == 0
    generic = get_profile("generic-hayes")
    assert not generic.ride_through.safe
    assert "Conexant" in generic.ride_through.reason


def test_result_spelling_aliases() -> None:
    assert get_profile("agere").canonical_result("NO DIAL TONE") == "NO DIALTONE"
    assert get_profile("conexant").canonical_result("busy") == "BUSY"


def test_load_good_file(tmp_path: Path) -> None:
    p = load_profile_file(write(tmp_path, GOOD))
    assert p.name == "test-modem" and p.max_rate == 33600 and p.dial_buffer == 40
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]


def test_get_unknown_profile() -> None:
    with pytest.raises(ConfigError, match="known: "):
        get_profile("nonesuch")


@pytest.mark.parametrize(("old", "new", "message"), [
    ('name = "test-modem"', 'name = "Test Modem"', "name"),
    ('name = "test-modem"', "", "name: missing"),
    ("s10_default = 14", "s10_default = 300", "s10_default: 300 is outside"),
    ("s10_default = 14", 's10_default = "14"', "must be an integer"),
    ("target = 14", "target = 9", "under 0.5 s ride-through"),
    ("safe = true", 'safe = "yes"', "safe: must be true or false"),
    ('classes = ["0"]', 'classes = ["zero"]', "FCLASS value"),
    ('commands = ["E0", "Q0", "V1"]', 'commands = ["E0", "DT5551234"]', "not a safe init"),
    ('commands = ["E0", "Q0", "V1"]', 'commands = ["E0;S0=1"]', "not a safe init"),
    ("ati0 = ['^4242$']", "ati0 = ['(']", "bad regular expression"),
    ("ati0 = ['^4242$']", "ati0 = []", "at least one match pattern"),
    ("present = false", "present = true", "must give pcw_default"),
    ('family = "Test"', 'family = "Test"\nfamly = 1', "famly: unknown key"),
    ("[fax]", "[faxx]", "faxx: unknown key"),
    ("reason = \"test\"", "reason = \"test\"\n[ride_through.country_limits]\nUSA = 15",
     "two hex digits"),
    ("max_rate = 33600", 'max_rate = 33600\nnumeric_codes = "zoom"',
     r"numeric_codes: 'zoom' is not one of \('hayes', 'lucent', 'conexant', 'usr'\)"),
])
def test_malformed_profiles(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD, old
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message) as info:
        load_profile_file(path)
    assert str(path) in str(info.value)


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_profile_file(write(tmp_path, "name = [unterminated"))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_profile_file(tmp_path / "absent.toml")


@pytest.mark.parametrize(("profile", "personality"), [
    ("conexant", "conexant-v92"), ("agere", "agere-v92"), ("usr", "usr-v90"),
    ("generic-hayes", "hayes-basic")])
def test_numeric_connect_codes_agree_with_the_fake(profile: str, personality: str) -> None:
    """The driver's numeric table for a family reads every CONNECT code the fake's
    modem of that family sends as the rate it means (two independent tables, each
    sourced from the vendor's manual, checking each other)."""
    from modemctl.at.codes import ResultCode, numeric_text, parse_final
    from modemctl.fake.personality import load_personality

    family = get_profile(profile).numeric_codes
    for rate, code in load_personality(personality).connect_codes.items():
        text = numeric_text(str(code), family)
        final = parse_final(text) if text is not None else None
        assert final is not None and final.code is ResultCode.CONNECT, (rate, code, text)
        assert final.rate == rate, (rate, code, text)
