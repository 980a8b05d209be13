"""The ``D`` command's dial string, parsed without a modem: digits, modifiers, timing.

Pure: a dial string and the few settings that shape it in, a :class:`DialPlan`
out.  The DCE decides what to do with the plan (dial tone check, timers, the
network request); keeping the parsing here means a reader finds V.250 §6.3.1's
modifiers in one place and tests can check them without a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DIAL_DIGITS = frozenset("0123456789ABCD*#+")
"""Symbols that are dialled (tone); only 0-9 can also be pulsed."""
PULSE_INTERDIGIT = 0.7
"""Seconds between pulse-dialled digits."""
PULSE_PER_BREAK = 0.1
"""Seconds per pulse (a ``0`` is ten pulses)."""
WAIT_FOR_TONE = 1.0
"""Seconds a ``W`` (wait for second dial tone) or ``!`` (flash) takes."""

DialMethod = Literal["T", "P"]
"""How a run of digits is dialled: ``T`` tone (DTMF), ``P`` pulse."""
Segments = tuple[tuple[DialMethod, str], ...]


class DialStringError(ValueError):
    """The dial string cannot be dialled (e.g. characters after ``;``)."""


@dataclass(frozen=True)
class DialRequest:
    """A call the DCE asks the network to place.

    ``segments`` are the dialled digits grouped by dialling method (``"T"``
    tone, ``"P"`` pulse) in order, so the exchange can recognise a call-waiting
    cancel code (``*70`` by tone, ``1170`` by pulse) before the number.
    """

    segments: Segments
    quiet_answer: bool
    dial_string: str

    @property
    def digits(self) -> str:
        """All dialled digits, in order, without method."""
        return "".join(d for _, d in self.segments)


@dataclass(frozen=True)
class DialPlan:
    """What a dial string asks for, and how long dialling it takes."""

    segments: Segments
    duration: float          # seconds of dialling (digits, pauses, waits), no S6
    quiet_answer: bool       # ``@``: wait for quiet answer (NO ANSWER on S7 expiry)
    stay_in_command: bool    # trailing ``;``: return to command state after dialling
    wait_for_tone: bool      # ``W``: check for a dial tone even at X0/X1/X3
    pulse: bool              # the dialling method in force at the end (the next default)


def parse_dial_string(dial: str, *, pulse: bool, comma_pause: float, dtmf_ms: int,
                      pending: Segments = ()) -> DialPlan:
    """Parse ``dial`` (the text after ``D``).

    ``pulse`` is the method in force before it (the last ``T``/``P`` used),
    ``comma_pause`` S8 in seconds, ``dtmf_ms`` S11, and ``pending`` the digits
    of an earlier ``D...;`` that this dial continues.  Characters V.250 lets a
    modem ignore (punctuation, ``R``, ``L``, ``S=n``, ``$``) are ignored.
    """
    segments: list[tuple[DialMethod, str]] = list(pending)
    duration = 0.0
    quiet = stay = wait = False
    for i, raw in enumerate(dial):
        ch = raw.upper()
        if ch in DIAL_DIGITS:
            if pulse and not ch.isdigit():
                continue  # DTMF-only symbols cannot be pulsed
            method: DialMethod = "P" if pulse else "T"
            if segments and segments[-1][0] == method:
                segments[-1] = (method, segments[-1][1] + ch)
            else:
                segments.append((method, ch))
            duration += (PULSE_PER_BREAK * (int(ch) or 10) + PULSE_INTERDIGIT) if pulse \
                else 2 * dtmf_ms / 1000
        elif ch == "T":
            pulse = False
        elif ch == "P":
            pulse = True
        elif ch == ",":
            duration += comma_pause
        elif ch == "W":
            wait = True
            duration += WAIT_FOR_TONE
        elif ch == "!":
            duration += WAIT_FOR_TONE
        elif ch == "@":
            quiet = True
        elif ch == ";":
            if dial[i + 1:].strip():
                raise DialStringError(f"characters after ';' in {dial!r}")
            stay = True
    return DialPlan(tuple(segments), duration, quiet, stay, wait, pulse)
