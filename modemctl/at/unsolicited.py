"""Recognising unsolicited lines (URCs) before any response matching.

The table is data (:data:`RULES`, as ModemManager keeps a regex → handler
list): one row per kind, a compiled pattern and the function that turns the
match into the event's fields, tried in order.  Adding a kind is adding a
row.  A line that matches is taken out of the byte stream and never reaches
a response.

``+P...`` V.92 lines are the one real ambiguity: ``+PCW: 0`` is the answer
to ``AT+PCW?`` and an indication at other times.  The rule (after
ModemManager's "match against the expected command prefix") is that a
``+NAME:`` line is a response when the command in flight mentions ``+NAME``,
and unsolicited otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
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


#: What a rule extracts from its match: the event's fields, or None when the
#: line is not unsolicited after all (a ``+PCW:`` answering ``AT+PCW?``).
FieldsOf = Callable[[re.Match[str], str | None], dict[str, str] | None]


def _named_groups(m: re.Match[str], command: str | None) -> dict[str, str]:
    """The named groups that matched, as fields (``RING 1`` → ``{"tag": "1"}``)."""
    return {k: v for k, v in m.groupdict().items() if v}


def _caller_id(m: re.Match[str], command: str | None) -> dict[str, str]:
    name = _CID_FIELDS[" ".join(m["name"].upper().split())]
    fields = {"field": name, "value": m["value"]}
    if name in ("NMBR", "NAME") and m["value"].upper() in _CID_WITHHELD:
        fields["withheld"] = _CID_WITHHELD[m["value"].upper()]
    return fields


def _v92(m: re.Match[str], command: str | None) -> dict[str, str] | None:
    name = m["name"].upper()
    if command is not None and f"+{name}" in command.upper():
        return None                  # the answer to the command in flight
    return {"name": name, "value": m["value"]}


@dataclass(frozen=True)
class UrcRule:
    """One row of the table: lines matching ``pattern`` are ``kind``."""

    kind: UnsolicitedKind
    pattern: re.Pattern[str]
    fields: FieldsOf = _named_groups


#: Tried in order; the first rule whose pattern matches and whose ``fields``
#: does not decline decides.  PROGRESS is last: its ``+A8``/``+F34`` forms are
#: the loosest patterns.
RULES: tuple[UrcRule, ...] = (
    UrcRule(UnsolicitedKind.RING, _RING),
    UrcRule(UnsolicitedKind.CALLER_ID, _CID, _caller_id),
    UrcRule(UnsolicitedKind.MESSAGE_WAITING, _MWI),
    UrcRule(UnsolicitedKind.CALL_WAITING, _CW),
    UrcRule(UnsolicitedKind.RINGBACK, _RINGBACK),
    UrcRule(UnsolicitedKind.V92, _V92, _v92),
    UrcRule(UnsolicitedKind.PROGRESS, _PROGRESS),
)


def classify(text: str, command: str | None) -> Unsolicited | None:
    """Return the unsolicited event ``text`` is, or None if it is not one.

    ``command`` is the command in flight (None when idle); it only matters
    for the ``+P...`` lines that double as query responses.
    """
    stripped = text.strip()
    if not may_be_unsolicited(stripped):
        return None
    for rule in RULES:
        m = rule.pattern.match(stripped)
        if m is None:
            continue
        fields = rule.fields(m, command)
        if fields is not None:
            return Unsolicited(rule.kind, stripped, MappingProxyType(fields))
    return None


@lru_cache(maxsize=256)
def may_be_unsolicited(stripped: str) -> bool:
    """Whether any rule's pattern matches ``stripped`` (a stripped line):
    when none does, :func:`classify` answers None whatever the command, and
    ``OK`` (asked on every command) is not tried against every rule again."""
    return any(rule.pattern.match(stripped) for rule in RULES)
