"""Two sans-IO session ends joined by an in-memory wire that can be told to misbehave.

The wire moves each end's output to the other, one chunk per hop, through
an optional ``mangle`` function (which may corrupt, drop, duplicate or hold
back bytes), and runs a manual clock: when nothing is moving it jumps to
the earliest timer either end asked for.  Every run is bounded in steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from modemctl.session.connection import Data, Event, SessionConnection
from modemctl.session.context import SecurityContext
from modemctl.session.credentials import Credentials
from modemctl.session.stream import ReliableStream

Mangle = Callable[[str, bytes], bytes]


@dataclass
class End:
    conn: SessionConnection
    name: str
    deadline: float | None = None
    generation: tuple[int, int] = (-1, -1)
    events: list[Event] = field(default_factory=list)
    received: bytearray = field(default_factory=bytearray)


def make_end(name: str, credentials: Credentials | None,
             known: dict[str, Credentials] | None, **stream: object) -> End:
    if credentials is not None:
        ctx = SecurityContext.initiator(credentials, strict_order=False, rekey_shift=6)
    else:
        assert known is not None
        ctx = SecurityContext.acceptor(known.get, strict_order=False)
    return End(SessionConnection(ctx, ReliableStream(**stream)), name)  # type: ignore[arg-type]


class Wire:
    """``a`` calls, ``b`` answers."""

    def __init__(self, caller: Credentials, answerer: Credentials,
                 mangle: Mangle | None = None, **stream: object) -> None:
        self.a = make_end("a", caller, None, **stream)
        self.b = make_end("b", None, {answerer.identity: answerer}, **stream)
        self.mangle = mangle
        self.now = 0.0
        self.a.conn.start()

    def _collect(self, end: End) -> None:
        for ev in end.conn.take_events():
            end.events.append(ev)
            if isinstance(ev, Data):
                end.received += ev.data
        t, gen = end.conn.timer, end.conn.timer_generation
        if t is None:
            end.deadline = None
        elif end.deadline is None or gen != end.generation:
            end.deadline = self.now + t
        end.generation = gen

    def step(self) -> bool:
        """Move pending bytes both ways once; returns whether anything moved."""
        moved = False
        for src, dst in ((self.a, self.b), (self.b, self.a)):
            data = src.conn.take_output()
            self._collect(src)
            if data:
                moved = True
                if self.mangle is not None:
                    data = self.mangle(src.name, data)
                dst.conn.receive(data)
                self._collect(dst)
        return moved

    def run(self, until: Callable[[], bool], max_steps: int = 20_000) -> None:
        for _ in range(max_steps):
            if until():
                return
            if self.step():
                continue
            due = [e for e in (self.a, self.b) if e.deadline is not None]
            if not due:
                if until():
                    return
                raise AssertionError("the wire went quiet with no timer pending")
            first = min(due, key=lambda e: e.deadline or 0.0)
            assert first.deadline is not None
            self.now = first.deadline
            first.deadline = None
            first.conn.timer_expired()
            self._collect(first)
        raise AssertionError(f"no result after {max_steps} steps")
