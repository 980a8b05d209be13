"""Securing a call against call waiting: plan (pure), apply, verify, restore.

The plan is a pure function of the line's capabilities, the moment
(``dial``, ``answer`` or ``connected``) and the media; applying it needs
only something that runs AT commands in command state (the engine, in
command or online-command mode).  Each setting is read first (so it can be
restored after the call), written, and read back: a mechanism counts as
*verified* only when the modem reports the value we wrote.

Which mechanisms protect on their own follows the exchange's call-waiting
rules (docs/design.md): the location's cancel code; ``+PCW=2`` on a V.92
modem; S10 ride-through, which on a V.92 modem only counts once
modem-on-hold is off (``+PMH=1``) - otherwise the +PCW=0 path hands the
line to the waiting call before S10 is ever consulted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from modemctl.errors import CommandError, CommandTimeout
from modemctl.line.caps import LineCaps
from modemctl.line.dialstring import DialString, has_prefix_code
from modemctl.line.report import PROTECTING, Mechanism, MechanismReport, SecureMode

Media = Literal["data", "fax"]
SETTING_TIMEOUT = 5.0


class _HasInfo(Protocol):
    @property
    def info(self) -> tuple[str, ...]: ...


class CommandPort(Protocol):
    """The one engine method securing needs (ERROR raises CommandError)."""

    async def command(self, command: str, timeout: float = ...) -> _HasInfo:  # noqa: ASYNC109
        ...  # the driver's Engine.command takes an absolute timeout by contract


@dataclass(frozen=True)
class Setting:
    """One register or parameter and the value a mechanism wants in it.

    ``&``-commands (``&C``) cannot be queried; ``assumed_before`` is then
    the value our own init set, which is what the call restores.
    """

    register: str   # "S10", "S0", "+PCW", "+PMH", "&C"
    value: int
    assumed_before: int | None = None

    @property
    def readable(self) -> bool:
        return not self.register.startswith("&")

    def set_command(self, value: int | None = None) -> str:
        v = self.value if value is None else value
        if not self.readable:
            return f"AT{self.register}{v}"
        return f"AT{self.register}={v}"

    def query_command(self) -> str:
        return f"AT{self.register}?"


@dataclass(frozen=True)
class PlannedMechanism:
    """A mechanism the plan considered: what it would do, or why it cannot."""

    name: Mechanism
    usable: bool
    reason: str
    settings: tuple[Setting, ...] = ()
    prefix: str = ""


@dataclass(frozen=True)
class SecurePlan:
    """Everything securing will do at one moment, in order."""

    when: SecureMode
    mechanisms: tuple[PlannedMechanism, ...]

    @property
    def prefix(self) -> str:
        """The dial prefix (the cancel code), empty when none is used."""
        return "".join(m.prefix for m in self.mechanisms if m.usable)

    @property
    def can_protect(self) -> bool:
        """True when at least one usable mechanism protects the call on its own."""
        return any(m.usable and m.name in PROTECTING for m in self.mechanisms)


def plan_secure(caps: LineCaps, when: SecureMode, media: Media = "data",
                dial: DialString | None = None) -> SecurePlan:
    """What securing a call would do on this line now (no I/O)."""
    out: list[PlannedMechanism] = []
    cancel = caps.mechanism(Mechanism.CANCEL_CODE)
    if when != "dial":
        why = ("an answered call is not dialled, so no cancel code can be given"
               if when == "answer" else
               "never dialled mid-call: it needs a hook flash that drops a data or fax session")
        out.append(PlannedMechanism(Mechanism.CANCEL_CODE, False, why))
    elif not cancel.at_dial:
        out.append(PlannedMechanism(Mechanism.CANCEL_CODE, False, cancel.reason))
    else:
        pulse = dial.pulse if dial is not None else False
        code = caps.location.cancel_code(pulse) or ""
        if not code:      # a user's tone code with * or #, and no pulse code given
            out.append(PlannedMechanism(
                Mechanism.CANCEL_CODE, False,
                f"the cancel code {caps.location.cancel_code(False)!r} cannot be dialled by "
                "pulse and no pulse code was given (--cancel-code-pulse, cancel_code_pulse)"))
        elif dial is not None and has_prefix_code(dial, code):
            out.append(PlannedMechanism(Mechanism.CANCEL_CODE, True,
                                        f"the number already starts with {code.rstrip(',')}"))
        else:
            mode = "pulse" if pulse else "tone"
            out.append(PlannedMechanism(
                Mechanism.CANCEL_CODE, True, f"{code!r} ({mode}) dialled before the number",
                prefix=code))

    for name, register, default in ((Mechanism.PCW_IGNORE, "+PCW", 2),
                                    (Mechanism.MOH_OFF, "+PMH", 1)):
        cap = caps.mechanism(name)
        usable = cap.after_connect if when == "connected" else cap.at_dial
        out.append(PlannedMechanism(name, usable, cap.reason,
                                    (Setting(register, default),) if usable else ()))

    s10 = caps.mechanism(Mechanism.S10_RIDE_THROUGH)
    usable = s10.after_connect if when == "connected" else s10.at_dial
    settings: tuple[Setting, ...] = ()
    if usable and s10.value:
        settings = (Setting("S10", int(s10.value)),)
    out.append(PlannedMechanism(Mechanism.S10_RIDE_THROUGH, usable and bool(settings), s10.reason,
                                settings))
    if media == "fax":
        out = [_for_fax(m, caps) for m in out]

    if when != "connected":
        out.append(PlannedMechanism(Mechanism.AUTO_ANSWER_OFF, True,
                                    caps.mechanism(Mechanism.AUTO_ANSWER_OFF).reason,
                                    (Setting("S0", 0),)))
    return SecurePlan(when, tuple(out))


def _for_fax(planned: PlannedMechanism, caps: LineCaps) -> PlannedMechanism:
    """A fax call is protected only by what the profile says acts on one
    (``[fax] secure_mechanisms``; firmware-notes/fax-call-waiting.md): the
    rest is not applied, with the profile's reason."""
    fax = caps.profile.fax
    if planned.name == Mechanism.AUTO_ANSWER_OFF or planned.name in fax.secure_mechanisms:
        return planned
    return PlannedMechanism(planned.name, False, fax.secure_note)


_NUMBER = re.compile(r"(\d+)")


# Host-side margin on top of the modem's own ride-through, so that the modem's
# NO CARRIER (not the host's DCD timer) decides whenever the modem gives up.
CARRIER_GRACE_MARGIN = 0.5


def carrier_grace(s9: int, s10: int) -> float | None:
    """Protocol seconds the driver lets DCD stay low before calling the carrier
    lost: the modem's own ride-through (S10 - S9 tenths) plus a margin, or
    ``None`` for S10=255, where the modem never hangs up on carrier loss."""
    if s10 >= 255:
        return None
    return max(s10 - s9, 0) / 10 + CARRIER_GRACE_MARGIN


def parse_value(register: str, info: Sequence[str]) -> int | None:
    """The integer a query answered (``014``, ``+PCW: 2`` or a bare ``2``)."""
    for line in info:
        text = line.strip()
        if not text:
            continue
        if text.upper().startswith(register.upper()):
            text = text[len(register):].lstrip(" :=")
        m = _NUMBER.match(text.strip())
        if m:
            return int(m.group(1))
    return None


async def read_setting(port: CommandPort, setting: Setting) -> int | None:
    """Read one value back; ``None`` when the modem refused or answered nothing usable."""
    if not setting.readable:
        return setting.assumed_before
    try:
        r = await port.command(setting.query_command(), timeout=SETTING_TIMEOUT)
    except (CommandError, CommandTimeout):
        return None
    return parse_value(setting.register, r.info)


@dataclass
class Applied:
    """The outcome of one planned mechanism (mutable while applying)."""

    name: Mechanism
    applied: bool
    verified: bool
    reason: str
    detail: str = ""


def not_applied(plan: SecurePlan, reason: str | None = None) -> list[Applied]:
    """Every mechanism of ``plan`` as not applied (nothing is sent to the modem)."""
    return [Applied(m.name, False, False, reason or m.reason) for m in plan.mechanisms]


async def apply_plan(port: CommandPort, plan: SecurePlan, saved: dict[str, int]
                     ) -> list[Applied]:
    """Apply and verify every usable setting of ``plan``.

    ``saved`` collects the value each register had before modemctl first
    touched it during this call (it is only ever added to, so securing twice
    still restores the original).  The cancel code is reported as applied
    here; the caller dials it.
    """
    results: list[Applied] = []
    for m in plan.mechanisms:
        if not m.usable:
            results.append(Applied(m.name, False, False, m.reason))
            continue
        if not m.settings:
            results.append(Applied(m.name, True, False, m.reason))
            continue
        ok, verified, details = True, True, []
        for s in m.settings:
            before = await read_setting(port, s)
            if before == s.value:
                details.append(f"{s.register}={before} already")
                continue
            if before is not None and s.register not in saved:
                saved[s.register] = before
            try:
                await port.command(s.set_command(), timeout=SETTING_TIMEOUT)
            except CommandError as exc:
                ok = verified = False
                details.append(f"{s.set_command()} refused ({exc.result})")
                continue
            if not s.readable:
                details.append(f"{s.set_command()} accepted (no read-back exists)")
                continue
            after = await read_setting(port, s)
            if after != s.value:
                verified = False
                details.append(f"{s.query_command()} read back {after!r}, wanted {s.value}")
            else:
                details.append(f"{s.register}={after} (was {before})")
        results.append(Applied(m.name, ok, ok and verified, m.reason, "; ".join(details)))
    return results


def judge(results: Sequence[Applied], caps: LineCaps, connected: bool,
          previous: Sequence[MechanismReport] = ()) -> tuple[MechanismReport, ...]:
    """Decide which mechanisms are in force, from what was applied and verified.

    ``previous`` is an earlier report on the same call: what was applied or
    in force then (say the cancel code dialled with the number) stays so.
    ``connected`` says whether the call exists: a dialled cancel code is only
    in force on a call that was actually set up with it.
    """
    by_name = {r.name: r for r in results}
    prev = {m.name: m for m in previous}
    names = list(dict.fromkeys([*by_name, *prev]))

    def merged(name: Mechanism) -> tuple[bool, bool]:
        r, p = by_name.get(name), prev.get(name)
        applied = (r is not None and r.applied) or (p is not None and p.applied)
        verified = (r is not None and r.verified) or (p is not None and p.verified)
        return applied, verified

    out: list[MechanismReport] = []
    for name in names:
        r, p = by_name.get(name), prev.get(name)
        applied, verified = merged(name)
        if r is not None and (r.applied or p is None or not p.applied):
            reason, detail = r.reason, r.detail
        else:
            assert p is not None
            reason, detail = p.reason, p.detail
        if name == Mechanism.CANCEL_CODE:
            in_force = (r is not None and r.applied and connected) or (
                p is not None and p.in_force)
            if in_force:
                detail = ("dialled with the number; the exchange gives the modem no "
                          "confirmation to read back")
        else:
            in_force = verified
        if name == Mechanism.S10_RIDE_THROUGH and in_force and caps.v92 \
                and not merged(Mechanism.MOH_OFF)[1]:
            in_force = False
            detail = (detail + "; " if detail else "") + (
                "not in force: modem-on-hold is still on, so +PCW handles call waiting first")
        out.append(MechanismReport(name, applied, verified, in_force, reason, detail))
    return tuple(out)


async def restore(port: CommandPort, saved: dict[str, int]) -> list[str]:
    """Put every saved register back; returns what could not be restored."""
    failed: list[str] = []
    # +PMH before +PCW is irrelevant to the modem; a stable order keeps logs comparable.
    for register in sorted(saved):
        value = saved[register]
        try:
            await port.command(Setting(register, value).set_command(), timeout=SETTING_TIMEOUT)
        except (CommandError, CommandTimeout) as exc:
            failed.append(f"{register}={value}: {exc}")
    return failed
