"""Feeding helpers for the sans-IO core tests."""

from __future__ import annotations

import random
from collections.abc import Iterable

from hypothesis import HealthCheck, settings

from modemctl.at import NEED_DATA, ATConnection, Event

#: Hypothesis settings for the core's property tests: enough examples to find
#: a framing bug, no per-example deadline (a slow CI core is not a failure).
PROPERTY = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def drain(core: ATConnection, *, flush: bool = False) -> list[Event]:
    """Pull every event; with ``flush`` resolve a held tail like the engine does
    after a quiet period (at most once per call)."""
    out: list[Event] = []
    flushed = False
    for _ in range(100_000):
        ev = core.next_event()
        if ev is NEED_DATA:
            if flush and core.holding_tail and not flushed:
                core.end_of_input()
                flushed = True
                continue
            return out
        out.append(ev)
    raise AssertionError("core produced events forever")


def chunks(data: bytes, mode: str, seed: int = 0) -> Iterable[bytes]:
    """``whole``, ``bytes`` (one at a time) or ``random`` splits of ``data``."""
    if mode == "whole":
        yield data
    elif mode == "bytes":
        for i in range(len(data)):
            yield data[i:i + 1]
    else:
        rnd = random.Random(seed)
        i = 0
        while i < len(data):
            n = rnd.randint(1, 7)
            yield data[i:i + n]
            i += n


def feed(core: ATConnection, data: bytes, mode: str = "whole", seed: int = 0,
         flush: bool = True) -> list[Event]:
    """Feed ``data`` split as ``mode``, collecting events; flush the tail at the end."""
    out: list[Event] = []
    for part in chunks(data, mode, seed):
        core.receive_data(part)
        out += drain(core)
    out += drain(core, flush=flush)
    return out


def answer(core: ATConnection, command: str, reply: bytes, mode: str = "whole") -> list[Event]:
    """Send ``command`` and feed the modem's ``reply`` to it; the events."""
    core.send_command(command)
    return feed(core, reply, mode)


SPLITS = ("whole", "bytes", "random")
