"""Line capabilities: what this modem, on this line, in this location, can do.

:func:`derive_caps` is a pure function from the probe's findings, the
chosen profile and the location to a frozen :class:`LineCaps`.  Each
securing mechanism is listed with *whether* it can be used at dial time
and after connect, and *why* (or why not), so that a refused secure request
can explain itself and the CLI can print the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from modemctl.line.report import PROTECTING, Mechanism
from modemctl.locations import Location
from modemctl.profiles import Profile

#: Minimum ride-through margin in tenths of a second over S9 (S10 - S9):
#: a call-waiting interruption lasts ~300 ms, and 0.5 s leaves margin.
MIN_RIDE_THROUGH = 5


#: What the probe judges from the modem's answers: an extended feature, or an
#: S-register the secure logic depends on.
Feature = Literal["v92-call-waiting", "fax", "caller-id", "S9", "S10"]
#: The S-registers among them.
RegisterFeature = Literal["S9", "S10"]


@dataclass(frozen=True)
class Finding:
    """One thing the probe inferred about the modem, and the answers it came from."""

    feature: Feature
    supported: bool
    evidence: str


@dataclass(frozen=True)
class MechanismCap:
    """One way of securing a call, as available on this line."""

    name: Mechanism
    at_dial: bool
    after_connect: bool
    reason: str
    value: str | None = None

    @property
    def available(self) -> bool:
        """Usable at dial time or after connect."""
        return self.at_dial or self.after_connect


@dataclass(frozen=True)
class LineCaps:
    """What :meth:`Line.probe` found out (immutable; a new probe makes a new one)."""

    profile: Profile
    identified: bool
    identity: tuple[tuple[str, str], ...]
    location: Location
    v92: bool
    pcw_values: tuple[int, ...]
    fax_classes: tuple[str, ...]
    max_rate: int | None
    caller_id: bool
    modem_country: str | None
    s9: int
    s10: int | None
    mechanisms: tuple[MechanismCap, ...]
    notes: tuple[str, ...]
    has_dcd: bool = False
    #: What the probe inferred, each with the answers it inferred it from.
    findings: tuple[Finding, ...] = ()

    def mechanism(self, name: Mechanism) -> MechanismCap:
        """The entry for ``name`` (every known mechanism is always listed)."""
        for m in self.mechanisms:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def secure_at_dial(self) -> tuple[Mechanism, ...]:
        """Protecting mechanisms usable when dialling."""
        return tuple(m.name for m in self.mechanisms if m.at_dial and m.name in PROTECTING)

    @property
    def secure_after_connect(self) -> tuple[Mechanism, ...]:
        """Protecting mechanisms usable on a call that is already connected."""
        return tuple(m.name for m in self.mechanisms
                     if m.after_connect and m.name in PROTECTING)

    def describe(self) -> dict[str, object]:
        """A JSON-friendly summary (used by the CLI and in logs)."""
        return {
            "profile": self.profile.name,
            "identified": self.identified,
            "identity": dict(self.identity),
            "location": self.location.code,
            "cancel_code": {"tone": self.location.cancel_code(False),
                            "pulse": self.location.cancel_code(True),
                            "source": self.location.cancel_source
                            if self.location.cancel_code(False) else None},
            "v92": self.v92,
            "fax_classes": list(self.fax_classes),
            "max_rate": self.max_rate,
            "caller_id": self.caller_id,
            "modem_country": self.modem_country,
            "has_dcd": self.has_dcd,
            "mechanisms": [
                {"name": m.name, "at_dial": m.at_dial, "after_connect": m.after_connect,
                 "reason": m.reason, "value": m.value}
                for m in self.mechanisms
            ],
            "notes": list(self.notes),
            "findings": [{"feature": f.feature, "supported": f.supported,
                          "evidence": f.evidence} for f in self.findings],
        }


def ride_through_value(profile: Profile, s9: int, country: str | None
                       ) -> tuple[int | None, str]:
    """The S10 value to use for ride-through, or ``None`` with the reason why not."""
    rt = profile.ride_through
    if not rt.safe:
        return None, rt.reason
    value = rt.target
    limit = rt.limit_for(country)
    why = f"S10={value}"
    if limit is not None and value > limit:
        value = limit
    if limit is not None:
        where = country or "unknown (assumed the strictest)"
        why = f"S10={value}, kept <= {limit} for modem country {where}: {rt.reason}"
    if value - s9 < MIN_RIDE_THROUGH:
        return None, (f"the safe S10 ({value}) leaves {value - s9} tenths over S9={s9}, "
                      f"under the {MIN_RIDE_THROUGH} needed to ride out a 0.3 s interruption")
    return value, f"{why}; rides through {(value - s9) / 10:.1f} s of carrier loss"


#: How a user gives a line's cancel code, for every message that lacks one.
HOW_TO_GIVE = ("give your carrier's code with --cancel-code CODE, cancel_code = \"CODE\" in "
               "the line's config, or open_line(..., cancel_code=CODE)")


def _cancel_code_cap(location: Location) -> MechanismCap:
    """The cancel code this line would dial, and whose it is (location or user)."""
    tone, pulse = location.cancel_code(False), location.cancel_code(True)
    if not tone:
        return MechanismCap(
            Mechanism.CANCEL_CODE, False, False,
            f"{location.code} has no per-call cancel code: {location.call_waiting_note}; "
            f"securing by cancel code is unavailable until you {HOW_TO_GIVE}")
    who = (f"the code given for this line (not {location.code}'s data)"
           if location.cancel_source == "user" else location.code)
    by_pulse = f"pulse {pulse!r}" if pulse else "none by pulse: give a pulse code for that"
    return MechanismCap(
        Mechanism.CANCEL_CODE, True, False,
        f"{who} cancels call waiting per call with {tone!r} ({by_pulse}) before the number; "
        "never dialled mid-call (needs a hook flash that drops the data carrier)", tone)


def derive_caps(*, profile: Profile, identified: bool, identity: dict[str, str],
                location: Location, pcw_values: tuple[int, ...], fax_classes: tuple[str, ...],
                caller_id: bool, modem_country: str | None, s9: int, s10: int | None,
                notes: tuple[str, ...] = (), has_dcd: bool = False,
                findings: tuple[Finding, ...] = ()) -> LineCaps:
    """Combine probe findings, profile and location into the line's capabilities."""
    v92 = 2 in pcw_values
    mechs: list[MechanismCap] = []

    mechs.append(_cancel_code_cap(location))

    if v92:
        mechs.append(MechanismCap(Mechanism.PCW_IGNORE, True, True,
                                  "V.92 modem: AT+PCW=2 makes it ignore call waiting", "2"))
        mechs.append(MechanismCap(Mechanism.MOH_OFF, True, True,
                                  "V.92 modem: AT+PMH=1 disables modem-on-hold, which would "
                                  "otherwise hand the line to the waiting call", "1"))
    else:
        why = ("no V.92 call-waiting control: +PCW=? offered no values the modem stands by"
               if not pcw_values else f"+PCW=? offers {pcw_values}, without 2 (ignore)")
        mechs.append(MechanismCap(Mechanism.PCW_IGNORE, False, False, why))
        mechs.append(MechanismCap(Mechanism.MOH_OFF, False, False,
                                  "no V.92 modem-on-hold on this modem"))

    value, why = ride_through_value(profile, s9, modem_country)
    if value is None:
        mechs.append(MechanismCap(Mechanism.S10_RIDE_THROUGH, False, False, why))
    else:
        if v92:
            why += "; on V.92 it counts only with modem-on-hold disabled (+PMH=1)"
        mechs.append(MechanismCap(Mechanism.S10_RIDE_THROUGH, True, True, why, str(value)))

    mechs.append(MechanismCap(Mechanism.AUTO_ANSWER_OFF, True, False,
                              "S0=0: the modem never answers a ring on its own", "0"))

    return LineCaps(
        profile=profile, identified=identified, identity=tuple(sorted(identity.items())),
        location=location, v92=v92, pcw_values=pcw_values,
        fax_classes=fax_classes, max_rate=profile.max_rate, caller_id=caller_id,
        modem_country=modem_country, s9=s9, s10=s10, mechanisms=tuple(mechs), notes=notes,
        has_dcd=has_dcd, findings=findings,
    )
