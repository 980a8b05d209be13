"""What every line simulator offers the suite: one small interface.

A line simulator is whatever stands in for the telephone network on a rig:
the fake exchange here, an Asterisk PBX with FXS ports, a Teltone TLS-5.
The suite asks it for four things only, and asks first whether it can
(``capabilities``): a simulator that cannot take a line dead makes the
no-dial-tone test skip with that reason instead of failing.
"""

from __future__ import annotations

from typing import Protocol

RING = "ring"
CALL_WAITING = "call-waiting"
DEAD_LINE = "dead-line"
REMOTE_HANGUP = "remote-hangup"
SILENCE = "silence"
"""Make a modem stop answering (the fake's ``wedge`` fault; no real simulator can)."""
CAPABILITIES = (RING, CALL_WAITING, DEAD_LINE, REMOTE_HANGUP, SILENCE)


class LineSimulator(Protocol):
    """Drives the lines of a rig by line number (the number each modem answers to)."""

    name: str
    capabilities: frozenset[str]

    async def ring(self, line: str, caller: str) -> None:
        """A call from ``caller`` to the idle ``line``: it rings."""

    async def call_waiting(self, line: str, caller: str) -> None:
        """A call from ``caller`` to ``line`` while it is in a call (the call-waiting tone)."""

    async def set_dead(self, line: str, dead: bool) -> None:
        """Take ``line`` dead (no dial tone) or bring it back."""

    async def remote_hangup(self, line: str) -> None:
        """The far end of ``line``'s call hangs up (the exchange clears the call)."""

    async def silence(self, line: str) -> None:
        """The modem on ``line`` stops answering until its DTR drops."""

    async def close(self) -> None:
        """Release the simulator (connections, sessions)."""
