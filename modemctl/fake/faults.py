"""Faults a fake line can be told to show, between the interpreter and the port.

Real modems misbehave in a handful of ways that a driver must survive; each
is injected with ``line.inject(kind, **params)`` (or ``modemctl fake inject
NUMBER KIND --param NAME=VALUE``) and acts here, on the byte streams or the
modem's stored settings, so the interpreter stays a faithful modem.  The kinds
and their parameters are the :data:`FAULTS` table below, which ``modemctl
fake inject --help`` prints.

``unplug`` without ``duration`` is permanent: only ``replug`` brings the
line back (``clear`` removes standing faults, it does not plug a line in).
``stored-profile`` is not a standing fault either: it rewrites what the
modem keeps in non-volatile memory, as another program's ``AT&W`` would, so
``clear`` leaves it; it shows at the next ``ATZ``, ``&D3`` DTR drop,
``reboot`` or replug (pass ``reboot=true`` to power-cycle at once).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from modemctl.fake.personality import Personality
from modemctl.fake.settings import StoredSettings


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: what it does and the parameters it takes."""

    summary: str
    params: tuple[tuple[str, str], ...] = ()    # (name, meaning and default)


FAULTS: dict[str, FaultKind] = {
    "garbage": FaultKind("emit bytes to the DTE now",
                         (("data", "the bytes (str or bytes)"),
                          ("count", "else this many random bytes (default 16)"))),
    "stall": FaultKind("ignore input and send nothing for a while",
                       (("duration", "protocol seconds (default 5)"),)),
    "lose-final": FaultKind("lose the final result code of the next responses",
                            (("count", "how many responses (default 1)"),)),
    "unsolicited": FaultKind("insert lines between the info lines of the next response "
                             "(before its final result if it has none)",
                             (("lines", "a string or list (default RING, MESSAGE-WAITING)"),)),
    "wedge": FaultKind("answer nothing and ignore input until DTR drops "
                       "(RFC 2217 DTR or pty close)"),
    "unplug": FaultKind("the device disappears (pty closed, path removed, gone from the "
                        "registry); permanent unless a duration is given",
                        (("duration", "protocol seconds until it is plugged back in"),)),
    "replug": FaultKind("plug an unplugged line back in (a power cycle: the stored "
                        "profile is restored)"),
    "reboot": FaultKind("power cycle: drop any call, forget unsaved settings (the stored "
                        "profile comes back)",
                        (("banner", "sent after the reset (default: the personality's "
                                    "boot banner, often nothing)"),)),
    "stored-profile": FaultKind("change the profile the modem stored with &W, as another "
                                "program would; seen after ATZ, &D3, reboot or replug",
                                (("v", "0 numeric or 1 verbose result codes"),
                                 ("q", "1 quiet (no result codes) or 0"),
                                 ("e", "1 echo or 0"),
                                 ("x", "result code level X0..the personality's maximum"),
                                 ("sN", "S-register N's stored value, e.g. s0=1"),
                                 ("reboot", "true: power-cycle at once (default false)"))),
    "blacklist": FaultKind("the modem refuses to dial a number, as after repeated failed "
                           "calls: DELAYED or BLACKLISTED at X4 (Conexant) / X5 (Agere) and "
                           "up, ERROR below; modems without a blacklist (usr-v90, hayes-basic) "
                           "refuse the fault; gone at power-off",
                           (("number", "the digits dialled, e.g. 5551002"),
                            ("result", "delayed or blacklisted (default blacklisted); "
                                       "none lifts it"))),
    "slow": FaultKind("delay every output byte (call data still held goes at a hang-up "
                      "of the DTE's, as a modem's transmit buffer does)",
                      (("delay", "protocol seconds per byte (default 0.01; 0 turns it off)"),)),
    "clear": FaultKind("remove every standing fault (not an unplug, a stored profile or a "
                       "blacklist)"),
}
"""Every fault kind, with its parameters (the ``inject --help`` text comes from here)."""

FAULT_KINDS = tuple(FAULTS)


class FaultError(ValueError):
    """An unknown fault kind or a bad parameter for it."""


@dataclass
class FaultState:
    """The standing faults of one line."""

    stalled_until: float = -1.0
    wedged: bool = False
    lose_final: int = 0
    unsolicited: list[list[str]] = field(default_factory=list)
    slow_delay: float = 0.0

    def clear(self) -> None:
        self.stalled_until = -1.0
        self.wedged = False
        self.lose_final = 0
        self.unsolicited.clear()
        self.slow_delay = 0.0


def garbage_bytes(params: dict[str, object], rng: random.Random) -> bytes:
    """The bytes of a ``garbage`` injection."""
    data = params.get("data")
    if data is not None:
        if isinstance(data, str):
            return data.encode("latin-1")
        if isinstance(data, bytes | bytearray):
            return bytes(data)
        raise FaultError("garbage: data must be bytes or str")
    count = params.get("count", 16)
    if not isinstance(count, int) or not 0 < count <= 1 << 20:
        raise FaultError("garbage: count must be an int in 1..1048576")
    return bytes(rng.randrange(256) for _ in range(count))


def weave_response(infos: list[bytes], final: bytes | None, extra: bytes) -> list[bytes]:
    """Put ``extra`` (unsolicited lines) after the first info block, or before the final."""
    if infos:
        return [infos[0], extra, *infos[1:], final or b""]
    return [extra, final or b""]


def fault_help() -> list[tuple[str, str]]:
    """(kind, description with parameters) rows for help text."""
    rows = []
    for kind, spec in FAULTS.items():
        params = "; ".join(f"{name}: {meaning}" for name, meaning in spec.params)
        rows.append((kind, spec.summary + (f" [{params}]" if params else "")))
    return rows


def stored_profile(params: dict[str, object], stored: StoredSettings, pers: Personality
                   ) -> StoredSettings:
    """The stored settings after a ``stored-profile`` injection (``stored`` is not changed).

    Every value is checked as the modem would check ``AT...&W``, so a test cannot
    store something the personality's firmware would refuse.
    """
    new = stored.copy()
    switches = {"v": ("verbose", 1), "q": ("quiet", 1), "e": ("echo", 1),
                "x": ("x", pers.x_max)}
    for name, value in params.items():
        if name == "reboot":
            if not isinstance(value, bool):
                raise FaultError("stored-profile: reboot must be true or false")
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            raise FaultError(f"stored-profile: {name} must be an integer")
        if name in switches:
            attr, top = switches[name]
            if not 0 <= value <= top:
                raise FaultError(f"stored-profile: {name} must be 0..{top}")
            setattr(new, attr, value)
        elif name[:1] == "s" and name[1:].isdigit():
            num = int(name[1:])
            spec = pers.registers.get(num)
            if spec is None or not spec.stored or not spec.allows(value):
                raise FaultError(f"stored-profile: {pers.name} cannot store S{num}={value}")
            new.regs[num] = value
        else:
            raise FaultError(f"stored-profile: unknown parameter {name!r} "
                             "(v, q, e, x, sN, reboot)")
    return new


BLACKLIST_RESULTS = {"delayed": "DELAYED", "blacklisted": "BLACKLISTED", "none": None}


def blacklist_entry(params: dict[str, object], pers: Personality) -> tuple[str, str | None]:
    """The (number, result or None to lift it) of a ``blacklist`` injection."""
    if pers.blacklist_min_x is None:
        raise FaultError(f"blacklist: {pers.name} keeps no blacklist")
    number, result = params.get("number"), params.get("result", "blacklisted")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if not isinstance(number, str) or not number or \
            not all(c in "0123456789ABCD*#+" for c in number.upper()):
        raise FaultError("blacklist: number must be the dialled digits")
    if not isinstance(result, str) or result.lower() not in BLACKLIST_RESULTS:
        raise FaultError("blacklist: result must be delayed, blacklisted or none")
    return number.upper(), BLACKLIST_RESULTS[result.lower()]


def param_float(params: dict[str, object], name: str, default: float) -> float:
    value = params.get(name, default)
    if not isinstance(value, int | float) or value < 0:
        raise FaultError(f"{name} must be a number >= 0")
    return float(value)


def param_lines(params: dict[str, object]) -> list[str]:
    lines = params.get("lines", ["RING", "MESSAGE-WAITING"])
    if isinstance(lines, str):
        lines = [lines]
    if not isinstance(lines, list | tuple) or not all(isinstance(s, str) for s in lines):
        raise FaultError("unsolicited: lines must be a string or a list of strings")
    return list(lines)

