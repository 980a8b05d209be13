"""Faults a fake line can be told to show, between the interpreter and the port.

Real modems misbehave in a handful of ways that a driver must survive; each
is injected with ``line.inject(kind, **params)`` and acts here, on the byte
streams, so the interpreter stays a faithful modem:

==============  ===============================================================
``garbage``     emit ``data`` (bytes/str) or ``count`` random bytes now
``stall``       for ``duration`` protocol seconds (default 5): ignore input, send nothing
``lose-final``  the final result code of the next ``count`` (default 1) responses is lost
``unsolicited`` insert ``lines`` (default RING, MESSAGE-WAITING) between the info lines
                of the next response (before its final result if it has no info)
``wedge``       answer nothing, ignore input, until DTR drops (RFC 2217 DTR or pty close)
``unplug``      the device disappears (pty closed, path removed); ``duration`` replugs
``reboot``      forget unsaved settings (stored profile), drop any call; ``banner`` is
                sent if given (else the personality's boot banner, often nothing)
``slow``        every output byte is delayed ``delay`` protocol seconds (0 turns it off)
``clear``       remove every standing fault
==============  ===============================================================
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FAULT_KINDS = ("garbage", "stall", "lose-final", "unsolicited", "wedge", "unplug", "reboot",
               "slow", "clear")


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

