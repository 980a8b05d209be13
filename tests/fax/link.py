"""An in-memory line between two T.30 machines, for end-to-end tests.

What one machine sends becomes the other's events: frames go across as
frames, TCF as a zero-run report, a page as the decoder's counts (which a
test chooses, to force a bad copy).  Timers run on a virtual clock that
jumps to the next deadline only when neither side can move, so timer
expiries happen exactly where a real line would go quiet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from modemctl.fax.t30 import (
    T30,
    Action,
    CancelTimer,
    Event,
    Finished,
    Frame,
    FrameReceived,
    Negotiated,
    PageDone,
    PageQuality,
    PageReceived,
    ReceiveFrames,
    ReceivePage,
    ReceiveTraining,
    SendFrames,
    SendPage,
    SendTraining,
    StartTimer,
    TcfReceived,
    Timer,
    TimerExpired,
)

LINES = 1143
GOOD_PAGE = PageQuality()


@dataclass
class _Side:
    name: str
    machine: T30
    inbox: deque[object] = field(default_factory=deque)
    waiting: Action | None = None
    timers: dict[Timer, float] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)


class Link:
    """Runs a sender and a receiver against each other until both finish."""

    def __init__(self, sender: T30, receiver: T30, *,
                 page_quality: Callable[[int, int], PageQuality] = lambda i, a: GOOD_PAGE,
                 lose: Callable[[str, Frame], bool] = lambda side, frame: False) -> None:
        self.sides = {"S": _Side("S", sender), "R": _Side("R", receiver)}
        self.page_quality = page_quality
        self.lose = lose
        self.now = 0.0
        self.wire: list[str] = []           # "S>DCS", "R>CFR", "S>page0", ...

    def _other(self, side: _Side) -> _Side:
        return self.sides["R" if side.name == "S" else "S"]

    def _perform(self, side: _Side, action: Action) -> None:
        other = self._other(side)
        if isinstance(action, SendFrames):
            for frame in action.frames:
                self.wire.append(f"{side.name}>{frame.fcf.name}")
                if not self.lose(side.name, frame):
                    other.inbox.append(frame)
        elif isinstance(action, SendTraining):
            self.wire.append(f"{side.name}>TCF@{action.modulation.rate}")
            zeros = int(action.modulation.rate * action.seconds / 8)
            other.inbox.append(("tcf", action.modulation, zeros))
        elif isinstance(action, SendPage):
            self.wire.append(f"{side.name}>page{action.index}")
            other.inbox.append(("page", action.index, action.attempt))
        elif isinstance(action, StartTimer):
            side.timers[action.timer] = self.now + action.seconds
        elif isinstance(action, CancelTimer):
            side.timers.pop(action.timer, None)
        elif isinstance(action, (ReceiveFrames, ReceiveTraining, ReceivePage)):
            side.waiting = action
        elif isinstance(action, (Negotiated, PageDone, Finished)):
            pass
        else:                                        # pragma: no cover - a new action
            raise AssertionError(f"unhandled action {action!r}")

    def _deliver(self, side: _Side) -> Event | None:
        """The event that completes ``side``'s pending receive, if any arrived."""
        while side.waiting is not None and side.inbox:
            item = side.inbox.popleft()
            if isinstance(item, Frame):
                return FrameReceived(item)
            kind = item[0]                           # type: ignore[index]
            if kind == "tcf" and isinstance(side.waiting, ReceiveTraining):
                return TcfReceived(item[2], item[2])  # type: ignore[index]
            if kind == "page" and isinstance(side.waiting, ReceivePage):
                return PageReceived(LINES, self.page_quality(item[1], item[2]))  # type: ignore[index]
            # high-speed data while listening for frames (or the wrong kind): lost
        return None

    def _pump(self, side: _Side) -> bool:
        moved = False
        while (action := side.machine.next_action()) is not None:
            moved = True
            self._perform(side, action)
        event = self._deliver(side)
        if event is not None:
            # A frame without the final bit leaves the receive open: more follow.
            if not (isinstance(event, FrameReceived) and not event.frame.final):
                side.waiting = None
            side.machine.receive(event)
            moved = True
        return moved

    def run(self, max_steps: int = 2000) -> None:
        """Run until both machines finished (bounded)."""
        for side in self.sides.values():
            side.machine.start()
        for _ in range(max_steps):
            if all(s.machine.finished and s.machine.next_action() is None
                   for s in self.sides.values()):
                return
            if any([self._pump(s) for s in self.sides.values()]):
                continue
            # Nobody can move: jump the clock to the next deadline.
            deadlines = [(t, s, timer) for s in self.sides.values()
                         if not s.machine.finished for timer, t in s.timers.items()]
            if not deadlines:
                # One side is done and the other waits for nothing: a stuck link.
                if all(s.machine.finished for s in self.sides.values()):
                    return
                raise AssertionError(f"deadlock at t={self.now}: {self.wire}")
            when, side, timer = min(deadlines, key=lambda d: d[0])
            self.now = max(self.now, when)
            del side.timers[timer]
            side.machine.receive(TimerExpired(timer))
            first = side.machine.next_action()
            if first is not None:                    # the machine acts: the receive ends
                side.waiting = None
                self._perform(side, first)
        raise AssertionError(f"no end after {max_steps} steps: {self.wire}")
