"""What securing a call did: one entry per mechanism, and the verdict.

The report is the answer to "is this call protected, and by what?".  Each
mechanism says whether it was applied, whether the modem confirmed it by
reading the value back, whether it is in force now, and why - so a caller
with ``secure="best-effort"`` can decide for itself, and an
:class:`~modemctl.errors.OperationUnavailable` carries the same evidence.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

SecureMode = Literal["dial", "answer", "connected"]


class Mechanism(enum.StrEnum):
    """The ways of securing a call: the one set of names caps, plans and reports use.

    A ``StrEnum``, so a name compares equal to its spelling in JSON and on
    the command line (``"cancel-code"``).
    """

    CANCEL_CODE = "cancel-code"              # *70, dialled before the number
    PCW_IGNORE = "pcw-ignore"                # V.92 AT+PCW=2
    MOH_OFF = "moh-off"                      # V.92 AT+PMH=1 (supports pcw-ignore)
    S10_RIDE_THROUGH = "s10-ride-through"    # S10 long enough to ride out the beep
    AUTO_ANSWER_OFF = "auto-answer-off"      # S0=0 (supports the others)


#: Mechanisms that protect a call on their own.  ``moh-off`` and
#: ``auto-answer-off`` only support them, so they never make a call secure.
PROTECTING: frozenset[Mechanism] = frozenset(
    {Mechanism.CANCEL_CODE, Mechanism.PCW_IGNORE, Mechanism.S10_RIDE_THROUGH})


@dataclass(frozen=True)
class MechanismReport:
    """One securing mechanism on one call."""

    name: Mechanism
    applied: bool
    verified: bool
    in_force: bool
    reason: str
    detail: str = ""

    @property
    def protecting(self) -> bool:
        """True for a mechanism that, in force, protects the call by itself."""
        return self.name in PROTECTING


@dataclass(frozen=True)
class SecureReport:
    """The outcome of securing one call at one moment (dial, answer or mid-call)."""

    call_id: str
    when: SecureMode
    requested: bool | Literal["best-effort"]
    mechanisms: tuple[MechanismReport, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def secured(self) -> bool:
        """True when at least one protecting mechanism is in force."""
        return any(m.in_force and m.protecting for m in self.mechanisms)

    def mechanism(self, name: Mechanism) -> MechanismReport | None:
        """The entry for ``name``, or ``None`` when it was not considered."""
        return next((m for m in self.mechanisms if m.name == name), None)

    def in_force(self) -> tuple[str, ...]:
        """Names of the mechanisms in force (protecting or supporting)."""
        return tuple(m.name for m in self.mechanisms if m.in_force)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        state = "secured" if self.secured else "NOT secured"
        parts = [f"{m.name}:{'on' if m.in_force else 'off'}" for m in self.mechanisms]
        return f"call {self.call_id} {state} at {self.when} ({', '.join(parts) or 'no mechanisms'})"
