"""The modem-line watch: RI and DCD as seen by polling the port's status lines.

Why polling: neither pyserial nor RFC 2217 offers a change notification the
engine could await, so a task samples DCD and RI every :data:`LINE_POLL`.

DCD low in a call is an *interruption*, not yet a loss: the modem rides out
short ones (call-waiting tones, line hits) for S10 - S9 and reports
``NO CARRIER`` itself when it gives up.  Only when DCD stays low for longer
than the carrier grace (a modem that never says so: S10 near 255, or a
wedged one) does the host declare the carrier lost.  The watch is level-
triggered: DCD found low in a call starts the grace even if the poller never
saw it high (a carrier that came and went between two polls).

Reading the lines may block: pyserial's ``rfc2217://...?poll_modem`` asks
the server on every read, a network round trip of up to seconds.  Such
ports are read in a thread, never in the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from modemctl.at import CarrierLost, Event, RingIndicator
from modemctl.driver.porttrust import PortTrust
from modemctl.log import Logger
from modemctl.transport import ModemLines

LINE_POLL = 0.05             # real seconds between DCD/RI polls (ports that have them)
# Protocol seconds DCD may stay low in a call before the host calls the carrier
# lost: a modem rides out interruptions shorter than S10 - S9 tenths of a
# second (Hayes/Conexant defaults 14 - 6 = 0.8 s) and says NO CARRIER itself
# when it gives up; the line layer sets the grace from the modem's registers.
DEFAULT_CARRIER_GRACE = 0.8
DCD_EVIDENCE = 2 * LINE_POLL  # real seconds DCD must have been low to count as evidence
# Protocol seconds DCD may read low in a call on a port where it was never
# seen high before it is taken for dead (a modem raises DCD before it sends
# CONNECT, so a live DCD is high at the first polls of a call).
DCD_LEARN = 1.0
# Protocol seconds between an RI rise and the RING the modem reports with it
# (the modem says RING as the ring burst starts; a poll may see RI late).
RING_MATCH = 2.0


def reads_block(url: str) -> bool:
    """Whether reading the status lines of ``url`` is a network round trip."""
    parts = urlsplit(url)
    return parts.scheme == "rfc2217" and "poll_modem" in parse_qs(parts.query,
                                                                  keep_blank_values=True)


class LineWatch:
    """DCD/RI polling and the carrier grace of one engine.

    The engine supplies what the watch must not decide itself: whether a
    call is up (and not being hung up by us), where events go, and what
    declaring the carrier lost does to its state.
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

    @property
    def carrier_grace(self) -> float | None:
        """Protocol seconds DCD may stay low in a call (``None``: the modem decides)."""
        return self._grace

    @carrier_grace.setter
    def carrier_grace(self, seconds: float | None) -> None:
        if seconds is not None and seconds < 0:
            raise ValueError("carrier_grace must be >= 0 or None")
        self._grace = seconds

    def credit(self, event: CarrierLost) -> CarrierLost:
        """A ``NO CARRIER`` after DCD had been low for a while reports a lost
        carrier the modem waited S10 for, not a far-end clear-down (which
        drops DCD and says NO CARRIER in the same instant): credit DCD."""
        low_since = self._low_since
        self._low_since = None
        if event.source == "dcd" or low_since is None:
            return event
        if asyncio.get_running_loop().time() - low_since < DCD_EVIDENCE:
            return event
        return CarrierLost(event.text, source="dcd")

    async def run(self, lines: ModemLines, url: str) -> None:
        """Poll ``lines`` until cancelled (the engine's poller task)."""
        loop = asyncio.get_running_loop()
        blocking = reads_block(url)

        async def sample() -> tuple[bool | None, bool | None]:
            return await asyncio.to_thread(_sample, lines) if blocking else _sample(lines)

        _, last_ri = await sample()
        while True:
            await asyncio.sleep(LINE_POLL)
            cd, ri = await sample()
            if ri and not last_ri:
                self._ri_rose(loop.time())
            last_ri = ri
            self._step(cd, loop.time())

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

    def stop(self) -> None:
        """Forget pending RI checks (the engine is closing)."""
        for handle in self._pending_checks:
            handle.cancel()
        self._pending_checks.clear()

    def _step(self, cd: bool | None, now: float) -> None:
        if not self._in_call():
            self._low_since = self._call_since = None
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
            if trust.dcd is None and not cd \
                    and now - self._call_since >= DCD_LEARN * self._time_scale:
                trust.learn("dcd", False, self._log, "low throughout a call")
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
            self._log.info("carrier-lost", source="dcd")
            self._carrier_lost()
            self._publish(CarrierLost("DCD dropped", source="dcd"))


async def carrier_gone(lines: ModemLines, url: str, wait: float) -> bool:
    """After a DTR drop: did the call really end?  Where the port has DCD,
    wait up to ``wait`` real seconds for it to fall (a modem set to &D0
    ignores DTR); without DCD the drop is trusted."""
    blocking = reads_block(url)

    async def cd() -> bool | None:
        return await asyncio.to_thread(lambda: lines.cd) if blocking else lines.cd

    if await cd() is None:
        return True
    step = LINE_POLL / 5            # DCD has no change notification to await
    for _ in range(max(1, round(wait / step))):
        if await cd() is not True:
            break
        await asyncio.sleep(step)
    return await cd() is False


def _sample(lines: ModemLines) -> tuple[bool | None, bool | None]:
    return lines.cd, lines.ri
