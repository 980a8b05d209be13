"""The session layer's states and the transitions allowed between them, as data.

Two machines: the security context (:class:`ContextState`) and the
reliable stream above the frames (:class:`StreamState`).  Keeping the
tables here, and nothing else, lets a reader see every legal move at once;
the code that moves calls :func:`check` so an illegal move is a bug caught
at the point it happens, not a corrupted session later.
"""

from __future__ import annotations

from enum import Enum

from modemctl.errors import ContextClosed


class ContextState(Enum):
    """A security context: handshake, then established, then closed or failed."""

    HANDSHAKE = "handshake"       # tokens still to exchange (SSPI SEC_I_CONTINUE_NEEDED)
    ESTABLISHED = "established"   # keys in place: sign/verify/encrypt/decrypt
    CLOSED = "closed"             # we or the peer closed; keys wiped
    FAILED = "failed"             # the handshake failed; nothing was ever keyed


class StreamState(Enum):
    """The reliable byte stream over one established context."""

    OPEN = "open"                 # both directions carry data
    CLOSING = "closing"           # our FIN is queued or unacknowledged
    CLOSED = "closed"             # FIN acknowledged, or the peer's FIN received after ours


CONTEXT_TRANSITIONS: dict[ContextState, frozenset[ContextState]] = {
    ContextState.HANDSHAKE: frozenset({ContextState.ESTABLISHED, ContextState.FAILED,
                                       ContextState.CLOSED}),
    ContextState.ESTABLISHED: frozenset({ContextState.CLOSED}),
    ContextState.CLOSED: frozenset(),
    ContextState.FAILED: frozenset(),
}

STREAM_TRANSITIONS: dict[StreamState, frozenset[StreamState]] = {
    StreamState.OPEN: frozenset({StreamState.CLOSING, StreamState.CLOSED}),
    StreamState.CLOSING: frozenset({StreamState.CLOSED}),
    StreamState.CLOSED: frozenset(),
}


def check(table: dict[ContextState, frozenset[ContextState]]
          | dict[StreamState, frozenset[StreamState]],
          old: ContextState | StreamState, new: ContextState | StreamState) -> None:
    """Raise :class:`ContextClosed` unless ``old -> new`` is in ``table``."""
    allowed: frozenset[ContextState | StreamState] = table.get(old, frozenset())  # type: ignore[arg-type]
    if new not in allowed:
        raise ContextClosed(f"session cannot go from {old.value} to {new.value}")
