"""The ``D`` command's dial string, parsed without a modem: digits, modifiers, timing.

Pure: a dial string and the few settings that shape it in, a :class:`DialPlan`
out.  The DCE decides what to do with the plan (dial tone check, timers, the
network request); keeping the parsing here means a reader finds V.250 §6.3.1's
modifiers in one place and tests can check them without a clock.

Two dial forms name a number instead of spelling it: ``L`` as the first symbol
redials the last dialled string ([V11 Actiontec]: "should be the first character
following ATD, ignored otherwise"), and ``S=n`` dials the string stored in
location ``n`` with ``&Zn=`` ([V10 00000181]; [V12 Airlink, Paradyne]).
:func:`expand_dial_string` replaces them before parsing.  ``R`` (reverse:
originate in answer mode, [V12 Paradyne]) is a flag of the request.
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
    """The dial string cannot be dialled (e.g. characters after ``;``, an empty ``S=n``)."""


STORABLE = frozenset("0123456789ABCD#*,$TPRW!@;")
"""Characters ``&Zn=`` keeps (Hayes &Z: digits, ``ABCD#*,$TPRW`` and ``;``; we also keep
``!`` and ``@``, which every personality dials); others are dropped, lower case is
stored upper case ([V10 00000181])."""


def storable(dial: str) -> str:
    """What ``&Zn=<dial>`` stores: the storable characters, upper-cased."""
    return "".join(ch for ch in dial.upper() if ch in STORABLE)


def expand_dial_string(dial: str, *, last: str | None, stored: tuple[str, ...]) -> str:
    """Resolve ``L`` (first symbol: the last dialled string) and ``S=n`` (stored string n).

    Raises :class:`DialStringError` for ``L`` with nothing dialled yet, an ``S=n``
    whose location does not exist or is empty (assumption: the notes do not say
    what a modem answers then; ERROR is what a missing parameter gets in V.250).
    """
    body = dial.lstrip()
    if body[:1].upper() == "L":
        if not last:
            raise DialStringError("L: no number dialled yet")
        dial = last + body[1:]
    out: list[str] = []
    i = 0
    while i < len(dial):
        if dial[i].upper() == "S" and dial[i + 1:i + 2] == "=":
            j = i + 2
            while j < len(dial) and dial[j].isdigit():
                j += 1
            if j == i + 2 or int(dial[i + 2:j]) >= len(stored) or not stored[int(dial[i + 2:j])]:
                raise DialStringError(f"S=: no stored number in {dial!r}")
            out.append(stored[int(dial[i + 2:j])])
            i = j
            continue
        out.append(dial[i])
        i += 1
    return "".join(out)


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
    reverse: bool = False
    """``R``: originate in answer mode; only an originating far end can train with it."""

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
    reverse: bool = False    # ``R``: originate in answer mode


def parse_dial_string(dial: str, *, pulse: bool, comma_pause: float, dtmf_ms: int,
                      pending: Segments = ()) -> DialPlan:
    """Parse ``dial`` (the text after ``D``).

    ``pulse`` is the method in force before it (the last ``T``/``P`` used),
    ``comma_pause`` S8 in seconds, ``dtmf_ms`` S11, and ``pending`` the digits
    of an earlier ``D...;`` that this dial continues.  Characters V.250 lets a
    modem ignore (punctuation, ``$``) are ignored; ``L`` and ``S=n`` must have been
    expanded first (:func:`expand_dial_string`).
    """
    segments: list[tuple[DialMethod, str]] = list(pending)
    duration = 0.0
    quiet = stay = wait = reverse = False
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
        elif ch == "R":
            reverse = True
        elif ch == ";":
            if dial[i + 1:].strip():
                raise DialStringError(f"characters after ';' in {dial!r}")
            stay = True
    return DialPlan(tuple(segments), duration, quiet, stay, wait, pulse, reverse)
