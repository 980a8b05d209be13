"""The immutable shape of a modem profile.

A profile is everything modemctl knows about a chipset family *before*
talking to a modem of that family: how to recognise it, how it spells
result codes, how to initialise it, its S-register facts, its V.92
call-waiting controls and, above all, which ways of securing a call against
call waiting are safe on it.  Profiles are data (``data/*.toml``) so that a
new family is a new file, not a new branch in the code; this module only
gives the data a typed, frozen shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modemctl.at.codes import NumericFamily

#: The probe commands whose answers match rules are written against.
PROBE_KEYS: tuple[str, ...] = ("ati0", "ati3", "gmi", "gmm")


@dataclass(frozen=True)
class MatchRules:
    """Regular expressions (case-insensitive, searched) per probe answer.

    A profile matches a modem when at least one pattern of any key matches
    the answer the modem gave to that probe command; the profile whose
    patterns match most answers wins (ties broken by ``priority``).
    """

    patterns: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...]
    priority: int

    def score(self, answers: dict[str, str]) -> int:
        """How many probe answers this profile recognises (0 = none)."""
        hits = 0
        for key, pats in self.patterns:
            text = answers.get(key, "")
            if text and any(p.search(text) for p in pats):
                hits += 1
        return hits


@dataclass(frozen=True)
class Registers:
    """S-register facts the secure logic depends on (units: 0.1 s)."""

    s9_default: int
    s10_default: int
    s10_min: int
    s10_max: int
    s12_default: int


@dataclass(frozen=True)
class V92:
    """V.92 call-waiting controls (+PCW, +PMH) and their factory defaults."""

    present: bool
    pcw_default: int | None
    pmh_default: int | None


@dataclass(frozen=True)
class RideThrough:
    """Whether raising S10 to ride out a call-waiting interruption is safe.

    ``country_limits`` maps a modem country code (T.35, as the location
    gives it, e.g. ``"B5"`` for the US) to the highest S10 that is safe
    while the modem is set to that country: on Conexant parts S10 >= 16
    with a US country code makes the modem *detect* the call-waiting tone
    and hang up, the opposite of what raising S10 is meant to do.
    """

    safe: bool
    target: int
    country_limits: tuple[tuple[str, int], ...]
    reason: str

    def limit_for(self, country: str | None) -> int | None:
        """The highest safe S10 for ``country``; ``None`` means no country limit.

        When the modem's country is unknown (``None``) the strictest limit of
        any country applies: we fail safe rather than trip the quirk.
        """
        if not self.country_limits:
            return None
        if country is None:
            return min(limit for _, limit in self.country_limits)
        for code, limit in self.country_limits:
            if code.upper() == country.upper():
                return limit
        return None


@dataclass(frozen=True)
class Fax:
    """Fax facts: the classes offered, Class 1 vendor differences, and which
    call-waiting mechanisms act on a fax call (firmware-notes/fax-call-waiting.md).

    The Class 1 values fill ``fax.class1.Class1Quirks``: ``fcs_octets`` the
    modem passes on after each received frame, ``tm_connect_delay_ms`` to
    wait after an early ``+FTM`` CONNECT, ``turnaround_silence`` the
    ``+FTS`` value in 10 ms units.  ``secure_mechanisms`` names the
    mechanisms that protect a fax call on this family; the others are
    planned as unusable with ``secure_note`` as the reason.
    """

    classes: tuple[str, ...]
    fcs_octets: int
    tm_connect_delay_ms: int
    turnaround_silence: int
    secure_mechanisms: tuple[str, ...]
    secure_note: str


@dataclass(frozen=True)
class Profile:
    """One chipset family's facts (see ``firmware-notes/`` for the why)."""

    name: str
    family: str
    description: str
    fallback: bool
    match: MatchRules
    result_aliases: tuple[tuple[str, str], ...]
    init: tuple[str, ...]
    init_optional: tuple[str, ...]
    caller_id: str | None
    country_set: str | None
    country_query: str | None
    registers: Registers
    v92: V92
    ride_through: RideThrough
    fax: Fax
    max_rate: int | None
    dial_buffer: int
    numeric_codes: NumericFamily
    sources: tuple[str, ...]

    @property
    def fax_classes(self) -> tuple[str, ...]:
        """The ``+FCLASS`` values the family offers (``fax.classes``)."""
        return self.fax.classes

    def canonical_result(self, text: str) -> str:
        """``text`` with this family's vendor spelling replaced by the V.250 one."""
        upper = text.strip().upper()
        for vendor, canonical in self.result_aliases:
            if upper == vendor or upper.startswith(vendor + " "):
                return canonical + upper[len(vendor):]
        return upper
