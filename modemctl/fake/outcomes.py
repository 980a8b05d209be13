"""The closed sets of words the fake reports calls and lines with, as types.

These values reach tests, the control socket's JSON and the CLI as plain
strings, so they are :data:`~typing.Literal` types rather than enums: mypy
checks every assignment, and nothing changes on the wire.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["out", "in"]
"""A call attempt as a line saw it: it dialled (``out``) or was called (``in``)."""

CallOutcome = Literal["pending", "connected", "busy", "unreachable", "unanswered",
                      "waiting-ignored", "waiting-held", "waiting-dropped"]
"""How a call attempt ended up (a :class:`~modemctl.fake.line.CallRecord`'s outcome)."""

EndedBy = Literal["local", "remote", "carrier", "call-waiting"]
"""Who or what ended a connected call."""

EndReason = Literal["local", "remote", "no-answer", "carrier", "call-waiting"]
"""Why the exchange ended a call (``local``: the line itself hung up)."""

PartyOutcome = Literal["answered", "busy", "no-answer", "waiting-ignored", "waiting-held",
                       "waiting-dropped", "cancelled"]
"""What became of a :class:`~modemctl.fake.exchange.RemoteParty`'s call."""

CallWaitingOutcome = Literal["busy", "waiting-ignored", "waiting-held", "waiting-dropped"]
"""What a third party meets when it calls a line that is in a call."""

SetupFailure = Literal["busy", "no-carrier"]
"""Why the network failed a call the DCE placed."""

LineState = Literal["unplugged", "ringing", "command", "dialing", "answering",
                    "online-data", "online-command"]
"""A fake line's state as reported to tests and ``modemctl fake`` (the DCE state,
or ``ringing`` / ``unplugged``)."""
