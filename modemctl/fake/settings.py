"""The settings a fake modem keeps: live, stored by ``&W``, restored by ``Z`` and power-up.

These are not a modem *profile* in the sense of :mod:`modemctl.profiles` (the
driver's knowledge of a modem family); they are the handful of values V.250
lets the DTE change and a real modem writes to non-volatile memory with
``&W``: echo, quiet, verbose, X level, ``&C``/``&D``, the stored S-registers,
V.92 parameters and the personality's accepted-and-remembered commands.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from modemctl.fake.personality import Personality


@dataclass
class StoredSettings:
    """One set of the settings ``&W`` stores and ``Z`` restores."""

    echo: int = 1
    quiet: int = 0
    verbose: int = 1
    x: int = 4
    amp_c: int = 1
    amp_d: int = 2
    regs: dict[int, int] = field(default_factory=dict)
    v92: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)

    def copy(self) -> StoredSettings:
        """A deep copy (the register and parameter tables are not shared)."""
        return replace(self, regs=dict(self.regs), v92=dict(self.v92),
                       accepted=dict(self.accepted))


def factory_settings(pers: Personality) -> StoredSettings:
    """The ``&F`` configuration of a personality."""
    return StoredSettings(regs={n: r.default for n, r in pers.registers.items()},
                          v92=dict(pers.v92_defaults),
                          accepted={name: lo for name, (lo, _hi) in pers.accepted.items()})


def settings_rows(s: StoredSettings) -> list[str]:
    """``&V`` text for one set of settings: the switches, then S-registers eight a row."""
    head = (f"E{s.echo} Q{s.quiet} V{s.verbose} X{s.x} &C{s.amp_c} &D{s.amp_d}"
            + "".join(f" {k}{v}" for k, v in sorted(s.accepted.items())))
    regs = [f"S{n:02d}:{v:03d}" for n, v in sorted(s.regs.items())]
    rows = [head] + [" ".join(regs[i:i + 8]) for i in range(0, len(regs), 8)]
    if s.v92:
        rows.append(" ".join(f"+{k}:{v}" for k, v in s.v92.items()))
    return rows
