"""Identify a modem and find out what it can do.

The probe asks only questions every Hayes modem survives (an unknown
command gets ``ERROR``, which is an answer, not a failure): the ``I0``/``I3``
identity strings, ``+GMI``/``+GMM``, ``+PCW=?`` for V.92 call-waiting
control, ``+FCLASS=?`` for fax classes, and S9/S10.  The profile is chosen
from the identity answers once, here; after that the line only consults
the profile.  Unknown modems get the generic Hayes profile, and the caps
say so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from modemctl.errors import CommandError, CommandTimeout
from modemctl.line.caps import LineCaps, derive_caps
from modemctl.line.secure import CommandPort, Setting, read_setting
from modemctl.locations import Location
from modemctl.profiles import Profile, choose_profile

PROBE_TIMEOUT = 5.0
IDENTITY_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ati0", "ATI0"), ("ati3", "ATI3"), ("gmi", "AT+GMI"), ("gmm", "AT+GMM"))

_PREFIX = re.compile(r"^\+[A-Z]+:\s*", re.IGNORECASE)
_FCLASS = re.compile(r"\d+(?:\.\d+)?")


async def ask(port: CommandPort, command: str) -> tuple[str, ...] | None:
    """The information lines of ``command``, or ``None`` when the modem refused it."""
    try:
        r = await port.command(command, timeout=PROBE_TIMEOUT)
    except (CommandError, CommandTimeout):
        return None
    return tuple(line.strip() for line in r.info if line.strip())


def identity_text(lines: Sequence[str]) -> str:
    """Join an identity answer, dropping a ``+GMI:`` style prefix."""
    return " ".join(_PREFIX.sub("", line) for line in lines).strip()


def parse_pcw_range(lines: Sequence[str]) -> tuple[int, ...]:
    """Values offered by ``+PCW=?`` (``+PCW: (0-2)`` or ``(0,1,2)``)."""
    values: set[int] = set()
    for line in lines:
        body = _PREFIX.sub("", line)
        for lo, hi in re.findall(r"(\d+)\s*-\s*(\d+)", body):
            values.update(range(int(lo), int(hi) + 1))
        body = re.sub(r"\d+\s*-\s*\d+", "", body)
        values.update(int(v) for v in re.findall(r"\d+", body))
    return tuple(sorted(v for v in values if v <= 9))


def parse_fclass(lines: Sequence[str]) -> tuple[str, ...]:
    """Fax classes offered by ``+FCLASS=?`` (``0,1,1.0`` or ``(0,1,2.0)``)."""
    found: list[str] = []
    for line in lines:
        for value in _FCLASS.findall(_PREFIX.sub("", line)):
            if value not in found:
                found.append(value)
    return tuple(found)


@dataclass(frozen=True)
class ProbeAnswers:
    """The raw findings, kept so the caps can be re-derived for another location."""

    identity: dict[str, str]
    pcw_values: tuple[int, ...]
    fax_classes: tuple[str, ...] | None
    s9: int | None
    s10: int | None


async def gather(port: CommandPort) -> ProbeAnswers:
    """Ask the probe questions (no state on the modem is changed)."""
    identity: dict[str, str] = {}
    for key, command in IDENTITY_COMMANDS:
        lines = await ask(port, command)
        if lines:
            identity[key] = identity_text(lines)
    pcw = await ask(port, "AT+PCW=?")
    fclass = await ask(port, "AT+FCLASS=?")
    return ProbeAnswers(
        identity=identity,
        pcw_values=parse_pcw_range(pcw) if pcw else (),
        fax_classes=parse_fclass(fclass) if fclass else None,
        s9=await read_setting(port, Setting("S9", 0)),
        s10=await read_setting(port, Setting("S10", 0)),
    )


async def confirm_country(port: CommandPort, profile: Profile, location: Location
                          ) -> tuple[str | None, str]:
    """Set the modem's country to the location's, where the profile knows how.

    Returns the country the modem confirms (``None`` if unknown) and a note.
    Unknown matters: the S10 limit of the Conexant US quirk then applies
    whatever the location says, because we cannot rule out a US setting.
    """
    if profile.country_set is None:
        return None, "profile has no country command: country-dependent limits assume the worst"
    code = location.modem_country
    if code is None:
        return None, (f"{location.modem_country_note}; country-dependent limits assume the "
                      "worst")
    try:
        await port.command("AT" + profile.country_set.format(code=code), timeout=PROBE_TIMEOUT)
    except (CommandError, CommandTimeout):
        return None, (f"modem refused AT{profile.country_set.format(code=code)}: "
                      "country-dependent limits assume the worst")
    if profile.country_query is None:
        return code, f"modem country set to {code}"
    lines = await ask(port, "AT" + profile.country_query)
    if lines:
        answered = identity_text(lines).upper()
        if answered.startswith(code.upper()):
            return code, f"modem country set to {code} and read back"
        return None, f"modem country read back as {answered!r}, not {code}"
    return None, "modem country could not be read back: assuming the worst"


def build_caps(answers: ProbeAnswers, location: Location, country: str | None,
               caller_id: bool, notes: Sequence[str] = (),
               profile: Profile | None = None, has_dcd: bool = False) -> LineCaps:
    """The line's caps from the probe's answers (pure)."""
    all_notes = list(notes)
    if profile is None:
        profile, score = choose_profile(answers.identity)
        identified = score > 0
        if not identified:
            all_notes.insert(0, "modem not recognised from "
                             f"{answers.identity or 'no identity answers'}: "
                             "using the generic Hayes profile")
    else:
        identified = True
        all_notes.insert(0, f"profile {profile.name} forced by the caller")
    s9 = answers.s9 if answers.s9 is not None else profile.registers.s9_default
    fax = answers.fax_classes if answers.fax_classes is not None else ()
    if answers.fax_classes is None:
        all_notes.append("+FCLASS=? refused: no fax")
    return derive_caps(
        profile=profile, identified=identified, identity=answers.identity, location=location,
        pcw_values=answers.pcw_values, fax_classes=fax, caller_id=caller_id,
        modem_country=country, s9=s9, s10=answers.s10, notes=tuple(all_notes),
        has_dcd=has_dcd,
    )


__all__ = ["ProbeAnswers", "ask", "build_caps", "confirm_country", "gather", "parse_fclass",
           "parse_pcw_range"]
