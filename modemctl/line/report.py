"""What securing a call did: one entry per mechanism, and the verdict.

The report is the answer to "is this call protected, and by what?".  Each
mechanism says whether it was applied, whether the modem confirmed it by
reading the value back, whether it is in force now, and why - so a caller
with ``secure="best-effort"`` can decide for itself, and an
:class:`~modemctl.errors.OperationUnavailable` carries the same evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

SecureMode = Literal["dial", "answer", "connected"]

#: Mechanisms that protect a call on their own.  ``moh-off`` and
#: ``auto-answer-off`` only support them, so they never make a call secure.
PROTECTING: frozenset[str] = frozenset({"cancel-code", "pcw-ignore", "s10-ride-through"})


@dataclass(frozen=True)
class MechanismReport:
    """One securing mechanism on one call."""

    name: str
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

    def mechanism(self, name: str) -> MechanismReport | None:
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
