"""What a conformance test may need, and why a rig lacks it.

Each test declares its needs (``@pytest.mark.needs("v92", "call-waiting")``);
before it runs, :func:`lacking` gives the reason the rig cannot run it, and
the test is skipped with that reason -- never silently, never as a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import modemctl.fax
from modemctl.hil.linesim.base import CAPABILITIES as SIMULATOR_CAPABILITIES
from modemctl.hil.rig import Rig, RigModem
from modemctl.profiles import get_profile


@dataclass(frozen=True)
class Offers:
    """What the rig's devices can do (simulator capabilities, a power switch)."""

    simulator: str
    simulator_capabilities: frozenset[str]
    power_switch: str


def fax_api_missing() -> str | None:
    """The fax API is built by another issue; until it lands, fax tests say so."""
    if not hasattr(modemctl.fax, "send") or not hasattr(modemctl.fax, "receive"):
        return "modemctl.fax.send/receive do not exist yet (the fax API is not merged)"
    return None


def _v92(m: RigModem, offers: Offers) -> str | None:
    return None if get_profile(m.profile).v92.present else \
        f"{m.name}: profile {m.profile} is not a V.92 modem"


def _line(name: str) -> Callable[[RigModem, Offers], str | None]:
    def check(m: RigModem, offers: Offers) -> str | None:
        return None if name in m.modem_lines else \
            f"{m.name}: its port does not carry {name.upper()} (rig file modem_lines)"
    return check


def _power(m: RigModem, offers: Offers) -> str | None:
    if offers.power_switch == "none":
        return "the rig has no power switch"
    return None if m.outlet is not None else f"{m.name}: not on a power-switch outlet"


def _removable(m: RigModem, offers: Offers) -> str | None:
    return _power(m, offers) or (None if m.removable else
                                 f"{m.name}: its port stays when it is switched off "
                                 "(not removable)")


def _fax(m: RigModem, offers: Offers) -> str | None:
    missing = fax_api_missing()
    if missing:
        return missing
    return None if "1" in get_profile(m.profile).fax_classes else \
        f"{m.name}: profile {m.profile} has no fax Class 1"


MODEM_NEEDS: dict[str, Callable[[RigModem, Offers], str | None]] = {
    "v92": _v92, "dcd": _line("dcd"), "ri": _line("ri"), "dtr": _line("dtr"),
    "power-switch": _power, "removable": _removable, "fax": _fax,
}
"""Needs checked against each modem a test uses."""
NEEDS = (*MODEM_NEEDS, *SIMULATOR_CAPABILITIES)


def lacking(needs: Sequence[str], modems: Sequence[RigModem], offers: Offers) -> str | None:
    """Why the rig cannot run a test with ``needs`` on ``modems`` (None: it can)."""
    for need in needs:
        if need in MODEM_NEEDS:
            for m in modems:
                reason = MODEM_NEEDS[need](m, offers)
                if reason:
                    return reason
        elif need in SIMULATOR_CAPABILITIES:
            if offers.simulator == "none":
                return f"the rig has no line simulator (needed: {need})"
            if need not in offers.simulator_capabilities:
                return f"line simulator {offers.simulator} cannot do {need}"
        else:
            raise ValueError(f"unknown need {need!r} (known: {', '.join(NEEDS)})")
    return None


def offers_of(rig: Rig, simulator_capabilities: frozenset[str]) -> Offers:
    return Offers(rig.line_simulator.kind, simulator_capabilities, rig.power_switch.kind)
