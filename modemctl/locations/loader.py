"""Load and validate locations (``data/<CODE>.toml``).

A malformed file raises :class:`~modemctl.errors.ConfigError` naming the
file and key.  Cancel codes pass the same check as a user's
(:func:`~modemctl.locations.model.check_cancel_code`), so a location can never
smuggle commands into a dial string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from modemctl.errors import ConfigError, InvalidCancelCode
from modemctl.locations.model import Location, check_cancel_code
from modemctl.tomlfile import read_toml

_CODE = re.compile(r"^[A-Z]{2}$")
_DIGITS = re.compile(r"^[0-9]{0,4}$")
_COUNTRY = re.compile(r"^[0-9A-F]{2}$")
_KEYS = {"code", "name", "country_calling_code", "modem_country", "modem_country_note",
         "international_prefix", "national_prefix", "note", "call_waiting", "sources"}
_CW_KEYS = {"cancel_tone", "cancel_pulse", "note"}


def _string(source: str, table: Mapping[str, Any], key: str, pattern: re.Pattern[str],
            required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(source, f"{key}: missing")
        return None
    if not isinstance(value, str) or not pattern.match(value):
        raise ConfigError(source, f"{key}: {value!r} does not match {pattern.pattern}")
    return value


def _required(source: str, table: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = _string(source, table, key, pattern, required=True)
    assert value is not None  # _string raised otherwise
    return value


def _cancel_code(source: str, cw: Mapping[str, Any], key: str, *, pulse: bool) -> str | None:
    value = cw.get(key)
    if value is None:
        return None
    try:
        return check_cancel_code(value, pulse=pulse)
    except InvalidCancelCode as exc:
        raise ConfigError(source, f"call_waiting.{key}: {exc}") from None


def parse_location(data: Mapping[str, Any], source: str) -> Location:
    """Build a :class:`Location` from parsed TOML, or raise ConfigError."""
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(source, f"{unknown[0]}: unknown key (typo?)")
    cw = data.get("call_waiting", {})
    if not isinstance(cw, dict):
        raise ConfigError(source, "call_waiting: must be a table")
    unknown = sorted(set(cw) - _CW_KEYS)
    if unknown:
        raise ConfigError(source, f"call_waiting.{unknown[0]}: unknown key (typo?)")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(source, "name: must be a non-empty string")
    note = cw.get("note", "")
    if not isinstance(note, str):
        raise ConfigError(source, "call_waiting.note: must be a string")
    tone = _cancel_code(source, cw, "cancel_tone", pulse=False)
    pulse = _cancel_code(source, cw, "cancel_pulse", pulse=True)
    if pulse is not None and tone is None:
        raise ConfigError(source, "call_waiting: a pulse code without a tone code")
    sources = data.get("sources", [])
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise ConfigError(source, "sources: must be a list of strings")
    code = _required(source, data, "code", _CODE)
    calling = _required(source, data, "country_calling_code", re.compile(r"^[0-9]{1,3}$"))
    modem_country = _string(source, data, "modem_country", _COUNTRY)
    country_note = data.get("modem_country_note", "")
    if not isinstance(country_note, str) or (modem_country is None) == (not country_note):
        raise ConfigError(source, "modem_country: give the T.35 code, or modem_country_note "
                                  "saying why there is none (one of the two)")
    dial_note = data.get("note", "")
    if not isinstance(dial_note, str):
        raise ConfigError(source, "note: must be a string")
    intl = _required(source, data, "international_prefix", _DIGITS)
    national = _required(source, data, "national_prefix", _DIGITS)
    if not intl:
        raise ConfigError(source, "international_prefix: must not be empty")
    return Location(
        code=code, name=name, country_calling_code=calling, modem_country=modem_country,
        international_prefix=intl, national_prefix=national,
        cancel_tone=tone, cancel_pulse=pulse, call_waiting_note=note,
        sources=tuple(sources), modem_country_note=country_note, note=dial_note,
    )


def load_location_file(path: Path) -> Location:
    """Load one location file."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        raise ConfigError(str(path), "cannot read: no such file") from None
    loc = parse_location(data, str(path))
    if path.stem.upper() != loc.code:
        raise ConfigError(str(path), f"code {loc.code!r} does not match the file name")
    return loc


@cache
def builtin_locations() -> dict[str, Location]:
    """All locations shipped in ``modemctl/locations/data``, by code."""
    root = resources.files("modemctl.locations") / "data"
    out: dict[str, Location] = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            loc = load_location_file(Path(str(entry)))
            out[loc.code] = loc
    return out


def get_location(code: str | Location) -> Location:
    """The built-in location ``code`` (case-insensitive); a Location passes through."""
    if isinstance(code, Location):
        return code
    found = builtin_locations().get(code.upper())
    if found is None:
        known = ", ".join(sorted(builtin_locations()))
        raise ConfigError("locations", f"no location {code!r} (known: {known})")
    return found
