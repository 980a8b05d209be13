"""What a fax call produced: per-page results and the call's outcome.

These are the page-level result types shared by every way of running T.30:
the host machine here (Class 1) and, in part 2, a modem that runs T.30
itself (Class 2/2.0), whose ``+FPS``/``+FHS`` reports map onto the same
values.  Timing (duration) is added by the async layer, which owns the clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.fax.page import PageQuality
from modemctl.fax.t30.caps import Params
from modemctl.fax.t30.frames import FCF
from modemctl.fax.t30.hangup import Direction, Hangup


@dataclass(frozen=True)
class CopyQuality:
    """The receiver's copy-quality rule: when a page earns RTN instead of MCF.

    T.30 leaves the judgement to the receiver; these defaults follow
    HylaFAX's ``PercentGoodLines`` (95) and ``MaxConsecutiveBadLines``
    (5) settings.
    """

    min_good_percent: float = 95.0
    max_bad_run: int = 5

    def acceptable(self, lines: int, quality: PageQuality) -> bool:
        """Whether a page of ``lines`` scan lines with these counts is good enough."""
        if lines <= 0:
            return False
        good = lines - quality.bad_lines
        return (good * 100.0 >= self.min_good_percent * lines
                and quality.longest_bad_run <= self.max_bad_run)


@dataclass(frozen=True)
class PageResult:
    """One page: accepted or not, after how many attempts, with what reply.

    ``response`` is the post-page response (MCF, RTP, RTN, PIP, PIN) the
    receiver gave, or None when the call ended before one came.
    ``lines`` and ``quality`` are set on the receiving side.
    """

    index: int
    accepted: bool
    attempts: int
    params: Params
    response: FCF | None
    lines: int | None = None
    quality: PageQuality | None = None


@dataclass(frozen=True)
class Outcome:
    """The whole call as T.30 saw it."""

    direction: Direction
    hangup: Hangup
    pages: tuple[PageResult, ...]
    remote_id: str | None
    params: Params | None

    @property
    def ok(self) -> bool:
        """Normal end and every page accepted."""
        return self.hangup.ok and all(p.accepted for p in self.pages)
