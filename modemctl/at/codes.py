"""Final result codes: the verbose spellings and the numeric tables.

A final result code is what ends a command; it is the only thing the
protocol core frames responses by.  Codes 0-8 are the same on every Hayes
modem; codes from 9 up are vendor tables, so the numeric table is chosen per
modem family (the line layer knows the family after probing; the default is
Conexant, the most common chipset family in modems still sold).

Spellings differ between vendors ("NO DIALTONE" on Hayes/Conexant, "NO DIAL
TONE" on USR, MultiTech, ZyXEL); both map to :attr:`ResultCode.NO_DIALTONE`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

NumericFamily = Literal["hayes", "conexant", "usr", "lucent"]


class ResultCode(enum.Enum):
    """What a final result code means, independent of how it was spelled."""

    OK = "OK"
    CONNECT = "CONNECT"
    NO_CARRIER = "NO CARRIER"
    ERROR = "ERROR"
    NO_DIALTONE = "NO DIALTONE"
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    DELAYED = "DELAYED"
    BLACKLISTED = "BLACKLISTED"
    DIALING_DISABLED = "DIALING DISABLED"
    LINE_IN_USE = "LINE IN USE"
    NO_BONGTONE = "NO BONGTONE"
    REORDER = "REORDER"
    WARBLE = "WARBLE"
    FCERROR = "+FCERROR"
    FAX = "FAX"
    DATA = "DATA"
    VOICE = "VOICE"

    @property
    def failed(self) -> bool:
        """True for codes that mean the modem refused the command itself."""
        return self is _ERROR or self is _FCERROR


# Bound once (asked of every response): on Python 3.11 ``ResultCode.ERROR``
# is a lookup through EnumType's ``__getattr__`` hook.
_ERROR, _FCERROR = ResultCode.ERROR, ResultCode.FCERROR


#: Verbose spellings, upper-case, whitespace-normalised, in matching order.
#: Each maps to its code; a spelling followed by more text (``DELAYED
#: 00:05:00``, ``CONNECT 33600/ARQ``) keeps that text as the suffix.
_VERBOSE: tuple[tuple[str, ResultCode], ...] = (
    ("OK", ResultCode.OK),
    ("CONNECT", ResultCode.CONNECT),
    ("NO CARRIER", ResultCode.NO_CARRIER),
    ("ERROR", ResultCode.ERROR),
    ("NO DIALTONE", ResultCode.NO_DIALTONE),
    ("NO DIAL TONE", ResultCode.NO_DIALTONE),
    ("BUSY", ResultCode.BUSY),
    ("NO ANSWER", ResultCode.NO_ANSWER),
    ("DELAYED", ResultCode.DELAYED),
    ("BLACKLISTED", ResultCode.BLACKLISTED),
    ("DIALING DISABLED", ResultCode.DIALING_DISABLED),
    ("LINE IN USE", ResultCode.LINE_IN_USE),
    ("NO BONGTONE", ResultCode.NO_BONGTONE),
    ("NO BONG TONE", ResultCode.NO_BONGTONE),
    ("REORDER", ResultCode.REORDER),
    ("WARBLE", ResultCode.WARBLE),
    ("+FCERROR", ResultCode.FCERROR),
    ("FAX", ResultCode.FAX),
    ("DATA", ResultCode.DATA),
    ("VOICE", ResultCode.VOICE),
)

#: Codes that only make sense as the whole line (``DATA`` or ``FAX`` followed
#: by text is information, e.g. a data-mode banner, not a result).
_EXACT_ONLY = frozenset({ResultCode.OK, ResultCode.ERROR, ResultCode.FAX, ResultCode.DATA,
                         ResultCode.VOICE, ResultCode.BUSY, ResultCode.FCERROR})

_SPACES = re.compile(r"\s+")
_RATE = re.compile(r"^(\d+)(?=\D|$)")
_SPLIT_RATE = re.compile(r"^(\d+)TX/(\d+)RX", re.IGNORECASE)


@dataclass(frozen=True)
class FinalCode:
    """A recognised final result code: meaning, connect rate, trailing text."""

    code: ResultCode
    rate: int | None
    suffix: str
    text: str


# Numeric tables: code -> verbose text (so numeric and verbose go through the
# same parser and yield the same rate/suffix).  "RING"/"RINGING" entries are
# unsolicited, not finals; the core checks them first.
_UNIVERSAL: dict[int, str] = {
    0: "OK", 1: "CONNECT", 2: "RING", 3: "NO CARRIER", 4: "ERROR", 5: "CONNECT 1200",
    6: "NO DIALTONE", 7: "BUSY", 8: "NO ANSWER",
}

# Hayes' own numbering past the universal codes (Hayes technical reference
# 00000181): 10-12 as Conexant, but 13 is CONNECT 14400 here.
_HAYES: dict[int, str] = {
    **_UNIVERSAL,
    10: "CONNECT 2400", 11: "CONNECT 4800", 12: "CONNECT 9600", 13: "CONNECT 14400",
}

_CONEXANT: dict[int, str] = {
    **_UNIVERSAL,
    9: "CONNECT 600", 10: "CONNECT 2400", 11: "CONNECT 4800", 12: "CONNECT 9600",
    13: "CONNECT 7200", 14: "CONNECT 12000", 15: "CONNECT 14400", 16: "CONNECT 19200",
    17: "CONNECT 38400", 22: "CONNECT 75TX/1200RX", 23: "CONNECT 1200TX/75RX",
    24: "DELAYED", 32: "BLACKLISTED",
    33: "FAX", 35: "DATA", 59: "CONNECT 16800", 61: "CONNECT 21600",
    62: "CONNECT 24000", 63: "CONNECT 26400", 64: "CONNECT 28800", 83: "LINE IN USE",
    84: "CONNECT 33600", 91: "CONNECT 31200",
}

_USR: dict[int, str] = {
    **_UNIVERSAL,
    10: "CONNECT 2400", 11: "RINGING", 12: "VOICE", 13: "CONNECT 9600",
    18: "CONNECT 4800", 20: "CONNECT 7200", 21: "CONNECT 12000", 25: "CONNECT 14400",
    43: "CONNECT 16800", 85: "CONNECT 19200", 91: "CONNECT 21600", 99: "CONNECT 24000",
    103: "CONNECT 26400", 107: "CONNECT 28800",
    # V.34+ rates: an assumption shared with the fake's usr-v90 personality
    # (firmware-notes/usr.md), no USR table at hand lists them.
    151: "CONNECT 31200", 155: "CONNECT 33600",
}

# Lucent / Agere controller modems (Lucent host-based controller modem AT
# manual, table 4): not Conexant's numbering (14400 is 13 here, 15 there).
_LUCENT: dict[int, str] = {
    **_UNIVERSAL,
    10: "CONNECT 2400", 11: "CONNECT 4800", 12: "CONNECT 9600", 13: "CONNECT 14400",
    14: "CONNECT 19200", 24: "CONNECT 7200", 25: "CONNECT 12000", 40: "CONNECT 300",
    55: "CONNECT 21600", 56: "CONNECT 24000", 57: "CONNECT 26400", 58: "CONNECT 28800",
    59: "CONNECT 31200", 60: "CONNECT 33600", 86: "CONNECT 16800",
    88: "DELAYED", 89: "BLACKLISTED",
}

NUMERIC_TABLES: dict[NumericFamily, dict[int, str]] = {
    "hayes": _HAYES,
    "lucent": _LUCENT,
    "conexant": _CONEXANT,
    "usr": _USR,
}

#: Class 1/2 fax numeric form of +FCERROR on Conexant parts.
_NUMERIC_SPECIAL = {"+F4": "+FCERROR"}


def numeric_text(token: str, family: NumericFamily) -> str | None:
    """The verbose text for a numeric result code, or None if the family has none."""
    if token in _NUMERIC_SPECIAL:
        return _NUMERIC_SPECIAL[token]
    if not token.isdigit() or len(token) > 3:
        return None
    return NUMERIC_TABLES[family].get(int(token))


@lru_cache(maxsize=256)
def parse_final(text: str) -> FinalCode | None:
    """Recognise a verbose final result code, or return None.

    ``text`` is one line without its terminator.  Matching is on the whole
    leading words (``CONNECTED`` is not ``CONNECT``), case-insensitive, with
    runs of whitespace treated as one space.  Cached (the result is
    immutable): a modem says ``OK`` to almost every command.
    """
    norm = _SPACES.sub(" ", text.strip()).upper()
    for spelling, code in _VERBOSE:
        if norm == spelling:
            return FinalCode(code, None, "", norm)
        if code in _EXACT_ONLY or not norm.startswith(spelling):
            continue
        rest = norm[len(spelling):]
        if not rest.startswith(" ") and not (code is ResultCode.CONNECT and rest[0] == "/"):
            continue
        suffix = rest.strip()
        rate: int | None = None
        if code is ResultCode.CONNECT:
            split = _SPLIT_RATE.match(suffix)
            m = _RATE.match(suffix)
            if split is not None:
                rate = int(split.group(2))
            elif m is not None:
                rate = int(m.group(1))
                suffix = suffix[m.end():].strip()
        return FinalCode(code, rate, suffix, norm)
    return None
