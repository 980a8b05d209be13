"""Recognising unsolicited lines (URCs) before any response matching.

The table is data: one compiled pattern per kind, tried in order.  A line
that matches is taken out of the byte stream and never reaches a response.

``+P...`` V.92 lines are the one real ambiguity: ``+PCW: 0`` is the answer
to ``AT+PCW?`` and an indication at other times.  The rule (after
ModemManager's "match against the expected command prefix") is that a
``+NAME:`` line is a response when the command in flight mentions ``+NAME``,
and unsolicited otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

from modemctl.at.events import Unsolicited, UnsolicitedKind

#: Caller-ID field names as modems print them, mapped to the canonical name
#: (mgetty's cnd.c list covers the same spellings).
_CID_FIELDS = {
    "DATE": "DATE", "TIME": "TIME", "NMBR": "NMBR", "NAME": "NAME", "MESG": "MESG",
    "DDN_NMBR": "NMBR", "DDN NMBR": "NMBR", "CALLER NUMBER": "NMBR", "CALLER NAME": "NAME",
    "CALLR NAME": "NAME",
}

#: What a single-letter caller-ID value means (Bellcore "P" private, "O" out of area).
_CID_WITHHELD = {"P": "private", "O": "unavailable"}

_CID = re.compile(
    r"^(?P<name>" + "|".join(sorted((re.escape(k) for k in _CID_FIELDS), key=len, reverse=True))
    + r")\s*[=:]\s*(?P<value>.*?)\s*$", re.IGNORECASE)
_RING = re.compile(r"^RING(?:(?:\s*[;:]\s*|\s+)(?P<tag>[0-9A-Z]{1,3}))?$", re.IGNORECASE)
_MWI = re.compile(r"^MESSAGE[- ]WAITING(?:\s*[:=]?\s*(?P<state>.*?))?\s*$", re.IGNORECASE)
_CW = re.compile(r"^CALL[- ]WAITING(?:\s+DETECTED)?$", re.IGNORECASE)
_RINGBACK = re.compile(r"^(?:RRING|RINGING|RINGBACK)$", re.IGNORECASE)
_PROGRESS = re.compile(r"^(?:DIALING|CED|\+A8[A-Z]?:?.*|\+F34:.*)$", re.IGNORECASE)
_V92 = re.compile(r"^\+(?P<name>PCW|PMHR|PMHT|PMHF|PMH)\s*[:=]\s*(?P<value>.*?)\s*$",
                  re.IGNORECASE)


@dataclass(frozen=True)
class _Match:
    kind: UnsolicitedKind
    fields: dict[str, str]


def _match(text: str, command: str | None) -> _Match | None:
    if m := _RING.match(text):
        return _Match(UnsolicitedKind.RING, {"tag": m["tag"]} if m["tag"] else {})
    if m := _CID.match(text):
        name = _CID_FIELDS[" ".join(m["name"].upper().split())]
        fields = {"field": name, "value": m["value"]}
        if name in ("NMBR", "NAME") and m["value"].upper() in _CID_WITHHELD:
            fields["withheld"] = _CID_WITHHELD[m["value"].upper()]
        return _Match(UnsolicitedKind.CALLER_ID, fields)
    if m := _MWI.match(text):
        return _Match(UnsolicitedKind.MESSAGE_WAITING,
                      {"state": m["state"]} if m["state"] else {})
    if _CW.match(text):
        return _Match(UnsolicitedKind.CALL_WAITING, {})
    if _RINGBACK.match(text):
        return _Match(UnsolicitedKind.RINGBACK, {})
    if m := _V92.match(text):
        name = m["name"].upper()
        if command is not None and f"+{name}" in command.upper():
            return None
        return _Match(UnsolicitedKind.V92, {"name": name, "value": m["value"]})
    if _PROGRESS.match(text):
        return _Match(UnsolicitedKind.PROGRESS, {})
    return None


def classify(text: str, command: str | None) -> Unsolicited | None:
    """Return the unsolicited event ``text`` is, or None if it is not one.

    ``command`` is the command in flight (None when idle); it only matters
    for the ``+P...`` lines that double as query responses.
    """
    stripped = text.strip()
    found = _match(stripped, command)
    if found is None:
        return None
    return Unsolicited(found.kind, stripped, MappingProxyType(found.fields))
