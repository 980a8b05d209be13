"""T.31 carrier codes for ``+FTM``/``+FRM``/``+FTH``/``+FRH`` and ``=?`` lists.

V.17 has two codes per rate: long training (TCF, and the first data after a
retrain check) and short training.  T.30 trains TCF long and page data
short, so a V.17 rate is usable only when the modem lists both codes.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from typing import Final

from modemctl.fax.t30.caps import Modulation

V21_HDLC: Final = 3          # V.21 channel 2, 300 bit/s: T.30 frames


class Training(enum.Enum):
    """Which V.17 training a carrier code asks for (others have one only)."""

    LONG = "long"
    SHORT = "short"


#: code -> (modulation, training), from T.31 Table 1.
CARRIERS: Final[dict[int, tuple[Modulation, Training]]] = {
    24: (Modulation.V27_2400, Training.LONG),
    48: (Modulation.V27_4800, Training.LONG),
    72: (Modulation.V29_7200, Training.LONG),
    96: (Modulation.V29_9600, Training.LONG),
    73: (Modulation.V17_7200, Training.LONG), 74: (Modulation.V17_7200, Training.SHORT),
    97: (Modulation.V17_9600, Training.LONG), 98: (Modulation.V17_9600, Training.SHORT),
    121: (Modulation.V17_12000, Training.LONG), 122: (Modulation.V17_12000, Training.SHORT),
    145: (Modulation.V17_14400, Training.LONG), 146: (Modulation.V17_14400, Training.SHORT),
}
_CODE: Final = {value: code for code, value in CARRIERS.items()}


def carrier_code(modulation: Modulation, training: Training = Training.LONG) -> int:
    """The ``+FTM``/``+FRM`` code for a modulation; V.27ter/V.29 ignore ``training``."""
    if modulation.family != "V.17":
        training = Training.LONG
    return _CODE[(modulation, training)]


def parse_code_list(text: str) -> frozenset[int]:
    """The codes in a ``+FTM=?`` answer: ``24,48,72,73,74,96`` or ``(3)``, ``24-146``.

    Ranges keep only codes T.31 defines; anything else in the text is a
    :class:`ValueError` (the caller logs the line and falls back).
    """
    body = text.strip()
    for prefix in ("+FTM:", "+FRM:", "+FTH:", "+FRH:"):
        if body.upper().startswith(prefix):
            body = body[len(prefix):]
    body = body.strip().strip("()").replace(" ", "")
    if not body:
        return frozenset()
    codes: set[int] = set()
    for item in body.split(","):
        m = re.fullmatch(r"(\d{1,3})(?:-(\d{1,3}))?", item)
        if m is None:
            raise ValueError(f"not a carrier code list: {text!r}")
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) else low
        if high == low:
            codes.add(low)
        else:
            codes.update(c for c in (*CARRIERS, V21_HDLC) if low <= c <= high)
    return frozenset(codes)


def usable_modulations(codes: Iterable[int]) -> frozenset[Modulation]:
    """Modulations a modem can run T.30 page transfer on, given its code list."""
    have = set(codes)
    return frozenset(
        mod for mod in Modulation
        if carrier_code(mod, Training.LONG) in have
        and carrier_code(mod, Training.SHORT) in have)
