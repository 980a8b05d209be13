"""The modem-line watch: RI and DCD as the transport reports their changes.

Why events, not samples: a V.92 call-waiting indication is an RI pulse that
can be shorter than any sensible poll interval.  The transport watches the
lines with the best mechanism the port has (TIOCMIWAIT, NOTIFY-MODEMSTATE;
see :mod:`modemctl.transport.linewatch`) and counts every edge, so this
watch waits in :meth:`Transport.wait_modem_change` and learns from the
counters what happened since the state it last saw, however short.  An idle
line costs nothing here: the task sleeps until a line changes.  Where the
port cannot notify (``"poll"``) the transport samples while this task
waits; a port with no lines (``"none"``, or a pty whose lines all read
unknown) is not watched at all.

DCD low in a call is an *interruption*, not yet a loss: the modem rides out
short ones (call-waiting tones, line hits) for S10 - S9 and reports
``NO CARRIER`` itself when it gives up.  Only when DCD stays low for longer
than the carrier grace (a modem that never says so: S10 near 255, or a
wedged one) does the host declare the carrier lost, from a timer; the engine
then ends the call once its last bytes are in (:mod:`.lastbytes`).  The watch
is level-triggered: on a port whose DCD is known to work (see
:mod:`.porttrust`), DCD already low when a call comes up starts the grace
even if it was never seen high in this call (a carrier that came and went
before the CONNECT was read); the engine says when the call state changes.
A DCD never seen high is not believed: low for :data:`DCD_LEARN` in a call
that goes on marks it dead (ser2net ``local``), from a timer too.  An RI
edge with no ``RING`` near it on an idle line marks RI as noise.

Reading the lines may block: pyserial's ``rfc2217://...?poll_modem`` asks
the server on every read, a network round trip of up to seconds.  Such
ports are read in a thread, never in the event loop (:func:`carrier_gone`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from modemctl.at import CarrierLost, Event, RingIndicator
from modemctl.driver.porttrust import PortTrust
from modemctl.errors import PortClosed
from modemctl.log import Logger
from modemctl.transport import ModemLines, Transport
from modemctl.transport.linewatch import LineState

LINE_POLL = 0.05             # real seconds; carrier_gone() samples DCD every fifth of it
# Protocol seconds DCD may stay low in a call before the host calls the carrier
# lost: a modem rides out interruptions shorter than S10 - S9 tenths of a
# second (Hayes/Conexant defaults 14 - 6 = 0.8 s) and says NO CARRIER itself
# when it gives up; the line layer sets the grace from the modem's registers.
DEFAULT_CARRIER_GRACE = 0.8
# Real seconds DCD must have been low before a NO CARRIER to count as evidence
# that the carrier was lost (a far-end clear-down drops both at once).
DCD_EVIDENCE = 0.1
# Protocol seconds DCD may read low in a call on a port where it was never
# seen high before it is taken for dead (a modem raises DCD before it sends
# CONNECT, so a live DCD is high as the call comes up).
DCD_LEARN = 1.0
# Protocol seconds between an RI rise and the RING the modem reports with it
# (the modem says RING as the ring burst starts; the transport may report
# the RI edge a little before or after the line arrives).
RING_MATCH = 2.0


def reads_block(url: str) -> bool:
    """Whether reading the status lines of ``url`` is a network round trip."""
    parts = urlsplit(url)
    return parts.scheme == "rfc2217" and "poll_modem" in parse_qs(parts.query,
                                                                  keep_blank_values=True)


def watchable(transport: Transport) -> bool:
    """Whether the port has a DCD or RI line worth a watch task.

    An RFC 2217 port always has one: the server's first NOTIFY-MODEMSTATE
    may come after the open, and until it does the lines read as unknown;
    waiting on its notifications costs nothing.  Elsewhere (a pty polls)
    lines that read as absent are not watched.
    """
    mode = transport.line_watch_mode
    if mode == "none":
        return False
    if mode == "rfc2217":
        return True
    state = transport.line_state
    return state.cd is not None or state.ri is not None


class LineWatch:
    """DCD/RI changes and the carrier grace of one engine.

    The engine supplies what the watch must not decide itself: whether a
    call is up (and not being hung up by us), where events go, and what
    declaring the carrier lost does (it reads the call's last bytes first and
    publishes the :class:`CarrierLost`, see :mod:`.lastbytes`); it calls
    :meth:`call_changed` when a call comes up or ends.
    """

    def __init__(self, *, time_scale: float, log: Logger,
                 in_call: Callable[[], bool], publish: Callable[[Event], None],
                 carrier_lost: Callable[[], None], trust: PortTrust) -> None:
        self._time_scale = time_scale
        self._trust = trust
        self._call_since: float | None = None     # loop time the current call was first seen
        self._ri_rose_at: float | None = None     # loop time of the last RI rise
        self._ring_at = float("-inf")             # loop time of the last RING
        self._pending_checks: list[asyncio.TimerHandle] = []
        self._log = log
        self._in_call = in_call
        self._publish = publish
        self._carrier_lost = carrier_lost
        self._grace: float | None = DEFAULT_CARRIER_GRACE
        self._low_since: float | None = None     # loop time DCD was found low in this call
        self._cd: bool | None = None              # DCD as last reported (None: not watched)
        self._timer: asyncio.TimerHandle | None = None

    @property
    def carrier_grace(self) -> float | None:
        """Protocol seconds DCD may stay low in a call (``None``: the modem decides)."""
        return self._grace

    @carrier_grace.setter
    def carrier_grace(self, seconds: float | None) -> None:
        if seconds is not None and seconds < 0:
            raise ValueError("carrier_grace must be >= 0 or None")
        self._grace = seconds
        self._arm()

    def credit(self, event: CarrierLost) -> CarrierLost:
        """A ``NO CARRIER`` after DCD had been low for a while reports a lost
        carrier the modem waited S10 for, not a far-end clear-down (which
        drops DCD and says NO CARRIER in the same instant): credit DCD."""
        low_since = self._low_since
        self._low_since = None
        self._arm()
        if event.source == "dcd" or low_since is None:
            return event
        if asyncio.get_running_loop().time() - low_since < DCD_EVIDENCE:
            return event
        return CarrierLost(event.text, source="dcd")

    def call_changed(self) -> None:
        """The engine's call came up or ended: DCD already low in a call
        starts the grace now, not at the next line change."""
        if self._cd is not None:
            self._step(self._cd, asyncio.get_running_loop().time())

    def stop(self) -> None:
        """The watch task ended (close, reopen) or the engine is closing:
        no timer or pending RI check outlives it."""
        self._cd = None
        self._low_since = self._call_since = None
        for handle in self._pending_checks:
            handle.cancel()
        self._pending_checks.clear()
        self._arm()

    async def run(self, transport: Transport) -> None:
        """Follow ``transport``'s line changes until cancelled or the port closes
        (the engine's watch task; started only where :func:`watchable`)."""
        loop = asyncio.get_running_loop()
        state = transport.line_state
        try:
            self._cd = state.cd
            self._step(state.cd, loop.time())
            while True:
                try:
                    new = await transport.wait_modem_change(state)
                except PortClosed:
                    return              # the reader reports the port's end
                self._changed(state, new, loop.time())
                state = new
        finally:
            self.stop()

    def _changed(self, old: LineState, new: LineState, now: float) -> None:
        for _ in range(new.rang_since(old)):
            self._ri_rose(now)
        self._cd = new.cd
        if new.cd_edges.falls > old.cd_edges.falls and new.cd:
            # DCD fell and rose again between two reports: an interruption
            # shorter than any grace, which the modem rode out.
            self._log.info("carrier-interrupted", grace=self._grace, restored=True)
        self._step(new.cd, now)

    def _ri_rose(self, now: float) -> None:
        """An RI edge: published unless RI is known to be noise.  On an idle
        line a real RI rise comes with a ``RING`` (see :meth:`ring_seen`);
        one that comes alone shows an RI that floats or is wired to
        something else, and RI is not believed from then on."""
        trust = self._trust
        if trust.ri is False:
            return
        self._ri_rose_at = now
        self._publish(RingIndicator(True))
        if self._rang_near(now):
            trust.learn("ri", True, self._log, "rose with a RING")
        elif trust.ri is None and not self._in_call():
            check = asyncio.get_running_loop().call_later(
                RING_MATCH * self._time_scale, self._ri_alone, now)
            self._pending_checks.append(check)

    def _ri_alone(self, rose_at: float) -> None:
        self._pending_checks = [h for h in self._pending_checks if not h.cancelled()]
        if self._trust.ri is None and not self._rang_near(rose_at):
            self._trust.learn("ri", False, self._log, "rose with no RING on an idle line")

    def _rang_near(self, when: float) -> bool:
        """Whether the modem said ``RING`` within :data:`RING_MATCH` of ``when``
        (either side: the poll may see RI before or after the line arrives)."""
        return abs(self._ring_at - when) <= RING_MATCH * self._time_scale

    def ring_seen(self, now: float) -> None:
        """The modem said ``RING``: an RI that rose with it works."""
        self._ring_at = now
        if self._ri_rose_at is not None and self._rang_near(self._ri_rose_at):
            self._trust.learn("ri", True, self._log, "rose with a RING")

    def _step(self, cd: bool | None, now: float) -> None:
        if not self._in_call():
            self._low_since = self._call_since = None
            self._arm()
            return
        if self._call_since is None:
            self._call_since = now
        trust = self._trust
        if cd:
            trust.learn("dcd", True, self._log, "high in a call")
        if trust.dcd is not True:
            # Never seen high: low says nothing yet.  Low (or unreadable:
            # an RFC 2217 server that never reports the lines) for a while in
            # a call that is still up means the port does not carry DCD.
            self._low_since = None
            if trust.dcd is None and not cd \
                    and now - self._call_since >= DCD_LEARN * self._time_scale:
                trust.learn("dcd", False, self._log, "low throughout a call")
            self._arm()
            return
        if cd is False and self._low_since is None:
            self._low_since = now
            self._log.info("carrier-interrupted", grace=self._grace)
        elif cd and self._low_since is not None:
            self._log.info("carrier-restored", after=round(now - self._low_since, 3))
            self._low_since = None
        if self._low_since is not None and self._grace is not None \
                and now - self._low_since >= self._grace * self._time_scale:
            self._low_since = None
            self._log.info("carrier-declared-lost", source="dcd")
            self._carrier_lost()            # the engine publishes it, once the call's data is in
        self._arm()

    def _deadline(self) -> float | None:
        """Loop time of the next decision no line change will bring: the end
        of the grace while a trusted DCD is low in a call, or the end of
        :data:`DCD_LEARN` while a DCD never seen high reads low in one."""
        if self._low_since is not None and self._grace is not None:
            return self._low_since + self._grace * self._time_scale
        if self._call_since is not None and self._trust.dcd is None and not self._cd:
            return self._call_since + DCD_LEARN * self._time_scale
        return None

    def _arm(self) -> None:
        """A timer for :meth:`_deadline`, if there is one."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self._deadline()
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._expired)

    def _expired(self) -> None:
        self._timer = None
        deadline = self._deadline()
        if deadline is None:
            return
        # The loop may run a timer a clock tick early: decide as at its deadline.
        self._step(self._cd, max(asyncio.get_running_loop().time(), deadline))


async def carrier_gone(lines: ModemLines, url: str, wait: float) -> bool:
    """After a DTR drop: did the call really end?  Where the port has DCD,
    wait up to ``wait`` real seconds for it to fall (a modem set to &D0
    ignores DTR); without DCD the drop is trusted."""
    blocking = reads_block(url)

    async def cd() -> bool | None:
        return await asyncio.to_thread(lambda: lines.cd) if blocking else lines.cd

    if await cd() is None:
        return True
    step = LINE_POLL / 5
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait   # to a deadline: a read may take a while (RFC 2217)
    # DCD has no change notification to await here: sampled.
    while (level := await cd()) is True and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(step)
    return level is False
