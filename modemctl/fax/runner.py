"""The async Class 1 runner: a :class:`Class1Session`'s ops on a real port.

The session (sans-IO) says what to do; this module does it on the driver
engine of a call already connected in fax mode, and owns the two things the
session must not: the clock and the bytes.  One op at a time, in order:

* commands and their finals go through :meth:`Engine.fax_command`, carrier
  data through :meth:`Engine.fax_send` (which honours the modem's XOFF) and
  :meth:`Engine.read` / :meth:`Engine.fax_result`;
* page data is T.4-coded here per the negotiated :class:`Params`, and
  received page data is collected through
  :class:`~modemctl.fax.class1.PageDataDecoder` and decoded when it ends;
* T.30's timers run on the loop clock, scaled by ``time_scale`` like every
  protocol timer.  While an op waits, the earliest timer races it: on expiry
  the session is told, and if it answers with ``AbortReceive`` the runner
  writes CAN, collects the modem's final and reports it.

Progress (``Negotiated``, ``PageDone``) is handed to a callback as it comes.
The call is not hung up here: the caller drops it once :func:`run_session`
returns the :class:`~modemctl.fax.t30.Outcome`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from modemctl.at import Response, ResultCode
from modemctl.driver.engine import Engine
from modemctl.errors import ModemctlError
from modemctl.fax.class1 import (
    AbortReceive,
    AtCommand,
    Class1Session,
    Data,
    Hangup,
    Op,
    PageDataDecoder,
    PageEnded,
    Pause,
    ReadData,
    ReadResult,
    ReceivePageData,
    Result,
    SendPageData,
    T30Notice,
    Timeout,
    WriteData,
    page_to_wire,
)
from modemctl.fax.page import Page, Resolution
from modemctl.fax.t4 import decode
from modemctl.fax.t4.decode import DecodedPage
from modemctl.fax.t4.encode import encode_page, min_line_bits
from modemctl.fax.t30 import (
    CancelTimer,
    Finished,
    Negotiated,
    Outcome,
    PageDone,
    PageQuality,
    Params,
    StartTimer,
    Timer,
    TimerExpired,
)

#: Protocol seconds a T.31 command may take to answer (T.31 8.3.5: CONNECT
#: or a result within 5 s; HylaFAX waits 7.55 s).
COMMAND_TIMEOUT = 7.55
#: Protocol seconds on top of the time the data takes on the line.
DATA_MARGIN = 10.0
#: Protocol seconds to wait for the final after CAN stopped a receive.
ABORT_TIMEOUT = 5.0
#: Protocol seconds of silence in page data before T.30's timers count again.
PAGE_IDLE = 6.0
#: Bytes read at a time in data mode.
READ_CHUNK = 4096

Progress = Callable[[object], None]
_T = TypeVar("_T")


@dataclasses.dataclass
class ReceivedPage:
    """One page as received (the last attempt of its index)."""

    index: int
    attempt: int
    params: Params
    decoded: DecodedPage

    def page(self) -> Page:
        """The page for the TIFF writer, at the resolution it was sent at."""
        return self.decoded.page(self.params.resolution)


def at_resolution(page: Page, resolution: Resolution) -> Page:
    """``page`` with its lines doubled or every other one dropped, so a page
    rendered fine can go at standard when the far end cannot take fine."""
    if page.resolution is resolution:
        return page
    if resolution is Resolution.STANDARD:
        rows = page.rows[::2]
    else:
        rows = tuple(row for row in page.rows for _ in range(2))
    return Page(page.width, rows, resolution)


def page_data(page: Page, params: Params) -> bytes:
    """One page as written after ``+FTM``'s CONNECT: T.4 per the DCS, on the wire."""
    page = at_resolution(page, params.resolution)
    t4 = encode_page(page.rows, page.width, coding=params.coding,
                     k=params.resolution.k_factor,
                     min_bits=min_line_bits(params.modulation.rate, params.min_scan_ms))
    return page_to_wire(t4)


def wire_seconds(octets: int, bit_rate: int) -> float:
    """Protocol seconds ``octets`` take on the line at ``bit_rate``."""
    return octets * 8 / bit_rate


class Runner:
    """Performs one :class:`Class1Session` on ``engine`` until T.30 finishes."""

    def __init__(self, engine: Engine, session: Class1Session, *,
                 pages: Sequence[Page] = (), progress: Progress | None = None,
                 log: Any = None) -> None:
        self.engine = engine
        self.session = session
        self.pages = pages
        self.progress = progress
        self.log = log
        self.received: dict[int, ReceivedPage] = {}
        self._deadlines: dict[Timer, float] = {}
        self._outcome: Outcome | None = None
        self._bit_rate = 300
        self._loop = asyncio.get_running_loop()

    # --- the loop ------------------------------------------------------------

    async def run(self) -> Outcome:
        """Start the session and perform its ops; the outcome T.30 reached.

        A port or modem failure is reported to T.30 as a lost line, so the
        outcome still says where the call ended.  The call is left for the
        caller to drop (the engine's hang-up ends a carrier still in progress).
        """
        self.session.start()
        try:
            await self._drive()
        except (ModemctlError, OSError) as exc:
            self.session.receive(Hangup(f"{type(exc).__name__}: {exc}"))
            await self._drive()
        assert self._outcome is not None, "T.30 ended without Finished"
        return self._outcome

    async def _drive(self) -> None:
        while (op := self.session.next_op()) is not None:
            await self._perform(op)
        if not self.session.finished:       # cannot happen: each op reports
            raise RuntimeError("Class 1 session stalled with no op to perform")

    async def _perform(self, op: Op) -> None:
        if isinstance(op, T30Notice):
            self._notice(op.action)
        elif isinstance(op, Pause):
            await asyncio.sleep(op.seconds * self.engine.time_scale)
        elif isinstance(op, AtCommand):
            response = await self._timed(self.engine.fax_command(op.command, COMMAND_TIMEOUT))
            if response is not None:
                self._report(Result(response.final))
        elif isinstance(op, WriteData):
            await self._write(op.data, 300)
        elif isinstance(op, SendPageData):
            page = self.pages[op.index]
            await self._write(page_data(page, op.params), op.params.modulation.rate)
        elif isinstance(op, ReadData):
            await self._read()
        elif isinstance(op, ReadResult):
            # The AT core ends the data at DLE ETX itself, so nothing follows it here.
            response = await self._timed(self.engine.fax_result(COMMAND_TIMEOUT))
            if response is not None:
                self._report(Result(response.final))
        elif isinstance(op, ReceivePageData):
            await self._receive_page(op)
        elif isinstance(op, AbortReceive):
            self._report(Result(await self._cancel()))
        else:
            raise TypeError(f"unknown Class 1 op {op!r}")

    def _report(self, report: Result | Data | PageEnded) -> None:
        self.session.receive(report)

    # --- T.30 notices --------------------------------------------------------------

    def _notice(self, action: object) -> None:
        if isinstance(action, StartTimer):
            self._deadlines[action.timer] = \
                self._loop.time() + action.seconds * self.engine.time_scale
        elif isinstance(action, CancelTimer):
            self._deadlines.pop(action.timer, None)
        elif isinstance(action, Finished):
            self._deadlines.clear()
            self._outcome = action.outcome
        if isinstance(action, Negotiated):
            self._bit_rate = action.params.modulation.rate
        if isinstance(action, (Negotiated, PageDone, Finished)) and self.progress is not None:
            self.progress(action)

    # --- waiting with the timers running ---------------------------------------------

    async def _timed(self, work: Awaitable[_T], *, reading: bool = False) -> _T | None:
        """Await ``work`` while T.30's timers run; None when a timer made the
        session stop listening (it has been told, and the abort is done).
        ``reading``: ``work`` only reads data, so an abort may simply drop it."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                timer, deadline = self._next_timer()
                timeout = None if deadline is None else max(0.0, deadline - self._loop.time())
                done, _ = await asyncio.wait({task}, timeout=timeout)
                if done:
                    return task.result()
                assert timer is not None
                del self._deadlines[timer]
                self.session.receive(Timeout(TimerExpired(timer)))
                follow = self.session.next_op()
                if isinstance(follow, AbortReceive):
                    if reading:
                        task.cancel()
                    code = await self._cancel(None if reading else task)
                    self.session.receive(Result(code))
                    return None
                if follow is not None:         # a notice (Finished): perform it, keep waiting
                    await self._perform(follow)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ModemctlError):
                    await task

    def _next_timer(self) -> tuple[Timer | None, float | None]:
        if not self._deadlines:
            return None, None
        timer = min(self._deadlines, key=self._deadlines.__getitem__)
        return timer, self._deadlines[timer]

    async def _cancel(self, pending: asyncio.Future[Any] | None = None) -> ResultCode:
        """CAN, then the final that ends whatever was in progress (any will do).

        ``pending`` is the command or final still awaited: its answer is the
        final, unless it is a CONNECT (the carrier started as CAN went out),
        whose data then ends with a final of its own.
        """
        await self.engine.fax_cancel()
        try:
            if pending is not None:
                async with asyncio.timeout(self.engine.scaled(ABORT_TIMEOUT)):
                    result = await asyncio.shield(pending)
                if not (isinstance(result, Response) and result.final is ResultCode.CONNECT):
                    return result.final if isinstance(result, Response) else ResultCode.ERROR
            response = await self.engine.fax_result(ABORT_TIMEOUT, discard=True)
            return response.final
        except (TimeoutError, ModemctlError):
            self.engine.fax_abandon()
            return ResultCode.ERROR

    # --- data ------------------------------------------------------------------------

    async def _write(self, data: bytes, bit_rate: int) -> None:
        # The modem takes the data at the line rate (flow control): allow for it.
        timeout = 1.5 * wire_seconds(len(data), bit_rate) + DATA_MARGIN
        response = await self._timed(self.engine.fax_send(data, timeout))
        if response is not None:
            self._report(Result(response.final))

    async def _read(self) -> None:
        """Read chunks until the session asks for the final (its decoder saw DLE ETX)."""
        while True:
            chunk = await self._timed(self.engine.read(READ_CHUNK), reading=True)
            if chunk is None:
                return                              # a timer stopped the receive
            if not chunk:
                self.session.receive(Hangup("carrier lost"))
                return
            self.session.receive(Data(chunk))
            follow = self.session.next_op()
            if follow is None:
                continue
            await self._perform(follow)
            return

    async def _page_data(self, decoder: PageDataDecoder, data: bytearray,
                         idle: asyncio.Timeout | None) -> Response | None:
        """Read page data into ``data`` up to DLE ETX, then the final; None if
        the carrier went (reported to the session).  ``idle`` is pushed back
        whenever data arrives."""
        while not decoder.ended:
            chunk = await self.engine.read(READ_CHUNK)
            if not chunk:
                self.session.receive(Hangup("carrier lost during page data"))
                return None
            data += decoder.feed(chunk)
            if idle is not None:
                idle.reschedule(self._loop.time() + self.engine.scaled(PAGE_IDLE))
        return await self.engine.fax_result(COMMAND_TIMEOUT)

    async def _receive_page(self, op: ReceivePageData) -> None:
        """Page data to DLE ETX and its final.  T.30's timers are held while
        the page flows (T2 guards the start of a page, not its length); if
        it stalls for PAGE_IDLE they run again, and decide."""
        decoder = PageDataDecoder()
        data = bytearray()
        stalled = False
        held, self._deadlines = self._deadlines, {}
        try:
            async with asyncio.timeout(self.engine.scaled(PAGE_IDLE)) as idle:
                response = await self._page_data(decoder, data, idle)
        except TimeoutError:
            stalled = True
        finally:
            self._deadlines = {**held, **self._deadlines}
        if stalled:
            response = await self._timed(self._page_data(decoder, data, None), reading=True)
        if response is None:
            return                      # the carrier went, or a timer stopped the receive
        decoded = decode.decode_page(bytes(data), op.params.width.value,
                                     coding=op.params.coding)
        self.received[op.index] = ReceivedPage(op.index, op.attempt, op.params, decoded)
        quality = PageQuality(decoded.bad_lines, decoded.longest_bad_run)
        if self.log is not None:
            self.log.info("fax-page-received", page=op.index + 1, attempt=op.attempt,
                          lines=decoded.lines, bad=decoded.bad_lines,
                          result=response.final.value)
        self.session.receive(PageEnded(decoded.lines, quality))


async def run_session(engine: Engine, session: Class1Session, *,
                      pages: Sequence[Page] = (), progress: Progress | None = None,
                      log: Any = None) -> tuple[Outcome, dict[int, ReceivedPage]]:
    """Run ``session`` on ``engine`` (a call connected in fax mode) to its end.

    Returns T.30's outcome and, on the receiving side, the pages received
    (by index, the last attempt of each).  The engine's DCD grace is lifted
    for the call: a fax modem drops DCD between carriers, and T.30's own
    timers notice a dead line.
    """
    grace = engine.carrier_grace
    engine.carrier_grace = None
    try:
        runner = Runner(engine, session, pages=pages, progress=progress, log=log)
        outcome = await runner.run()
        return outcome, runner.received
    finally:
        engine.carrier_grace = grace
