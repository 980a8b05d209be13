"""Location data files: cancel codes, country codes, translation, malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from modemctl.errors import ConfigError
from modemctl.locations import builtin_locations, get_location, load_location_file

GOOD = """
code = "XX"
name = "Test"
country_calling_code = "99"
modem_country = "FF"
international_prefix = "00"
national_prefix = "0"
[call_waiting]
cancel_tone = "*70,"
cancel_pulse = "1170,"
"""


def test_builtin_locations() -> None:
    locs = builtin_locations()
    assert {"US", "CA", "GB", "DE", "FR"} <= set(locs)
    for code in ("US", "CA"):
        assert locs[code].cancel_code(pulse=False) == "*70,"
        assert locs[code].cancel_code(pulse=True) == "1170,"
    for code in ("GB", "DE", "FR"):
        assert locs[code].cancel_code(pulse=False) is None
        assert "#43#" in locs[code].call_waiting_note
    assert locs["US"].modem_country == "B5"
    assert get_location("us") is locs["US"]


def test_dialable_translation() -> None:
    us, gb = get_location("US"), get_location("GB")
    assert us.dialable("5551234") == "5551234"
    assert us.dialable("+12125551234") == "12125551234"
    assert us.dialable("+442071234567") == "011442071234567"
    assert gb.dialable("+442071234567") == "02071234567"
    assert gb.dialable("+12125551234") == "0012125551234"


def test_unknown_location() -> None:
    with pytest.raises(ConfigError, match=r"'ZZ' \(known: AT, AU, .*, CA, .*, US, ZA\)"):
        get_location("ZZ")


def write(tmp_path: Path, text: str, name: str = "XX.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_good_file(tmp_path: Path) -> None:
    loc = load_location_file(write(tmp_path, GOOD))
    assert loc.code == "XX" and loc.cancel_tone == "*70,"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('cancel_tone = "*70,"', 'cancel_tone = "*70;ATS0=1"', "cancel_tone"),
    ('cancel_pulse = "1170,"', 'cancel_pulse = "*1170,"', "cancel_pulse"),
    ('cancel_tone = "*70,"\n', "", "pulse code without a tone code"),
    ('modem_country = "FF"', 'modem_country = "USA"', "modem_country"),
    ('international_prefix = "00"', 'international_prefix = ""', "international_prefix"),
    ('name = "Test"', 'name = 3', "name"),
    ('code = "XX"', 'code = "XX"\ncolour = 1', "colour: unknown key"),
    ('national_prefix = "0"', "", "national_prefix: missing"),
])
def test_malformed_locations(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_location_file(path)


def test_code_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not match the file name"):
        load_location_file(write(tmp_path, GOOD, "YY.toml"))
