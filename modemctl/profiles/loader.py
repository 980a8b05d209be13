"""Load and validate modem profiles from TOML.

Every field is checked for type and range here, once, so that the line
layer can trust a :class:`~modemctl.profiles.model.Profile` completely.  A
malformed file raises :class:`~modemctl.errors.ConfigError` naming the file
and the offending key; nothing half-loaded is ever returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from modemctl.at.codes import NUMERIC_TABLES, NumericFamily
from modemctl.errors import ConfigError
from modemctl.profiles.model import (
    PROBE_KEYS,
    V92,
    Fax,
    MatchRules,
    Profile,
    Registers,
    RideThrough,
)
from modemctl.tomlfile import read_toml

_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: An init command: the part after "AT", without CR, ';' or a dial/answer.
_INIT_CMD = re.compile(r"^[A-Za-z&+%\\][A-Za-z0-9&+%\\=?,.\-]*$")
_FAX_CLASS = re.compile(r"^\d+(\.\d+)?$")
_COUNTRY = re.compile(r"^[0-9A-Fa-f]{2}$")


class _Reader:
    """Typed access to one TOML table, with errors that name the key path."""

    def __init__(self, source: str, table: Mapping[str, Any], path: str = "") -> None:
        self.source = source
        self.table = table
        self.path = path

    def _where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, why: str) -> ConfigError:
        return ConfigError(self.source, f"{self._where(key)}: {why}")

    def check_keys(self, allowed: Iterable[str]) -> None:
        unknown = sorted(set(self.table) - set(allowed))
        if unknown:
            raise self.fail(unknown[0], "unknown key (typo?)")

    def sub(self, key: str, required: bool = True) -> _Reader:
        value = self.table.get(key)
        if value is None:
            if required:
                raise self.fail(key, "missing table")
            value = {}
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        return _Reader(self.source, value, self._where(key))

    def string(self, key: str, default: str | None = None, allow_empty: bool = False) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, str) or (not value.strip() and not allow_empty):
            raise self.fail(key, "must be a non-empty string")
        return value

    def opt_string(self, key: str) -> str | None:
        value = self.table.get(key)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def integer(self, key: str, lo: int, hi: int, default: int | None = None) -> int:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "must be an integer")
        if not lo <= value <= hi:
            raise self.fail(key, f"{value} is outside {lo}..{hi}")
        return value

    def opt_integer(self, key: str, lo: int, hi: int) -> int | None:
        if self.table.get(key) is None:
            return None
        return self.integer(key, lo, hi)

    def boolean(self, key: str, default: bool | None = None) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def strings(self, key: str, default: list[str] | None = None) -> tuple[str, ...]:
        value = self.table.get(key, default)
        if value is None:
            raise self.fail(key, "missing")
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of non-empty strings")
        return tuple(value)


def _match_rules(r: _Reader) -> MatchRules:
    r.check_keys((*PROBE_KEYS, "priority"))
    patterns: list[tuple[str, tuple[re.Pattern[str], ...]]] = []
    for key in PROBE_KEYS:
        compiled: list[re.Pattern[str]] = []
        for text in r.strings(key, []):
            try:
                compiled.append(re.compile(text, re.IGNORECASE))
            except re.error as exc:
                raise r.fail(key, f"bad regular expression {text!r}: {exc}") from None
        if compiled:
            patterns.append((key, tuple(compiled)))
    return MatchRules(tuple(patterns), r.integer("priority", 0, 1000, 0))


def _registers(r: _Reader) -> Registers:
    r.check_keys(("s9_default", "s10_default", "s10_min", "s10_max", "s12_default"))
    regs = Registers(
        s9_default=r.integer("s9_default", 0, 255),
        s10_default=r.integer("s10_default", 1, 255),
        s10_min=r.integer("s10_min", 1, 255),
        s10_max=r.integer("s10_max", 1, 255),
        s12_default=r.integer("s12_default", 0, 255),
    )
    if not regs.s10_min <= regs.s10_default <= regs.s10_max:
        raise r.fail("s10_default", f"{regs.s10_default} outside s10_min..s10_max")
    return regs


def _v92(r: _Reader) -> V92:
    r.check_keys(("present", "pcw_default", "pmh_default"))
    present = r.boolean("present")
    pcw = r.opt_integer("pcw_default", 0, 2)
    pmh = r.opt_integer("pmh_default", 0, 1)
    if present and (pcw is None or pmh is None):
        raise r.fail("present", "a V.92 profile must give pcw_default and pmh_default")
    return V92(present, pcw, pmh)


def _ride_through(r: _Reader, regs: Registers) -> RideThrough:
    r.check_keys(("safe", "target", "country_limits", "reason"))
    limits_table = r.sub("country_limits", required=False)
    limits: list[tuple[str, int]] = []
    for code in limits_table.table:
        if not _COUNTRY.match(code):
            raise limits_table.fail(code, "country code must be two hex digits (T.35)")
        limits.append((code.upper(), limits_table.integer(code, 1, 255)))
    target = r.integer("target", regs.s10_min, regs.s10_max)
    # The whole point of the target is to ride through a ~300 ms interruption
    # with margin: S10 - S9 must be at least 5 tenths.
    if target - regs.s9_default < 5:
        raise r.fail("target", f"S10={target} gives under 0.5 s ride-through over S9")
    return RideThrough(r.boolean("safe"), target, tuple(limits), r.string("reason"))


#: Mechanism names a profile may list as protecting a fax call (line.caps).
FAX_MECHANISMS = ("cancel-code", "pcw-ignore", "moh-off", "s10-ride-through")


def _fax(r: _Reader) -> Fax:
    r.check_keys(("classes", "secure_mechanisms", "secure_note", "class1"))
    classes = r.strings("classes")
    for c in classes:
        if not _FAX_CLASS.match(c):
            raise r.fail("classes", f"{c!r} is not a +FCLASS value")
    mechanisms = r.strings("secure_mechanisms", ["cancel-code"])
    for m in mechanisms:
        if m not in FAX_MECHANISMS:
            raise r.fail("secure_mechanisms", f"{m!r} is not one of {FAX_MECHANISMS}")
    c1 = r.sub("class1", required=False)
    c1.check_keys(("fcs_octets", "tm_connect_delay_ms", "turnaround_silence"))
    return Fax(classes=classes,
               fcs_octets=c1.integer("fcs_octets", 0, 2, 2),
               tm_connect_delay_ms=c1.integer("tm_connect_delay_ms", 0, 2000, 0),
               turnaround_silence=c1.integer("turnaround_silence", 0, 255, 8),
               secure_mechanisms=mechanisms,
               secure_note=r.string("secure_note",
                                    "only the cancel code acts on a fax call "
                                    "(firmware-notes/fax-call-waiting.md)"))


def _numeric_family(r: _Reader) -> NumericFamily:
    """The profile's numeric result-code table: one the AT core knows (codes 9
    and up differ by vendor)."""
    name = r.string("numeric_codes", "hayes")
    for family in NUMERIC_TABLES:
        if family == name:
            return family
    raise r.fail("numeric_codes", f"{name!r} is not one of {tuple(NUMERIC_TABLES)}")


def parse_profile(data: Mapping[str, Any], source: str) -> Profile:
    """Build a :class:`Profile` from parsed TOML, or raise ConfigError."""
    r = _Reader(source, data)
    r.check_keys(("name", "family", "description", "fallback", "match", "result_codes",
                  "init", "registers", "v92", "ride_through", "fax", "max_rate", "dial_buffer",
                  "numeric_codes", "sources"))
    name = r.string("name")
    if not _NAME.match(name):
        raise r.fail("name", f"{name!r} must be lower-case letters, digits and '-'")
    fallback = r.boolean("fallback", False)
    match = _match_rules(r.sub("match", required=not fallback))
    if not fallback and not match.patterns:
        raise r.fail("match", "a non-fallback profile needs at least one match pattern")

    rc = r.sub("result_codes", required=False)
    rc.check_keys(("aliases",))
    aliases_t = rc.sub("aliases", required=False)
    aliases = tuple((k.upper(), aliases_t.string(k).upper()) for k in aliases_t.table)

    init = r.sub("init")
    init.check_keys(("commands", "optional", "caller_id", "country_set", "country_query"))
    commands = init.strings("commands")
    optional = init.strings("optional", [])
    for cmd in (*commands, *optional):
        if not _INIT_CMD.match(cmd) or cmd.upper().startswith(("D", "A")) or cmd.upper() == "O":
            raise init.fail("commands", f"{cmd!r} is not a safe init command")
    country_set = init.opt_string("country_set")
    if country_set is not None and "{code}" not in country_set:
        raise init.fail("country_set", "must contain {code}")

    regs = _registers(r.sub("registers"))
    fax = _fax(r.sub("fax"))

    numeric = _numeric_family(r)
    return Profile(
        name=name,
        family=r.string("family"),
        description=r.string("description"),
        fallback=fallback,
        match=match,
        result_aliases=aliases,
        init=commands,
        init_optional=optional,
        caller_id=init.opt_string("caller_id"),
        country_set=country_set,
        country_query=init.opt_string("country_query"),
        registers=regs,
        v92=_v92(r.sub("v92")),
        ride_through=_ride_through(r.sub("ride_through"), regs),
        fax=fax,
        max_rate=r.opt_integer("max_rate", 300, 56000),
        dial_buffer=r.integer("dial_buffer", 20, 255, 40),
        numeric_codes=numeric,
        sources=r.strings("sources", []),
    )


def load_profile_file(path: Path) -> Profile:
    """Load one profile file (used for user-supplied profiles and tests)."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        raise ConfigError(str(path), "cannot read: no such file") from None
    return parse_profile(data, str(path))


@cache
def builtin_profiles() -> tuple[Profile, ...]:
    """All profiles shipped in ``modemctl/profiles/data`` (loaded once)."""
    root = resources.files("modemctl.profiles") / "data"
    profiles = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profiles.append(load_profile_file(Path(str(entry))))
    names = [p.name for p in profiles]
    if len(set(names)) != len(names):
        raise ConfigError(str(root), f"duplicate profile names in {names}")
    if sum(p.fallback for p in profiles) != 1:
        raise ConfigError(str(root), "exactly one profile must be the fallback")
    return tuple(profiles)


def get_profile(name: str) -> Profile:
    """The built-in profile called ``name``; ConfigError lists the known ones."""
    for p in builtin_profiles():
        if p.name == name:
            return p
    known = ", ".join(p.name for p in builtin_profiles())
    raise ConfigError("profiles", f"no profile {name!r} (known: {known})")


def fallback_profile() -> Profile:
    """The generic profile an unidentified modem gets."""
    return next(p for p in builtin_profiles() if p.fallback)


def choose_profile(answers: dict[str, str],
                   profiles: tuple[Profile, ...] | None = None) -> tuple[Profile, int]:
    """Pick the profile that recognises the most probe answers.

    Returns the profile and its score; a score of 0 means nothing matched
    and the fallback (generic Hayes) profile was chosen.
    """
    candidates = builtin_profiles() if profiles is None else profiles
    best: tuple[int, int, Profile] | None = None
    for p in candidates:
        if p.fallback:
            continue
        score = p.match.score(answers)
        if score and (best is None or (score, p.match.priority) > best[:2]):
            best = (score, p.match.priority, p)
    if best is None:
        return next(p for p in candidates if p.fallback), 0
    return best[2], best[0]
