"""Identify a modem and find out what it can do.

The probe asks only questions every Hayes modem survives (an unknown
command gets ``ERROR``, which is an answer, not a failure): the ``I0``/``I3``
identity strings, ``+GMI``/``+GMM``, ``+PCW=?`` for V.92 call-waiting
control, ``+FCLASS=?`` for fax classes, and S9/S10.  The profile is chosen
from the identity answers once, here; after that the line only consults
the profile.  Unknown modems get the generic Hayes profile, and the caps
say so.

The modem is not trusted.  A primitive parser answers ``OK`` to anything,
so a bare ``OK`` to a test command (``=?``) is not support; a feature counts
only when its test command lists values *and* reading the parameter
(``+PCW?``) gives one of them.  Each inference is kept as a
:class:`~modemctl.line.caps.Finding` with the answers it came from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from modemctl.errors import CommandError, CommandTimeout
from modemctl.line.caps import Feature, Finding, LineCaps, RegisterFeature, derive_caps
from modemctl.line.secure import CommandPort, Setting, read_setting
from modemctl.locations import Location
from modemctl.profiles import Profile, choose_profile

PROBE_TIMEOUT = 5.0
T = TypeVar("T")
IDENTITY_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ati0", "ATI0"), ("ati3", "ATI3"), ("gmi", "AT+GMI"), ("gmm", "AT+GMM"))

_PREFIX = re.compile(r"^\+[A-Z]+:\s*", re.IGNORECASE)
_FCLASS = re.compile(r"\d+(?:\.\d+)?")
_COUNTRY = re.compile(r"[0-9A-F]{2}")       # an ITU-T T.35 country code


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
    findings: tuple[Finding, ...] = ()


def _shown(lines: tuple[str, ...] | None) -> str:
    if lines is None:
        return "ERROR"
    return " | ".join(lines) if lines else "a bare OK"


async def offered(port: CommandPort, parameter: str, parse: Callable[[Sequence[str]], Sequence[T]],
                  feature: Feature) -> tuple[tuple[T, ...], Finding]:
    """The values ``AT<parameter>=?`` offers, cross-checked by reading the parameter.

    Support needs both: a test answer that lists values (a bare ``OK`` lists
    none) and a read (``AT<parameter>?``) whose value is among them - a
    modem that lists values for a parameter it cannot read is not trusted.
    """
    test = await ask(port, f"AT{parameter}=?")
    values = tuple(parse(test)) if test else ()
    if not values:
        return (), Finding(feature, False, f"AT{parameter}=? answered {_shown(test)}: "
                           "no values offered")
    read = await ask(port, f"AT{parameter}?")
    current = _read_value(parameter, read)
    if current is None or current not in [str(v) for v in values]:
        return (), Finding(feature, False, f"AT{parameter}=? offered {_shown(test)} but "
                           f"AT{parameter}? answered {_shown(read)}: inconsistent, not trusted")
    return values, Finding(feature, True, f"AT{parameter}=? offered {_shown(test)}; "
                           f"AT{parameter}? read {current}")


def _read_value(parameter: str, lines: tuple[str, ...] | None) -> str | None:
    """The value of a parameter read (``+FCLASS: 2.0``, ``+PCW: 0`` or a bare ``0``)."""
    if not lines:
        return None
    text = " ".join(lines).strip()
    if text.upper().startswith(parameter.upper()):
        text = text[len(parameter):].lstrip(" :")
    m = _FCLASS.fullmatch(text.strip())
    return m.group(0) if m else None


async def read_register(port: CommandPort, register: RegisterFeature
                        ) -> tuple[int | None, Finding]:
    """An S-register's value (``000`` is a value), or None with why it is not trusted."""
    value = await read_setting(port, Setting(register, 0))
    if value is None or not 0 <= value <= 255:
        return None, Finding(register, False, f"AT{register}? gave no value from 0 to 255")
    return value, Finding(register, True, f"AT{register}? read {value}")


async def gather(port: CommandPort) -> ProbeAnswers:
    """Ask the probe questions (no state on the modem is changed)."""
    identity: dict[str, str] = {}
    for key, command in IDENTITY_COMMANDS:
        lines = await ask(port, command)
        if lines:
            identity[key] = identity_text(lines)
    pcw, pcw_finding = await offered(port, "+PCW", parse_pcw_range, "v92-call-waiting")
    fclass, fax_finding = await offered(port, "+FCLASS", parse_fclass, "fax")
    s9, s9_finding = await read_register(port, "S9")
    s10, s10_finding = await read_register(port, "S10")
    return ProbeAnswers(
        identity=identity,
        pcw_values=pcw,
        fax_classes=fclass or None,
        s9=s9,
        s10=s10,
        findings=(pcw_finding, fax_finding, s9_finding, s10_finding),
    )


async def enable_caller_id(port: CommandPort, command: str) -> tuple[int | None, Finding]:
    """Turn caller ID on with ``command`` (``+VCID=1``) only once the modem has shown
    it understands it; returns the value before (to put back) and the finding.

    The parameter's test command must offer the value, and reading it must give
    one of its values; after the set, reading it must give the value asked for.
    """
    parameter, _, wanted = command.partition("=")
    values, finding = await offered(port, parameter, parse_pcw_range, "caller-id")
    if not values or not wanted.isdigit() or int(wanted) not in values:
        why = finding.evidence if not values else f"{finding.evidence}; {wanted} not offered"
        return None, Finding("caller-id", False, why)
    before = _read_value(parameter, await ask(port, f"AT{parameter}?"))
    try:
        await port.command(f"AT{command}", timeout=PROBE_TIMEOUT)
    except (CommandError, CommandTimeout):
        return None, Finding("caller-id", False, f"{finding.evidence}; AT{command} refused")
    after = _read_value(parameter, await ask(port, f"AT{parameter}?"))
    previous = int(before) if before is not None and before.isdigit() else None
    if after != wanted:
        return previous, Finding("caller-id", False, f"{finding.evidence}; AT{command} "
                                 f"read back as {after!r}")
    return previous, Finding("caller-id", True, f"{finding.evidence}; AT{command} read back")


def parse_country(lines: Sequence[str]) -> str | None:
    """The T.35 code a ``+GCI?`` answered (``+GCI: B5`` or a bare ``B5``), or None."""
    text = identity_text(lines).upper()
    m = _COUNTRY.fullmatch(text)
    return m.group(0) if m else None


@dataclass(frozen=True)
class CountrySetting:
    """The modem's country after the probe, and what to put back at close."""

    country: str | None           # what the modem is set to, as far as we know (None: unknown)
    note: str
    previous: str | None = None   # the country before the line changed it (None: unchanged)


async def settle_country(port: CommandPort, profile: Profile, location: Location,
                         set_country: bool) -> CountrySetting:
    """Read the modem's country; set the location's only when asked to (``set_country``).

    A modem's country is a regulatory setting, often kept in non-volatile
    memory: the line reads it first (``+GCI?``), changes it only when the
    user gave a location, only on a modem that answered the query with a
    country (it has shown it understands the command), and reports the
    value before so that the line puts it back at close.  Unknown matters:
    the S10 limit of the Conexant US quirk then applies whatever the
    location says, because a US setting cannot be ruled out.
    """
    current: str | None = None
    query = profile.country_query
    if query is not None:
        lines = await ask(port, "AT" + query)
        current = parse_country(lines) if lines else None
    if not set_country or profile.country_set is None:
        if current is not None:
            return CountrySetting(current, f"modem country {current}, read with AT{query} "
                                  "(left as found)")
        why = ("profile has no country command" if query is None
               else f"AT{query} gave no country")
        return CountrySetting(None, f"{why}: country-dependent limits assume the worst")
    code = location.modem_country
    if code is None:
        return CountrySetting(current, f"{location.modem_country_note}: country left as found "
                              f"({current or 'unknown'})" if current is not None else
                              f"{location.modem_country_note}; country-dependent limits "
                              "assume the worst")
    if current == code:
        return CountrySetting(code, f"modem country already {code} (read with AT{query})")
    if query is not None and current is None:
        return CountrySetting(None, f"AT{query} gave no country, so AT+GCI is not trusted: "
                              "country left alone, country-dependent limits assume the worst")
    command = "AT" + profile.country_set.format(code=code)
    try:
        await port.command(command, timeout=PROBE_TIMEOUT)
    except (CommandError, CommandTimeout):
        return CountrySetting(None, f"modem refused {command}: "
                              "country-dependent limits assume the worst")
    if query is None:
        return CountrySetting(code, f"modem country set to {code}")
    lines = await ask(port, "AT" + query)
    answered = parse_country(lines) if lines else None
    if answered == code:
        return CountrySetting(code, f"modem country set to {code} (was {current}) and read "
                              "back", previous=current)
    return CountrySetting(None, f"modem country read back as {answered!r}, not {code}",
                          previous=current)


def build_caps(answers: ProbeAnswers, location: Location, country: str | None,
               caller_id: bool, notes: Sequence[str] = (),
               profile: Profile | None = None, has_dcd: bool = False,
               findings: Sequence[Finding] = ()) -> LineCaps:
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
        why = next((f.evidence for f in answers.findings if f.feature == "fax"),
                   "+FCLASS=? refused")
        all_notes.append(f"no fax: {why}")
    return derive_caps(
        profile=profile, identified=identified, identity=answers.identity, location=location,
        pcw_values=answers.pcw_values, fax_classes=fax, caller_id=caller_id,
        modem_country=country, s9=s9, s10=answers.s10, notes=tuple(all_notes),
        has_dcd=has_dcd, findings=(*answers.findings, *findings),
    )


__all__ = ["CountrySetting", "ProbeAnswers", "ask", "build_caps", "enable_caller_id", "gather",
           "offered", "parse_country", "parse_fclass", "parse_pcw_range", "read_register",
           "settle_country"]
