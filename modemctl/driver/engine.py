"""The asyncio AT engine: one reader, one command in flight, absolute timeouts.

The engine owns the I/O and the clocks; every rule about what bytes mean is
in the sans-IO core (:class:`modemctl.at.ATConnection`).  Its structure:

* The transport hands every chunk it reads to the engine (a callback on
  the loop, no reader task to wake), which feeds the core and dispatches
  its events: the command in flight gets its
  :class:`~modemctl.at.Response`; data-mode bytes go to the call's data
  stream for :meth:`Engine.read` (:mod:`.datastream`); unsolicited lines,
  carrier loss and noise go to :meth:`Engine.events` subscribers
  (:mod:`.subscription`).  Unsolicited lines never reach a response.
  Where the port has DCD/RI, a task waits for their changes
  (:mod:`.linewatch`).
* A lock keeps one command in flight.  Each command has an *absolute*
  deadline fixed when it is sent, ``max(timeout * time_scale, 0.25 s)``;
  unsolicited traffic does not extend it (gammu#115 hung because a URC
  reset the timer).
* Two consecutive timeouts climb the recovery ladder
  (:mod:`.recovery` for the policy, :mod:`.rungs` for the steps).
* Data mode: AT commands are refused with
  :class:`~modemctl.errors.InvalidCallState` before any byte is sent;
  :meth:`Engine.escape` and :meth:`Engine.hangup` leave data mode with
  guard times and survive cancellation (:mod:`.escape`).
* Every timing is in :mod:`.timing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from types import TracebackType
from typing import Any

from modemctl.at import (
    NEED_DATA,
    ATConnection,
    CarrierLost,
    Data,
    Echo,
    Event,
    FlowControl,
    FormatChanged,
    Information,
    Noise,
    NumericFamily,
    ParseFailure,
    ProtocolMode,
    Response,
    ResultCode,
    ResultFormat,
    State,
    Unsolicited,
    UnsolicitedKind,
    validate_command,
)
from modemctl.at.commands import command_letter
from modemctl.driver.datastream import DataStream
from modemctl.driver.escape import guarded_escape, leave_data_mode
from modemctl.driver.lastbytes import end_on_dcd, last_call_bytes
from modemctl.driver.linewatch import LineWatch, carrier_gone, watchable
from modemctl.driver.onlinecheck import check_online
from modemctl.driver.porttrust import PortTrust, trust_for
from modemctl.driver.recovery import climb
from modemctl.driver.resultformat import DRIVER_FORMAT, drifted, reassert, resets_format
from modemctl.driver.rungs import EngineRungs
from modemctl.driver.subscription import DEFAULT_MAXSIZE, EventHub, EventSubscription
from modemctl.driver.timing import (
    ABORT_IGNORED,
    ABORT_WAIT,
    DEFAULT_S12,
    DEFAULT_TIMEOUT,
    DTR_DROP,
    DTR_HANGUP_DROP,
    DTR_HANGUP_WAIT,
    MIN_REAL_TIMEOUT,
    ORIGINATE_ABORT_GRACE,
    ORIGINATE_TIMEOUT,
    RESUME_TIMEOUT,
    STOP_ATTEMPTS,
    STOP_WAIT,
    TIMEOUTS_BEFORE_RECOVERY,
)
from modemctl.errors import (
    CallLost,
    CommandError,
    CommandTimeout,
    InvalidCallState,
    InvalidCommand,
    ModemctlError,
    PortClosed,
    RecoveryStep,
)
from modemctl.log import Logger, get_logger, trace_bytes
from modemctl.transport import Backend, ModemLines, Transport, open_transport

# Enum members the per-command path compares against, bound once: on
# Python 3.11 each ``Enum.MEMBER`` lookup goes through EnumType's
# ``__getattr__`` hook (~70 ns); the AT core does the same.
_COMMAND_MODE = ProtocolMode.COMMAND
_CONNECT = ResultCode.CONNECT
_NO_CARRIER = ResultCode.NO_CARRIER

FAX_CHUNK = 256     # bytes per write of fax data (22 ms at 115200 bps), so XOFF acts soon
CAN = b"\x18"       # T.31: any character stops a receive; CAN is the one to send


class EngineMode(enum.Enum):
    """Where the modem is, as far as the engine knows."""

    COMMAND = "command"                  # no call; AT commands accepted
    DATA = "data"                        # call online: read/write, no AT commands
    ONLINE_COMMAND = "online-command"    # call held after escape; AT commands, ATO resumes
    CLOSED = "closed"


class Engine:
    """An open modem: send commands, run a data call, watch events.

    Create with :meth:`open`; always :meth:`close` (or use ``async with``).
    """

    def __init__(self, transport: Transport, *, url: str, time_scale: float, log: Logger,
                 reopen: Callable[[], Awaitable[Transport]],
                 numeric_family: NumericFamily = "conexant", trace: bool = False,
                 baudrate: int = 115200, recovery: bool = True,
                 trust: PortTrust | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.url = url
        self.time_scale = time_scale
        self._log = log
        self._transport = transport
        self._reopen = reopen
        self._core = ATConnection(numeric_family=numeric_family)
        self._trace = trace
        self._recovery = recovery
        # A held lookahead tail is resolved after three character times of
        # silence at the DTE rate (never less than 50 ms): real time, not scaled.
        self._tail_quiet = max(0.05, 30.0 / baudrate)
        self._loop = asyncio.get_running_loop()
        self._lock = asyncio.Lock()
        self._waiter: asyncio.Future[Response | CarrierLost] | None = None
        # The hot path's deadline: the waiter it applies to, when it passes,
        # and one timer reused across commands (see _arm_deadline).
        self._timed: asyncio.Future[Response | CarrierLost] | None = None
        self._deadline = 0.0
        self._deadline_timer: asyncio.TimerHandle | None = None
        self._deadline_timer_at = 0.0
        self._received: list[str] = []
        self._hub = EventHub()
        self._stream = DataStream(on_room=self._room_again)
        self._call_up = False           # behind the _call_active property
        self._escaping = False
        self._hanging_up = False
        self._discarded = 0             # call data dropped by the current hang-up
        self._closed = False
        self._s12 = DEFAULT_S12
        self._online_since = 0.0        # time.monotonic() of the last CONNECT seen
        # The last CONNECT was the modem's own word on a call (our dial or
        # answer, or confirmed by check_online), not one that may be noise:
        # only then does a DTR drop that ends it prove DTR works (escape.py).
        self._online_confirmed = False
        self._guard: float | None = None
        self.trust = trust if trust is not None else trust_for(url)
        self._watch = LineWatch(time_scale=time_scale, log=log, in_call=self._in_call,
                                publish=self._publish, carrier_lost=self._carrier_dropped,
                                trust=self.trust)
        self._timeouts = 0
        self._abort_answered = False
        # T.31: the final result that ends a fax carrier's data (see fax_send)
        self._fax_final: asyncio.Future[Response] | None = None
        self._carrier_ended = asyncio.Event()   # set by NO CARRIER: see drop_dtr()
        self._xon = asyncio.Event()
        self._xon.set()
        self.format_command: str | None = DRIVER_FORMAT
        self._format_drifted = False
        self._background: set[asyncio.Task[None]] = set()
        self._hangup_op: asyncio.Future[None] | None = None    # the hang-up in progress
        self.recoveries: list[tuple[RecoveryStep, ...]] = []
        self._reading = False           # the transport hands us what it reads
        self._held = False              # ... except while back-pressure holds it back
        self._tail_timer: asyncio.TimerHandle | None = None
        self._last_rx = 0.0             # loop time of the last chunk read
        self._settling: asyncio.Task[None] | None = None   # ending a call on DCD: see lastbytes
        self._poller: asyncio.Task[None] | None = None
        self._start_tasks()

    # --- opening and closing -------------------------------------------------

    @classmethod
    async def open(cls, url: str, *, time_scale: float = 1.0, lock: bool = True,
                   baudrate: int = 115200, log: Logger | None = None, backend: Backend = "thread",
                   numeric_family: NumericFamily = "conexant", trace: bool = False,
                   recovery: bool = True, name: str | None = None) -> Engine:
        """Open the port at ``url`` (any pyserial URL) and start the reader.

        ``log`` defaults to a structlog logger bound with ``line=name or
        url``; ``trace=True`` logs every byte in and out (DEBUG, redacted).
        ``recovery=False`` disables the automatic ladder (timeouts just raise).
        Sends nothing to the modem: identification is the line layer's job.
        """
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        log = log if log is not None else get_logger(line=name or url)

        async def reopen() -> Transport:
            return await open_transport(url, baudrate=baudrate, lock=lock, backend=backend,
                                        log=log)

        transport = await reopen()
        return cls(transport, url=url, time_scale=time_scale, log=log, reopen=reopen,
                   numeric_family=numeric_family, trace=trace, baudrate=baudrate,
                   recovery=recovery)

    def _start_tasks(self) -> None:
        self._reading = True
        self._held = False
        self._transport.set_receiver(self._received_bytes, self._port_lost)
        if watchable(self._transport):
            self._poller = asyncio.create_task(
                self._watch.run(self._transport), name=f"lines {self.url}")
            self._poller.add_done_callback(self._task_done)

    async def _stop_tasks(self) -> None:
        self._stop_reading()
        for task in (self._poller,):
            if task is None:
                continue
            # Bounded: a task that does not end on cancel (a cancellation lost
            # somewhere below) is cancelled again, and finally left behind with
            # a warning; closing the engine must never hang.
            for _ in range(STOP_ATTEMPTS):
                if task.done():
                    break
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_WAIT)
            if not task.done():
                self._log.warning("task-ignores-cancel", task=task.get_name())
        self._poller = None

    async def close(self) -> None:
        """Stop the reader, end subscriptions and release the port and its lock.

        Safe to call more than once, and after any error.
        """
        if self._closed:
            return
        if self._background:
            # An unwanted call is being hung up: let it finish (bounded) while
            # the reader still runs, so the modem is left on-hook.
            _, pending = await asyncio.wait(self._background,
                                            timeout=self.scaled(ORIGINATE_ABORT_GRACE))
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=STOP_WAIT)
        self._closed = True
        self._watch.stop()
        if self._deadline_timer is not None:
            self._deadline_timer.cancel()
            self._deadline_timer = None
        try:
            await self._stop_tasks()
            self._fail_waiter(PortClosed(f"{self.url} closed"))
            self._stream.wake()
            self._hub.close()
        finally:
            await self._transport.close()
            self._log.debug("engine-closed")

    async def __aenter__(self) -> Engine:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    # --- state ---------------------------------------------------------------

    @property
    def _call_active(self) -> bool:
        """A call is up (online or held), as far as the engine knows."""
        return self._call_up

    @_call_active.setter
    def _call_active(self, value: bool) -> None:
        if value != self._call_up:
            self._call_up = value
            self._watch.call_changed()      # DCD already low in a new call counts

    @property
    def mode(self) -> EngineMode:
        """COMMAND, DATA, ONLINE_COMMAND or CLOSED."""
        if self._closed:
            return EngineMode.CLOSED
        if self._core.mode is not ProtocolMode.COMMAND:
            return EngineMode.DATA
        return EngineMode.ONLINE_COMMAND if self._call_active else EngineMode.COMMAND

    @property
    def lines(self) -> ModemLines:
        """DCD/RI/DSR of the port (``None`` for a line the port does not have)."""
        return self._transport.lines

    @property
    def result_format(self) -> ResultFormat:
        """The echo and verbosity the modem answers in, as the AT core has seen
        them (``None`` parts: not seen yet).  The line reads it after a bare
        ``AT`` to know what to put back at close."""
        return self._core.result_format

    @property
    def numeric_family(self) -> NumericFamily:
        """Which vendor table numeric result codes 9+ are read with."""
        return self._core.numeric_family

    @numeric_family.setter
    def numeric_family(self, family: NumericFamily) -> None:
        self._core.numeric_family = family

    @property
    def s12(self) -> int:
        """The modem's S12 (escape guard time, 20 ms units) the engine assumes."""
        return self._s12

    @s12.setter
    def s12(self, value: int) -> None:
        if not 0 <= value <= 255:
            raise ValueError("S12 is 0..255")
        self._s12 = value
        self._guard = None

    @property
    def guard_time(self) -> float:
        """Real seconds of silence kept before and after ``+++``.

        From S12 × 20 ms × time_scale unless set explicitly.
        """
        if self._guard is not None:
            return self._guard
        return self._s12 * 0.02 * self.time_scale

    @guard_time.setter
    def guard_time(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("guard time cannot be negative")
        self._guard = seconds

    @property
    def consecutive_timeouts(self) -> int:
        """Command timeouts since the last answered command."""
        return self._timeouts

    @property
    def carrier_grace(self) -> float | None:
        """Protocol seconds DCD may stay low in a call before the carrier is
        declared lost; ``None`` leaves it to the modem alone (S10=255)."""
        return self._watch.carrier_grace

    @carrier_grace.setter
    def carrier_grace(self, seconds: float | None) -> None:
        self._watch.carrier_grace = seconds

    @property
    def buffered(self) -> int:
        """Bytes of call data received and not yet read."""
        return self._stream.buffered

    def scaled(self, nominal: float) -> float:
        """Real seconds for a protocol-time timeout (with the 0.25 s floor)."""
        return max(nominal * self.time_scale, MIN_REAL_TIMEOUT)

    def events(self, maxsize: int = DEFAULT_MAXSIZE) -> EventSubscription:
        """Subscribe to unsolicited events, carrier loss, RI and noise.

        Each subscriber has its own bounded queue; when it is full the oldest
        event is dropped and counted (``subscription.dropped``).
        """
        return self._hub.subscribe(maxsize)

    # --- commands ------------------------------------------------------------

    async def command(self, command: str, timeout: float = DEFAULT_TIMEOUT) -> Response:  # noqa: ASYNC109 (contract)
        """Send one command line and return its final response.

        ``timeout`` is in protocol seconds (scaled, floored at 0.25 s real)
        and absolute.  ERROR (or +FCERROR) raises :class:`CommandError`; any
        other final is returned.  Raises :class:`InvalidCallState` in DATA
        mode before anything is sent.
        """
        self._check_command_mode(command)
        validate_command(command)
        # acquire/release rather than ``async with``: two coroutines fewer
        # per command on the hot path.
        lock = self._lock
        await lock.acquire()
        try:
            self._check_command_mode(command)
            if self._format_drifted:
                await self._reassert_format("format-changed")
            # A dial or answer sent this way is still aborted properly on timeout.
            response = await self._transact(command, timeout,
                                            abortable=command_letter(command) in ("D", "A"))
        finally:
            lock.release()
        if response.final.failed:
            raise CommandError(command, response.text, response.info)
        return response

    async def originate(self, command: str, timeout: float = ORIGINATE_TIMEOUT) -> Response:  # noqa: ASYNC109 (contract)
        """Dial (``ATD...``), answer (``ATA``) or go back online (``ATO``).

        ``CONNECT`` puts the engine in DATA mode; BUSY, NO CARRIER, NO ANSWER,
        NO DIALTONE... are returned as the Response.  On timeout the dial is
        aborted (any character aborts D/A) and :class:`CommandTimeout` raised.
        """
        validate_command(command)
        letter = command_letter(command)
        if letter not in ("D", "A", "O"):
            raise InvalidCommand(command, "originate() takes a D, A or O command")
        mode = self.mode
        if letter == "O" and mode is not EngineMode.ONLINE_COMMAND:
            raise InvalidCallState(f"{command!r} needs a held call (mode {mode.value})")
        if letter != "O" and mode is not EngineMode.COMMAND:
            raise InvalidCallState(f"{command!r} needs an idle line (mode {mode.value})")
        async with self._lock:
            self._check_command_mode(command)
            response = await self._transact(command, timeout, abortable=True)
        if response.final.failed:
            raise CommandError(command, response.text, response.info)
        return response

    async def resume(self, timeout: float = RESUME_TIMEOUT) -> Response:  # noqa: ASYNC109 (contract)
        """``ATO``: back online after :meth:`escape` (CONNECT → DATA, or NO CARRIER)."""
        return await self.originate("ATO", timeout)

    def _check_command_mode(self, command: str) -> None:
        # self.mode, spelt out: asked twice per command
        if self._closed:
            raise PortClosed(f"{self.url} is closed")
        if self._core.mode is not _COMMAND_MODE or self._escaping:
            raise InvalidCallState(f"cannot send {command!r}: the call is in data mode "
                                   "(escape() first)")

    async def _transact(self, command: str, timeout: float, *,  # noqa: ASYNC109
                        abortable: bool = False) -> Response:
        """Send under the lock; count timeouts and climb the ladder on the second."""
        try:
            response = await self._exchange(command, self.scaled(timeout), abortable=abortable)
        except CommandTimeout:
            if self._core.state is State.ONLINE:
                # The modem answered a call as the command went out (see
                # _exchange): it is alive, and the line hangs the call up.
                self._timeouts = 0
                raise
            if self._abort_answered:
                # The modem answered the abort: it is alive, the dial was just slow.
                self._timeouts = 0
                raise
            if self._timeouts == 0 and command_letter(command) not in ("D", "A") \
                    and await self._reassert_format(f"no answer to {command}"):
                # Silence from a modem that answers the format command was a
                # quiet (Q1) profile (a reset, a power cycle behind our back)
                # or one lost answer: it is alive and usable again.  Tried on
                # the first timeout only: the second climbs the ladder.
                self._timeouts = 0
                raise
            self._timeouts += 1
            if self._recovery and self._timeouts >= TIMEOUTS_BEFORE_RECOVERY:
                await self._recover_locked()
            raise
        except PortClosed:
            if self._recovery and not self._closed:
                await self._recover_locked()
            raise
        self._timeouts = 0
        self._after_response(command, response)
        if self._format_drifted or (resets_format(command) and response.ok):
            await self._reassert_format("format-changed" if self._format_drifted
                                        else f"after {command}")
        return response

    async def _reassert_format(self, reason: str) -> bool:
        """Put the driver's format back (lock held), when the modem is in
        command state to take it; see :mod:`.resultformat`."""
        if self._core.pending is not None or self._core.mode is not ProtocolMode.COMMAND:
            return False            # online: the next command in command state does it
        ok = await reassert(self, reason)
        if ok:
            self._format_drifted = False
        return ok

    async def _exchange(self, command: str, real_timeout: float, *,
                        abortable: bool = False) -> Response:
        """Send ``command`` and wait for its final, to an absolute deadline.

        A dial or answer (``abortable``) is aborted at the modem on timeout
        or cancellation (:meth:`_exchange_abortable`).  Every other command
        is the hot path, kept to one future: the line goes out with
        ``try_write`` (no coroutine, nothing to time out unless the write
        queue is full) and the shared deadline timer fails the waiter
        (:meth:`_arm_deadline`).  Nothing awaits the waiter after a timeout,
        so it needs no shield.
        """
        if abortable:
            return await self._exchange_abortable(command, real_timeout)
        payload = self._core.send_command(command)
        self._abort_answered = False
        if self._trace:
            trace_bytes(self._log, "tx", payload)
        # The line goes out first: the modem works on it while the waiter and
        # the deadline are set up (no answer can be handled before we await).
        try:
            sent = self._transport.try_write(payload)
        except BaseException:
            self._core.abort_command()
            raise
        waiter = self._new_waiter()
        deadline = self._loop.time() + real_timeout
        self._timed = waiter
        self._arm_deadline(deadline)
        try:
            if not sent:
                # The write queue is full (call data backed up) or the port is
                # gone: wait for room, to the same deadline.
                async with asyncio.timeout_at(deadline):
                    await self._transport.write(payload)
            result = await waiter
        except TimeoutError:
            _retrieved(waiter)
            # After a CONNECT the command could not take, the silence means
            # the modem went online: the core says so with an unsolicited
            # CONNECT, handled here like one read from the port.
            self._core.abort_command(timed_out=True)
            self._dispatch()
            raise CommandTimeout(command, real_timeout, self._received) from None
        except BaseException:
            _retrieved(waiter)
            self._core.abort_command()
            raise
        finally:
            self._timed = None
            self._waiter = None
        return _command_response(command, result)

    def _arm_deadline(self, deadline: float) -> None:
        """Have the deadline timer fire no later than ``deadline``.

        One timer serves every command: it is re-armed only when it would
        fire too late (or is not armed), and when it fires early (armed for
        an earlier command) it re-arms itself for the current one.  Why:
        a ``call_at`` and ``cancel`` per command were a timer handle, a
        heap push and a heap clean-up for a deadline that almost never
        passes; now a command costs a clock read and a comparison.
        """
        self._deadline = deadline
        timer = self._deadline_timer
        if timer is None or self._deadline_timer_at > deadline:
            if timer is not None:
                timer.cancel()
            self._deadline_timer = self._loop.call_at(deadline, self._deadline_reached)
            self._deadline_timer_at = deadline

    def _deadline_reached(self) -> None:
        """The deadline timer fired: fail the timed waiter if its deadline has
        passed, else wait on for it (the timer was armed for an earlier one)."""
        self._deadline_timer = None
        waiter = self._timed
        if waiter is None or waiter.done():
            return                      # nothing in flight: the next command re-arms
        if self._loop.time() >= self._deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._arm_deadline(self._deadline)

    async def _exchange_abortable(self, command: str, real_timeout: float) -> Response:
        payload = self._core.send_command(command)
        waiter = self._new_waiter()
        self._abort_answered = False
        deadline = self._loop.time() + real_timeout
        try:
            async with asyncio.timeout_at(deadline):
                await self._send(payload)
                # shield: a timeout must not cancel the future the reader resolves
                result = await asyncio.shield(waiter)
        except TimeoutError:
            if not self._transport.closed:
                late = await self._abort_dial(waiter)
                if late is not None:
                    return late
            self._core.abort_command()
            raise CommandTimeout(command, real_timeout, self._received) from None
        except asyncio.CancelledError:
            if not self._transport.closed:
                await self._abort_cancelled(command, waiter)
            self._core.abort_command()
            raise
        except BaseException:
            self._core.abort_command()
            raise
        finally:
            self._waiter = None
        return _command_response(command, result)

    async def _abort_dial(self, waiter: asyncio.Future[Response | CarrierLost]
                          ) -> Response | None:
        """Abort a dial/answer that timed out: one CR, then wait for its final.

        Returns a Response that still arrived (CONNECT in the same instant is
        honoured); None after a clean abort.  A modem that does not answer the
        abort either is counted as a timeout by the caller.
        """
        try:
            async with asyncio.timeout(self.scaled(ABORT_WAIT)):
                if not waiter.done():
                    # Not too soon after the dial's line (the modem would ignore
                    # the CR and dial on), nor once the answer is in: after
                    # CONNECT the CR would go to the far end as data and
                    # restart the escape's guard time.
                    await self._transport.drain()       # last_tx: when the line left
                    early = self._transport.last_tx + ABORT_IGNORED * self.time_scale \
                        - time.monotonic()
                    if early > 0:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(early):
                                await asyncio.shield(waiter)
                if not waiter.done():
                    await self._send(b"\r")
                result = await asyncio.shield(waiter)
        except (TimeoutError, PortClosed):
            return None
        if isinstance(result, Response) and result.final is ResultCode.CONNECT:
            return result
        self._abort_answered = True
        return None

    async def _abort_cancelled(self, command: str,
                               waiter: asyncio.Future[Response | CarrierLost]) -> None:
        """The caller gave up on a dial or answer (task cancelled, Ctrl-C).

        Abort it at the modem *before* the command lock is released, exactly
        as on a timeout: otherwise the modem keeps dialling and its late
        ``NO CARRIER`` would be taken as the answer to the next command.  A
        ``CONNECT`` that wins the race leaves a call nobody wants, so it is
        hung up in the background as soon as the lock is free.
        """
        try:
            late = await asyncio.shield(self._abort_dial(waiter))
        except asyncio.CancelledError:
            return                      # cancelled again: the ladder will resync
        if late is None:
            return
        # Expected now and then (the caller gave up as the modem connected),
        # and handled: not worth a warning at the default verbosity.
        self._log.info("connected-after-cancel", command=command)
        self._after_response(command, late)
        task = asyncio.get_running_loop().create_task(self._hangup_unwanted(),
                                                      name=f"unwanted-call-hangup {self.url}")
        self._background.add(task)
        task.add_done_callback(self._background_done)

    def _background_done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        self._task_done(task)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """Every task the engine starts ends here: its failure is logged when
        it happens (nobody awaits these tasks' results), never left for the
        loop to find as "Task exception was never retrieved"."""
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._log.error("background-task-failed", task=task.get_name(), error=repr(exc))

    async def _hangup_unwanted(self) -> None:
        if self.mode not in (EngineMode.DATA, EngineMode.ONLINE_COMMAND) \
                and self._hangup_op is None:
            return                  # the caller hung it up already
        try:
            await self.hangup()
        except ModemctlError as e:
            self._log.warning("unwanted-call-hangup-failed", error=str(e))

    def _after_response(self, command: str, response: Response) -> None:
        final = response.final
        if final is _CONNECT:
            self._call_active = True
            self._stream.wake()
        elif final is _NO_CARRIER or (response.ok and _ends_call(command)):
            self._call_active = False

    def _discard_stale_data(self) -> None:
        """A new call starts: bytes the last call delivered but nobody read
        (typically the far end's own ``+++`` as it hung up) are not this
        call's data."""
        if n := self._stream.discard():
            self._log.info("stale-call-data-discarded", n=n)

    def _new_waiter(self) -> asyncio.Future[Response | CarrierLost]:
        self._received = []
        self._waiter = self._loop.create_future()
        self._stream.release()      # a reader held by back-pressure must see the answer
        return self._waiter

    def _fail_waiter(self, exc: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
            # Mark retrieved: the owner may already have given up on it.
            self._waiter.exception()

    async def _send(self, payload: bytes) -> None:
        if self._trace:
            trace_bytes(self._log, "tx", payload)
        await self._transport.write(payload)

    # --- data mode -----------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Send call data (DATA mode only).

        Not once the carrier is declared lost, while its last bytes are
        read: the modem may be in command state, where data would be taken
        for commands.  The writer waits for the call's end and is refused.
        """
        if (settling := self._settling) is not None:
            await asyncio.wait((settling,))
            raise InvalidCallState("write(): the carrier was lost")
        if self.mode is not EngineMode.DATA or self._escaping:
            raise InvalidCallState(f"write() needs DATA mode (mode {self.mode.value})")
        await self._send(self._core.send_data(data))

    async def read(self, max_bytes: int = 65536) -> bytes:
        """Call data; waits while the call is online.  ``b""`` means the call is
        over (and everything it delivered has been read)."""
        while True:
            if chunk := self._stream.take(max_bytes):
                return chunk
            mode = self.mode
            if mode is EngineMode.ONLINE_COMMAND:
                raise InvalidCallState("the call is held in online-command mode; resume() "
                                       "to read")
            if mode is not EngineMode.DATA or not self._call_active:
                return b""
            await self._stream.wait()

    async def escape(self) -> None:
        """Guarded ``+++``: silence, escape, silence, OK → ONLINE_COMMAND (call held).

        Raises :class:`CallLost` if the carrier drops instead, and
        :class:`CommandTimeout` if the modem stays online (no OK).
        """
        if self.mode is not EngineMode.DATA:
            raise InvalidCallState(f"escape() needs DATA mode (mode {self.mode.value})")
        async with self._lock:
            if self.mode is not EngineMode.DATA:
                raise InvalidCallState(f"escape() needs DATA mode (mode {self.mode.value})")
            self._escaping = True
            try:
                result = await guarded_escape(self, force=False, quiet_since=self._quiet_since())
            finally:
                self._escaping = False
        if result is None:
            raise CommandTimeout("+++", self.guard_time * 2 + self.scaled(DEFAULT_TIMEOUT))
        if isinstance(result, CarrierLost):
            raise CallLost("carrier lost during escape")

    async def check_online(self) -> bool:
        """After an unsolicited CONNECT: True when a call is really up (DATA
        mode stays); False when it was noise and the modem is in command
        mode (the engine is now in COMMAND mode).  DCD decides where it is
        known to work, else a bare ``AT``; see :mod:`.onlinecheck`."""
        if self.mode is EngineMode.CLOSED:
            raise PortClosed(f"{self.url} is closed")
        return await check_online(self)

    async def hangup(self) -> None:
        """Hang up from any mode; afterwards COMMAND mode, on-hook.

        In DATA mode DTR is dropped when the port has DTR, otherwise the
        engine escapes first; then ``ATH`` makes sure the modem is on-hook.
        There is one hang-up at a time: a second caller (the engine's own
        hang-up of a call that won a cancelled dial's race, and the line's)
        waits for the one in progress and shares its outcome.
        """
        if self.mode is EngineMode.CLOSED:
            raise PortClosed(f"{self.url} is closed")
        while (running := self._hangup_op) is not None:
            try:
                await asyncio.shield(running)
                return
            except asyncio.CancelledError:
                if not running.cancelled():
                    raise                   # we were cancelled, not the hang-up
                # The hang-up in progress was abandoned: do it ourselves.
        op: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        op.add_done_callback(_retrieved)
        self._hangup_op = op
        try:
            await self._hang_up()
        except asyncio.CancelledError:
            op.cancel()
            raise
        except BaseException as e:
            op.set_exception(e)
            raise
        else:
            op.set_result(None)
        finally:
            self._hangup_op = None

    async def _hang_up(self) -> None:
        mode = self.mode
        # While we hang up ourselves, the carrier loss that follows is not news,
        # and call data nobody will read is discarded (it must not hold the
        # reader back from the modem's answers).
        self._hanging_up = True
        self._discarded = self._stream.discard()
        try:
            if self._core.state in (State.FAX_SENDING, State.FAX_RECEIVING):
                await self._leave_fax_carrier()
                mode = self.mode
            if mode is EngineMode.DATA:
                await leave_data_mode(self)
            if self._core.mode is not ProtocolMode.COMMAND:
                raise InvalidCallState("the modem did not leave data mode")
            await self.command("ATH")
        finally:
            self._hanging_up = False
            if self._discarded:
                self._log.info("unread-call-data-discarded", n=self._discarded)
            if self.mode is not EngineMode.DATA:
                self._call_active = False
                self._stream.wake()

    async def _leave_fax_carrier(self) -> None:
        """Hanging up in a fax carrier: end it as T.31 says (CAN stops a
        receive, DLE ETX ends a transmission) and take its final.  A modem
        that gives none was not in a fax carrier after all (the far end was a
        data modem): it is escaped from as a data call, with a forced ``+++``."""
        async with self._lock:
            # Only a DCD known to work confirms the drop (see porttrust).  The
            # carrier's last bytes (frames, page data) are read as its data
            # (discarded) before anything is read as lines (see lastbytes).
            if self._transport.lines.dtr is not None and self.trust.dtr is not False \
                    and self.trust.dcd is True and await self.drop_dtr(DTR_HANGUP_DROP):
                await last_call_bytes(self)
                if await carrier_gone(self.lines, self.url, self.scaled(DTR_HANGUP_WAIT)):
                    self._core.carrier_lost()
                    self.fax_abandon()
                    return
            for _ in range(3):              # a frame's CONNECT asks for more: end again
                final = self._fax_final
                sending = self._core.state is State.FAX_SENDING
                if final is None or self._core.state not in (State.FAX_SENDING,
                                                              State.FAX_RECEIVING):
                    break
                await self._send(b"\x10\x03" if sending else CAN)
                try:
                    async with asyncio.timeout(self.scaled(ABORT_WAIT)):
                        await asyncio.shield(final)
                except TimeoutError:
                    break
            if self._core.state not in (State.FAX_SENDING, State.FAX_RECEIVING):
                self.fax_abandon()
                return
            self.fax_abandon()
            self._escaping = True
            try:
                await guarded_escape(self, force=True)
            finally:
                self._escaping = False

    async def drop_dtr(self, hold: float = DTR_DROP) -> bool:
        """Hold DTR low for ``hold`` protocol seconds (DTR_DROP, the reset
        time, unless told), then raise it again.

        Under ``&D2`` this hangs the modem up even while it is still waiting
        for a lost carrier (long S10), when ``ATH`` would be taken as data;
        a hang-up holds it for DTR_HANGUP_DROP only.
        Returns False, doing nothing, where the port has no DTR line.
        """
        if self._closed:
            raise PortClosed(f"{self.url} is closed")
        if self._transport.lines.dtr is None:
            return False
        ended = self._carrier_ended
        ended.clear()
        if not await self._transport.set_dtr(False):
            return False
        try:
            # A modem that says NO CARRIER has acted on the drop already: no
            # need to hold DTR low any longer.  (The hang-up is still
            # confirmed, by DCD or by asking the modem: see escape.py.)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._dtr_hold(hold)):
                    await ended.wait()
        finally:
            # Even when cancelled in the hold: under &D2 a modem left with DTR
            # low will not dial.  Shielded, so a second cancel cannot stop it.
            await asyncio.shield(self._transport.set_dtr(True))
        return True

    def _dtr_hold(self, hold: float = DTR_DROP) -> float:
        """Real seconds DTR is held low (``hold`` scaled, at least 50 ms)."""
        return max(hold * self.time_scale, 0.05)

    def _quiet_since(self) -> float:
        """``time.monotonic()`` since when the modem, online, has had nothing
        from us: the escape's leading guard time counts from here.

        V.250/Hayes: the guard is silence in what the DTE *sends*; what the
        far end sends does not count.  The later of the last byte out and the
        CONNECT (a modem may start its guard timer when it goes online).
        """
        return max(self._transport.last_tx, self._online_since)

    async def set_dtr(self, value: bool) -> bool:
        """Drive DTR; False when the port has no DTR line (pty, socket://, loop://)."""
        if self._closed:
            raise PortClosed(f"{self.url} is closed")
        return await self._transport.set_dtr(value)

    # --- recovery ------------------------------------------------------------

    async def _recover_locked(self) -> tuple[RecoveryStep, ...]:
        self._log.warning("recovery-start", consecutive_timeouts=self._timeouts)
        steps = await climb(EngineRungs(self), self._log)
        self._timeouts = 0
        self.recoveries.append(steps)
        return steps

    # --- fax Class 1 carriers (T.31) -------------------------------------------
    #
    # In a fax call the modem is in command mode between carriers; each
    # carrier command's CONNECT starts DLE-framed data (the AT core's
    # FAX_SENDING / FAX_RECEIVING states) that ends in a final result for
    # the same command.  These few methods are all the fax runner needs.

    async def fax_command(self, command: str, timeout: float) -> Response:  # noqa: ASYNC109 (contract)
        """Send a T.31 command during a fax call and return its final, whatever it is.

        ERROR, ``+FCERROR`` and NO CARRIER are answers here (a bad frame, the
        wrong carrier, no carrier), not failures, and do not end the call.
        CONNECT to a carrier command starts its data: send it with
        :meth:`fax_send`, or read it with :meth:`read` and then :meth:`fax_result`.
        """
        self._check_command_mode(command)
        validate_command(command)
        async with self._lock:
            self._check_command_mode(command)
            response = await self._exchange(command, self.scaled(timeout))
        self._timeouts = 0
        return response

    async def fax_send(self, data: bytes, timeout: float) -> Response:  # noqa: ASYNC109 (contract)
        """Write fax data after a ``+FTH``/``+FTM`` CONNECT, pausing while the
        modem says XOFF, and return the final that answers it (OK, or CONNECT
        after a frame when more may follow).  ``data`` is already stuffed and
        ends in DLE ETX; ``timeout`` (protocol seconds) covers the whole write."""
        async with self._lock:
            if self._core.state is not State.FAX_SENDING or self._fax_final is None:
                raise InvalidCallState(f"fax_send() needs a +FTH/+FTM CONNECT "
                                       f"(state {self._core.state.value})")
            final = self._fax_final
            try:
                async with asyncio.timeout(self.scaled(timeout)):
                    for at in range(0, len(data), FAX_CHUNK):
                        await self._xon.wait()
                        await self._send(self._core.send_data(data[at:at + FAX_CHUNK]))
                        # Let each chunk leave the port before the next: an XOFF
                        # then stops us within a chunk, not an OS buffer, later.
                        await self._transport.drain()
                    return await asyncio.shield(final)
            except TimeoutError:
                raise CommandTimeout("fax data", self.scaled(timeout), self._received) from None

    async def fax_result(self, timeout: float, *, discard: bool = False) -> Response:  # noqa: ASYNC109 (contract)
        """The final result after received fax data; ``discard`` drops the
        data nobody read (after :meth:`fax_cancel`)."""
        final = self._fax_final
        if final is None:
            raise InvalidCallState("fax_result() needs a fax carrier in progress")
        try:
            async with asyncio.timeout(self.scaled(timeout)):
                response = await asyncio.shield(final)
        except TimeoutError:
            raise CommandTimeout("fax data end", self.scaled(timeout), self._received) from None
        if self._fax_final is final:
            self._fax_final = None          # answered: a later call must not reuse it
        if discard:
            self._stream.discard()
        return response

    async def fax_cancel(self) -> None:
        """Stop a fax receive (T.31: any character; CAN is the one to send).

        Written past the AT core: it may interrupt a carrier command still
        waiting for its CONNECT as well as data.  The modem answers with a
        final result; data received meanwhile is discarded.
        """
        self._stream.discard()
        await self._send(CAN)

    def fax_abandon(self) -> None:
        """Forget a fax carrier nobody will finish (the call is being torn
        down): the core leaves its fax state so ``ATH`` can be sent."""
        if self._core.state in (State.FAX_SENDING, State.FAX_RECEIVING):
            self._core.abort_command()
        if self._fax_final is not None and not self._fax_final.done():
            self._fax_final.cancel()
        self._fax_final = None
        self._stream.discard()
        self._xon.set()

    # --- reader --------------------------------------------------------------

    def _received_bytes(self, data: bytes) -> None:
        """The transport's callback for every chunk read, on the loop.

        Why a callback and not a reader task: the command waiting for this
        answer is resumed in the loop iteration its bytes arrived in, with no
        task to wake per chunk in between.
        """
        try:
            self._last_rx = self._loop.time()
            if self._trace:
                trace_bytes(self._log, "rx", data)
            core = self._core
            core.receive_data(data)
            self._dispatch()
            if core.holding_tail:
                # Resolved after three character times of silence (see __init__).
                if self._tail_timer is not None:
                    self._tail_timer.cancel()
                self._tail_timer = self._loop.call_later(self._tail_quiet, self._tail_quiet_ended)
            elif self._tail_timer is not None:
                self._tail_timer.cancel()
                self._tail_timer = None
        except Exception as e:
            self._reader_crashed(e)

    def _tail_quiet_ended(self) -> None:
        self._tail_timer = None
        try:
            self._core.end_of_input()
            self._dispatch()
        except Exception as e:
            self._reader_crashed(e)

    def _reader_crashed(self, e: Exception) -> None:
        # A bug must not leave commands waiting on a dead reader: fail them
        # typed, and let the ladder's reopen start reading afresh.
        self._log.exception("reader-crashed")
        self._stop_reading()
        self._port_failed(PortClosed(f"{self.url}: reader failed: {e!r}"))

    def _port_lost(self, exc: PortClosed) -> None:
        """The transport's callback when the port fails under us."""
        self._stop_reading()
        self._port_failed(exc)

    def _stop_reading(self) -> None:
        self._reading = False
        self._held = False
        self._transport.set_receiver(None)
        if self._tail_timer is not None:
            self._tail_timer.cancel()
            self._tail_timer = None

    def _room_again(self) -> None:
        """The data stream has room (read, discarded, or an answer is awaited)."""
        if self._held:
            self._held = False
            # Not from inside read()/hangup(): the buffered bytes are handed
            # over on the next loop iteration, as a reader task would have.
            self._loop.call_soon(self._resume_reading)

    def _resume_reading(self) -> None:
        if self._reading and not self._held:
            self._transport.set_receiver(self._received_bytes, self._port_lost)

    def _dispatch(self) -> None:
        core = self._core
        while True:
            event = core.next_event()
            if event is NEED_DATA:
                return
            # Echo and information lines (what every echoed command gets)
            # here; everything else through _handle.
            if isinstance(event, (Echo, Information)):
                self._received.append(event.text)
            else:
                self._handle(event)

    def _handle(self, event: Event) -> None:
        """One event other than an echo or information line (see _dispatch)."""
        if isinstance(event, Data):
            if self._hanging_up:
                self._discarded += len(event.data)      # nobody will read it
                return
            # Back-pressure (stop reading) only while no control operation
            # waits for the modem's answer, which follows this data.
            if self._stream.put(event.data) and self._waiter is None and self._reading:
                self._held = True
                self._transport.set_receiver(None)
        elif isinstance(event, Response):
            connect = event.final is _CONNECT
            if connect:
                self._online_since = time.monotonic()
            if connect and event.command is not None \
                    and command_letter(event.command) in ("D", "A"):
                # Here, in stream order: the new call's first bytes follow.
                self._discard_stale_data()
                self._online_confirmed = True
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(event)
            elif self._fax_final is not None and not self._fax_final.done():
                self._fax_final.set_result(event)
            else:
                self._publish(Noise(event.text, "response with nobody waiting"))
            if connect and self._core.state in (State.FAX_SENDING, State.FAX_RECEIVING):
                # Created here, in stream order: the final may be in this very chunk.
                self._fax_final = asyncio.get_running_loop().create_future()
                self._xon.set()
        elif isinstance(event, FlowControl):
            if event.paused:
                self._xon.clear()
            else:
                self._xon.set()
        elif isinstance(event, CarrierLost):
            self._carrier_ended.set()
            # The modem's own NO CARRIER after DCD was declared lost (its
            # last bytes were being read): the loss is still DCD's.
            event = self._watch.credit(event) if self._settling is None \
                else CarrierLost(event.text, source="dcd")
            was_active = self._call_active
            self._call_active = False
            self._stream.wake()
            if self._waiter is not None and not self._waiter.done() \
                    and self._core.pending is None:
                self._waiter.set_result(event)
            self._log.info("carrier-lost", source=event.source, during_call=was_active,
                           own_hangup=self._hanging_up)
            if was_active and not self._hanging_up:
                self._publish(event)
            else:
                self._publish(Noise(event.text, "NO CARRIER with no call up (or after our "
                                                "own hang-up)"))
        elif isinstance(event, Unsolicited):
            if event.kind is UnsolicitedKind.RING:
                self._watch.ring_seen(asyncio.get_running_loop().time())
            if event.kind is UnsolicitedKind.CONNECT:
                self._online_since = time.monotonic()
                self._online_confirmed = False      # until check_online says so
                self._discard_stale_data()
                self._call_active = True
                self._stream.wake()
            self._log.debug("unsolicited", kind=event.kind.value, text=event.text)
            self._publish(event)
        elif isinstance(event, FormatChanged):
            self._log.info("result-format-changed", previous=str(event.previous),
                           current=str(event.current), command=event.command)
            if drifted(event, self.format_command):
                self._format_drifted = True
            self._publish(event)
        elif isinstance(event, ParseFailure):
            self._log.warning("parse-failure", error=str(event.error),
                              discarded=event.discarded)
            self._publish(event)
        else:
            if isinstance(event, Noise):
                self._log.debug("noise", text=event.text, reason=event.reason)
            self._publish(event)

    def _publish(self, event: Event) -> None:
        self._hub.publish(event)

    def _port_failed(self, exc: PortClosed) -> None:
        self._log.warning("port-lost", error=str(exc))
        self._fail_waiter(exc)
        if self._call_active:
            self._publish(CarrierLost("port closed", source="port"))
        self._call_active = False
        self._core.carrier_lost()
        self._stream.wake()

    def _in_call(self) -> bool:
        """For the line watch: a call is up and we are not hanging it up."""
        return self._call_active and not self._hanging_up

    def _carrier_dropped(self) -> None:
        """The line watch declared the carrier lost (DCD low beyond the grace):
        the call ends once its last bytes are in (:func:`.lastbytes.end_on_dcd`),
        which then publishes the loss."""
        if self._settling is not None:
            return
        task = self._loop.create_task(end_on_dcd(self, self._online_since),
                                      name=f"carrier-lost {self.url}")
        self._settling = task
        self._background.add(task)
        task.add_done_callback(self._settled)

    def _settled(self, task: asyncio.Task[None]) -> None:
        if self._settling is task:
            self._settling = None
        self._background_done(task)


@lru_cache(maxsize=256)
def _ends_call(command: str) -> bool:
    """Whether an OK to ``command`` means no call is up (H, Z, &F).
    Cached: asked on every OK."""
    return command_letter(command) in ("H", "Z") or "&F" in command.upper()


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a failure retrieved, so the loop does not report "Future exception
    was never retrieved": a waiter given up on (the write timed out, the task
    was cancelled) may still have been failed by its timer, and a shared
    hang-up's failure is raised to its owner while its joiners may be gone."""
    if future.done() and not future.cancelled():
        future.exception()


def _command_response(command: str, result: Response | CarrierLost) -> Response:
    if not isinstance(result, Response):
        # The waiter is shared with escape(), which also accepts CarrierLost;
        # a command in flight is always ended by a Response.
        raise CallLost(f"{command!r}: carrier lost")
    return result
