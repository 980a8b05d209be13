"""A telephone line with a modem on it (TAPI's HLINE), and ``open_line``.

The line owns one driver engine.  It probes the modem once on open (the
profile is chosen then and never again), initialises it from the profile,
and listens to the engine's unsolicited events for rings, caller ID and
call-waiting indications.  It allows one call at a time - a modem has one
hook - and sends no AT traffic of its own while a call is up: no polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from modemctl.at import (
    CarrierLost,
    ResultCode,
    RingIndicator,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.driver import Engine, EngineMode
from modemctl.errors import (
    CommandError,
    CommandTimeout,
    InvalidCallState,
    ModemctlError,
    OperationUnavailable,
)
from modemctl.line.call import Call, SecureRequest, check_secure_arg
from modemctl.line.caps import Finding, LineCaps
from modemctl.line.dialstring import DialString, build_dial_command, validate_number
from modemctl.line.events import (
    CallWaitingSeen,
    EventHub,
    MessageWaiting,
    Secured,
    Subscription,
)
from modemctl.line.probe import build_caps, enable_caller_id, gather, settle_country
from modemctl.line.report import SecureReport
from modemctl.line.rings import RingWatch
from modemctl.line.secure import (
    Applied,
    Media,
    SecurePlan,
    Setting,
    apply_plan,
    carrier_grace,
    judge,
    plan_secure,
    read_setting,
    restore,
)
from modemctl.line.states import CallState, DisconnectReason, reason_for_result
from modemctl.locations import Location, get_location
from modemctl.log import Logger, get_logger, register_secret
from modemctl.profiles import Profile, get_profile

#: Nominal (protocol) seconds; the engine scales them by time_scale.
DIAL_TIMEOUT = 120.0
ANSWER_TIMEOUT = 90.0
#: Dialing rules used when open_line is given no location (the modem's country is then
#: left alone).
DEFAULT_LOCATION = "US"
INIT_TIMEOUT = 5.0
#: Nominal seconds close() gives a call no Call owns to be hung up (a guarded
#: escape and ATH take a few; a modem that ignores +++ climbs the ladder).
CLOSE_HANGUP_TIMEOUT = 30.0
#: Real seconds to wait for the evidence of why a call ended (see ended_under_us).
END_EVIDENCE_WAIT = 0.12

_FAX_PREFERENCE = ("1", "1.0", "2.0", "2")
_SET_REGISTER = re.compile(r"S(\d+)=(\d+)")


class Line:
    """An open modem line.  Create with :func:`open_line`."""

    def __init__(self, engine: Engine, name: str, location: Location, time_scale: float,
                 profile: Profile | None = None, *, set_country: bool = True) -> None:
        self.engine = engine
        self.name = name
        self.location = location
        #: Set the modem's country to the location's (the user asked for a location).
        self.set_country = set_country
        #: What the line changed at open, as the commands that put it back at close
        #: (first change wins: a second probe does not forget the original).
        self._at_close: dict[str, str] = {}
        #: What could not be put back at close.
        self.restore_failures: tuple[str, ...] = ()
        self.time_scale = time_scale
        self.log: Logger = get_logger(line=name)
        self.hub = EventHub()
        self.caps: LineCaps | None = None
        self._forced_profile = profile
        self._call: Call | None = None
        self._ids = itertools.count(1)
        self._rings = RingWatch(self.hub, time_scale)
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._failures: list[BaseException] = []

    # --- life cycle ------------------------------------------------------------

    async def start(self, probe: bool = True) -> None:
        """Start listening for events and (by default) probe and initialise."""
        self._pump = self._start_task(self._run_pump(), name=f"line-{self.name}-events")
        if probe:
            await self.probe()

    async def close(self) -> None:
        """Drop any call, stop listening, close the engine.

        A failure of one of the line's own tasks (the event pump, an
        end-of-call task) that nothing else reported is raised here, after
        the clean-up, so no error of the line's goes unseen.  Cancelling
        ``close()`` still releases the port, and then passes the
        cancellation on.

        A call the modem took by itself (an unsolicited CONNECT: S0 set by
        someone else) is hung up here, not left to the background task that
        stopping the line's tasks would cancel half-way: a closed line leaves
        its modem on-hook in command state, and only then puts back what it
        changed.  Bounded by :data:`CLOSE_HANGUP_TIMEOUT`.
        """
        try:
            if self._call is not None:
                await self._call.drop()
        finally:
            try:
                await self._hang_up_at_close()
                await self._restore_at_close()
                await self._stop_tasks()
            finally:
                self.hub.close()
                await self.engine.close()
        if self._failures:
            raise self._failures[0]

    async def _hang_up_at_close(self) -> None:
        """Hang up a call no Call owns before closing (see :meth:`close`).

        Under the line's lock, so a hang-up task already under way is waited
        for (it holds the lock) rather than raced; the modem's mode is looked
        at afresh, so a CONNECT the event pump has not dispatched yet counts.
        The lock is taken only when there may be such a call: a dial or probe
        still under way is not waited for.
        """
        if not self._unowned_call_possible():
            return
        try:
            async with asyncio.timeout(self.engine.scaled(CLOSE_HANGUP_TIMEOUT)):
                async with self._lock:
                    await self._hang_up_unowned()
        except TimeoutError:
            self.log.warning("close-hangup-timed-out", mode=self.engine.mode.value)

    async def _restore_at_close(self) -> None:
        """Put back what opening the line changed (country, registers), newest first."""
        if not self._at_close or self.engine.mode is not EngineMode.COMMAND:
            return
        failures: list[str] = []
        for what, command in reversed(self._at_close.items()):
            try:
                await self.engine.command(command, timeout=INIT_TIMEOUT)
            except ModemctlError as exc:
                failures.append(f"{what}: {exc}")
        self._at_close.clear()
        self.restore_failures = tuple(failures)
        if failures:
            self.log.warning("restore-at-close-failed", failures=failures)

    async def _stop_tasks(self) -> None:
        tasks = [t for t in (self._pump, *self._tasks) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            # asyncio.wait neither raises the tasks' errors nor swallows a
            # cancellation of close() itself.
            await asyncio.wait(tasks)

    def _start_task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run ``coro`` as one of the line's tasks, whose failure is never lost."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.log.error("line-task-failed", task=task.get_name(), error=repr(exc))
            self._failures.append(exc)

    # --- probe ---------------------------------------------------------------

    async def probe(self) -> LineCaps:
        """Identify the modem, initialise it from its profile, fill :attr:`caps`."""
        if self._call is not None:
            raise InvalidCallState("cannot probe while a call exists")
        async with self._lock:
            await self._hang_up_unowned()
            await self._remember_format()
            await self._send("ATE0Q0V1", required=True)   # quiet, verbose: clean answers
            answers = await gather(self.engine)
            first = build_caps(answers, self.location, None, False, profile=self._forced_profile)
            profile = first.profile
            notes: list[str] = []
            await self._remember_registers(profile.init)
            for cmd in profile.init:
                await self._send("AT" + cmd, required=True)
            for cmd in profile.init_optional:
                if not await self._send("AT" + cmd, required=False):
                    notes.append(f"optional init AT{cmd} refused")
            caller_id = False
            findings: list[Finding] = []
            if profile.caller_id:
                before, found = await enable_caller_id(self.engine, profile.caller_id)
                findings.append(found)
                caller_id = found.supported
                parameter = profile.caller_id.partition("=")[0]
                if before is not None and f"AT{parameter}={before}" != f"AT{profile.caller_id}":
                    self._at_close.setdefault("caller-id", f"AT{parameter}={before}")
                if not caller_id:
                    notes.append(f"no caller ID on this line: {found.evidence}")
            settled = await settle_country(self.engine, profile, self.location,
                                           self.set_country)
            country = settled.country
            notes.append(settled.note)
            if settled.previous is not None and profile.country_set is not None:
                self._at_close.setdefault(
                    "country", "AT" + profile.country_set.format(code=settled.previous))
            # The engine's escape guard time must be the modem's, whatever it is set to.
            s12 = await read_setting(self.engine, Setting("S12", 0))
            if s12 is not None:
                self.engine.s12 = s12
            self.engine.numeric_family = profile.numeric_codes
            self.caps = build_caps(answers, self.location, country, caller_id, notes,
                                   profile=self._forced_profile,
                                   has_dcd=self.engine.lines.cd is not None,
                                   findings=findings)
            self.log.info("probed", profile=self.caps.profile.name,
                          identified=self.caps.identified, v92=self.caps.v92,
                          at_dial=self.caps.secure_at_dial,
                          after_connect=self.caps.secure_after_connect)
            return self.caps

    async def _remember_format(self) -> None:
        """Read the modem's echo and verbosity as found, to put them back at
        close: ``ATE0Q0V1`` changes them for the driver's parsers.

        A bare ``AT`` shows both (its echo, and ``0`` or ``OK``).  Quiet (Q1)
        is not restored: it shows only as silence, and a modem put back into
        Q1 would not even answer the command that did it.
        """
        if "result format" in self._at_close:
            return
        try:
            await self.engine.command("AT", timeout=INIT_TIMEOUT)
        except CommandError:
            return                  # a timeout is the probe's failure: no modem answers
        found = self.engine.result_format
        restore = ("E1" if found.echo else "") + ("V0" if found.verbose is False else "")
        if restore:
            self._at_close["result format"] = "AT" + restore

    async def _remember_registers(self, init: Sequence[str]) -> None:
        """Read each S-register the init sets, to put back at close what it changes."""
        for cmd in init:
            m = _SET_REGISTER.fullmatch(cmd.upper())
            if m is None or f"S{m[1]}" in self._at_close:
                continue
            before = await read_setting(self.engine, Setting(f"S{m[1]}", 0))
            if before is not None and before != int(m[2]):
                self._at_close[f"S{m[1]}"] = f"ATS{m[1]}={before}"

    def caps_required(self) -> LineCaps:
        """The caps, or InvalidCallState when the line was opened without a probe."""
        if self.caps is None:
            raise InvalidCallState("the line has not been probed (call line.probe() first)")
        return self.caps

    async def _send(self, command: str, required: bool) -> bool:
        try:
            await self.engine.command(command, timeout=INIT_TIMEOUT)
        except (CommandError, CommandTimeout):
            if required:
                raise
            return False
        return True

    # --- calls ---------------------------------------------------------------

    def _new_call_id(self) -> str:
        return f"{self.name}#{next(self._ids)}"

    def _claim(self, call: Call) -> None:
        if self._call is not None and self._call.state is not CallState.DISCONNECTED:
            raise InvalidCallState(f"line {self.name} already has call {self._call.call_id}")
        self._call = call

    def call_ended(self, call: Call) -> None:
        """Called by a call once it is DISCONNECTED: the line is free again."""
        if self._call is call:
            self._call = None
            self._rings.forget()            # rings heard so far belong to ended calls

    def remote_end_reason(self, call: Call) -> DisconnectReason:
        """Why a connected call ended without us dropping it, from the evidence seen.

        A Hayes modem reports a far-end clear-down and a carrier lost beyond
        S10 alike, as ``NO CARRIER``: without other evidence that is NORMAL
        (TAPI's mapping).  Call waiting signalled during the call (RI pulse,
        ``CALL WAITING DETECTED``) makes it CALLWAITING; DCD falling while
        the modem was still online makes it CARRIERLOST; a vanished port,
        UNKNOWN.
        """
        if call.call_waiting_seen:
            return DisconnectReason.CALLWAITING
        source = call.end_source
        if source == "dcd":
            return DisconnectReason.CARRIERLOST
        if source == "result-code":
            return DisconnectReason.NORMAL
        return DisconnectReason.UNKNOWN

    async def ended_under_us(self, call: Call) -> None:
        """Finish a call the modem ended, once the evidence for its reason is in.

        The engine publishes CarrierLost in the same step in which a reader
        sees end-of-call, but our event pump runs a moment later; and on a
        port with RI, the poller sees a call-waiting RI pulse up to one poll
        period after the modem's NO CARRIER.  Both waits are short and bounded.
        """
        if call.state is CallState.DISCONNECTED:
            return
        failures: list[str] = []
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(END_EVIDENCE_WAIT):
                    await call.end_seen.wait()
            if self.engine.lines.ri is not None:
                await asyncio.sleep(END_EVIDENCE_WAIT)
            if call.end_source == "dcd":
                # The modem may still wait for the carrier (long S10): &D2 hangs it up.
                try:
                    await self.engine.drop_dtr()
                except ModemctlError as exc:
                    failures.append(f"DTR hang-up: {exc}")
        finally:
            # Whatever happened above (a failed port, a cancel), the call ends.
            await call.finish(self.remote_end_reason(call), failures=failures)

    async def make_call(self, number: str, secure: SecureRequest = False,
                        media: Media = "data") -> Call:
        """Dial ``number`` (TAPI lineMakeCall) and return the call.

        The number is validated before anything reaches the modem
        (InvalidAddress); digits in braces (``5558102,,,{1234}#``) are
        secret: dialled, but masked in ``call.number``, logs and traces.
        With ``secure=True`` the call is protected against call waiting
        from the first ring, or OperationUnavailable is raised (with the
        report) before dialling; ``"best-effort"`` applies what it
        can.  A call that fails to connect is returned DISCONNECTED with its
        ``disconnect_reason`` (BUSY, NOANSWER, NODIALTONE, UNAVAIL, ...).
        """
        secure = check_secure_arg(secure)
        if media not in ("data", "fax"):
            raise ValueError(f"media must be 'data' or 'fax', not {media!r}")
        dial = validate_number(number)
        for secret in dial.secrets:         # before any log line or trace can hold it
            register_secret(secret)
        dial = dial.localised(self.location.dialable(dial.text)) \
            if dial.text.startswith("+") else dial
        caps = self.caps_required()
        build_dial_command(dial, "", caps.profile.dial_buffer)   # length check, nothing sent
        fax_class = _fax_class(caps) if media == "fax" else None
        async with self._lock:
            await self._hang_up_unowned()
            call = Call(self, self._new_call_id(), "outgoing", dial.redacted, media)
            self._claim(call)
            await self._set_up(call, secure, _SetUp(
                when="dial", dial=dial, fax_class=fax_class, timeout=DIAL_TIMEOUT,
                states=(CallState.DIALTONE, CallState.DIALING)))
            return call

    async def _set_up(self, call: Call, secure: SecureRequest, how: _SetUp) -> None:
        """The one path from an idle or offered call to CONNECTED or DISCONNECTED.

        Dialling and answering differ only in what :class:`_SetUp` says:
        secure before going off-hook (failing closed), originate, then on
        ``CONNECT`` judge the secure report as connected and publish it, or
        finish the call with the reason of the final result.  Anything that
        escapes (a cancel, a dead port) finishes the call, on-hook.
        """
        caps = self.caps_required()
        try:
            plan = plan_secure(caps, how.when, call.media, how.dial) if secure else None
            if plan is not None:
                await self._secure_before(call, plan, secure, caps)
            if how.fax_class is not None:
                await self.engine.command(f"AT+FCLASS={how.fax_class}", timeout=INIT_TIMEOUT)
                call.fax_class_set = True
            command = ("ATA" if how.dial is None else
                       build_dial_command(how.dial, plan.prefix if plan else "",
                                          caps.profile.dial_buffer))
            await self.sync_carrier_grace()
            for state in how.states:
                call.set_state(state)
            call.log.info(how.when, command=command)
            r = await self.engine.originate(command, timeout=how.timeout)
        except BaseException:
            if call.state is not CallState.DISCONNECTED:
                await call.finish(DisconnectReason.CANCELLED, hangup=True)
            raise
        if r.final is ResultCode.CONNECT:
            call.rate, call.connect_text = r.rate, r.text
            if call.secure_report is not None:
                call.secure_report = SecureReport(
                    call.call_id, how.when, secure,
                    judge(_as_applied(call.secure_report), caps, connected=True))
                self.hub.publish(Secured(call.call_id, call.secure_report))
            call.set_state(CallState.CONNECTED)
            return
        reason = reason_for_result(caps.profile.canonical_result(r.text))
        call.log.info(f"{how.when}-failed", result=r.text, reason=reason.name)
        await call.finish(reason)

    async def sync_carrier_grace(self) -> None:
        """Read S10 as it is now and give the driver the same DCD grace, so
        that a ride-through the modem performs (a call-waiting beep drops DCD
        for ~300 ms) is not cut short by the host.  Command state only: it is
        called before dialling or answering and while a call is escaped."""
        s10 = await read_setting(self.engine, Setting("S10", 0))
        if s10 is not None:
            self.engine.carrier_grace = carrier_grace(self.caps_required().s9, s10)

    async def _secure_before(self, call: Call, plan: SecurePlan, secure: SecureRequest,
                             caps: LineCaps) -> None:
        """Apply a dial/answer plan; fail closed before the modem goes off-hook."""
        results = await apply_plan(self.engine, plan, call.saved_settings)
        would_be = SecureReport(call.call_id, plan.when, secure,
                                judge(results, caps, connected=True))
        call.secure_report = would_be
        if not would_be.secured and secure is True:
            failures = await restore(self.engine, call.saved_settings)
            call.saved_settings.clear()
            call.log.info("secure-unavailable", summary=would_be.summary())
            refused = SecureReport(call.call_id, plan.when, secure,
                                   judge(results, caps, connected=False))
            await call.finish(DisconnectReason.CANCELLED, failures=failures)
            raise OperationUnavailable(
                f"no way to secure call {call.call_id} on line {self.name} "
                f"({caps.profile.name}, {self.location.code}): "
                + "; ".join(f"{m.name}: {m.reason}" for m in refused.mechanisms
                            if m.protecting), refused)

    # --- incoming ------------------------------------------------------------

    async def wait_for_call(self) -> Call:
        """Wait for the line to ring and return the OFFERING call, with caller ID.

        Caller ID arrives between the first and second ring, so after the
        first RING this waits for it (or for the second ring) before
        returning.  Bound the wait with ``asyncio.timeout``.  A line has one
        call at a time: while a call exists this raises InvalidCallState
        (a server that answers call after call uses :meth:`incoming`).
        """
        caps = self.caps_required()
        if self._call is not None:
            raise InvalidCallState(f"line {self.name} already has call {self._call.call_id}")
        caller_id = await self._rings.next_offer(caps.caller_id)
        call = Call(self, self._new_call_id(), "incoming", None, "data", caller_id)
        if caller_id is not None:
            call.number = caller_id.number
        self._claim(call)
        call.log.info("offering", caller=call.number)
        self._start_task(self._withdraw_when_rings_stop(call), name=f"{call.call_id}-offer")
        return call

    async def _withdraw_when_rings_stop(self, call: Call) -> None:
        """End an offer whose caller hung up before it was answered.

        The modem says nothing when a caller gives up: the rings just stop.
        Left OFFERING, the call would hold the line for good (probe,
        make_call and wait_for_call refuse while a call exists), so once
        no ring has come for two ring periods the offer ends as TAPI ends an
        unanswered offered call: DISCONNECTED, NOANSWER.  The line's lock
        orders this against :meth:`answer`: an answer that got the line
        first has moved the call on from OFFERING, and the offer stands.
        """
        while call.state is CallState.OFFERING:
            await self._rings.wait_rings_stop()
            async with self._lock:
                if call.state is not CallState.OFFERING:
                    return
                if self._rings.rings_stopped():
                    call.log.info("offer-withdrawn", reason="the rings stopped")
                    await call.finish(DisconnectReason.NOANSWER)
                    return

    async def incoming(self) -> AsyncGenerator[Call, None]:
        """Offered calls, one at a time, for a server that answers call after call.

        ``async for call in line.incoming():`` gets each call OFFERING, as
        :meth:`wait_for_call` returns it.  The next call is offered only once
        this one has ended: after the loop body, the iterator waits for the
        call to be DISCONNECTED (dropped by the body, or by the far end).  A
        call the body left OFFERING - neither answered nor dropped - is
        rejected, since nothing else will ever take it.  Stop with ``break``
        (or wrap the loop in ``asyncio.timeout``).
        """
        while True:
            call = await self.wait_for_call()
            yield call
            if call.state is CallState.OFFERING:
                await call.drop()
            await call.wait_disconnected()

    async def answer(self, call: Call, secure: SecureRequest, media: Media = "data") -> None:
        """Answer an OFFERING call (used by :meth:`Call.answer`); ``media="fax"``
        answers as a fax machine (the modem's fax class is set first)."""
        secure = check_secure_arg(secure)
        if media not in ("data", "fax"):
            raise ValueError(f"media must be 'data' or 'fax', not {media!r}")
        caps = self.caps_required()
        call.require(CallState.OFFERING)
        fax_class = _fax_class(caps) if media == "fax" else None
        async with self._lock:
            call.require(CallState.OFFERING)   # not withdrawn while we waited for the line
            call.media = media
            await self._set_up(call, secure, _SetUp(
                when="answer", dial=None, fax_class=fax_class, timeout=ANSWER_TIMEOUT,
                states=(CallState.PROCEEDING,)))

    # --- events ----------------------------------------------------------------

    def events(self) -> Subscription:
        """Line events from now on (state changes, rings, caller ID, call waiting).

        An async iterator; ``close()`` it to unsubscribe (closing the line ends it).
        """
        return self.hub.subscribe()

    async def _run_pump(self) -> None:
        sub = self.engine.events()
        try:
            async for ev in sub:
                self._dispatch(ev)
        finally:
            sub.close()

    def _dispatch(self, ev: object) -> None:
        call = self._call
        if isinstance(ev, Unsolicited):
            if ev.kind is UnsolicitedKind.RING:
                self._rings.on_ring(ev.fields.get("tag"))
            elif ev.kind is UnsolicitedKind.CALLER_ID:
                self._rings.on_caller_id(ev.fields)
            elif ev.kind is UnsolicitedKind.CALL_WAITING:
                self._call_waiting(call, ev.text)
            elif ev.kind is UnsolicitedKind.MESSAGE_WAITING:
                self.hub.publish(MessageWaiting(ev.fields.get("state")))
            elif ev.kind is UnsolicitedKind.RINGBACK and call is not None \
                    and call.state is CallState.DIALING:
                call.set_state(CallState.RINGBACK)
            elif ev.kind is UnsolicitedKind.CONNECT:
                self._unsolicited_connect(call, ev.text)
        elif isinstance(ev, RingIndicator):
            if ev.state and call is not None and call.state is CallState.CONNECTED:
                self._call_waiting(call, "RI during the call (+PCW=0 toggles circuit 125)")
        elif isinstance(ev, CarrierLost) and call is not None \
                and call.state is CallState.CONNECTED and not call.end_seen.is_set():
            call.end_source = ev.source
            call.end_seen.set()
            self._start_task(self.ended_under_us(call), name=f"{call.call_id}-ended")

    def _unsolicited_connect(self, call: Call | None, text: str) -> None:
        """A CONNECT no dial or answer of ours asked for: the modem answered by
        itself (S0 set by someone else, with nothing in flight or as a command
        went out) or noise read as a result code with nothing in flight.  The
        engine is now in data mode with no Call, so nothing could drop it and
        probe/make_call would fail: hang it up, and the line is idle again."""
        if call is not None and call.state is not CallState.OFFERING:
            return
        self.log.warning("unsolicited-connect", text=text)
        self._start_task(self._hang_up_unsolicited(),
                         name=f"line-{self.name}-unsolicited-connect")

    async def _hang_up_unsolicited(self) -> None:
        async with self._lock:                 # before any probe or call goes on
            await self._hang_up_unowned()

    async def _hang_up_unowned(self) -> None:
        """With the line's lock held: hang up a call the modem holds that no
        Call owns (an unsolicited CONNECT).  Also run first by :meth:`probe`
        and :meth:`make_call`: one that gets the lock before the hang-up task
        does must not fail on a call the line is about to hang up anyway."""
        if not self._unowned_call_possible():
            return
        try:
            # Noise read as CONNECT leaves the modem in command mode, where
            # the hang-up's +++ gets no OK: find out first (engine.check_online).
            if self.engine.mode is EngineMode.DATA and not await self.engine.check_online():
                self.log.info("unsolicited-connect-was-noise")
                return
            await self.engine.hangup()
        except ModemctlError as exc:
            self.log.warning("unsolicited-connect-hangup-failed", error=str(exc))

    def _unowned_call_possible(self) -> bool:
        """The modem may hold a call that no Call of ours owns."""
        call = self._call
        if call is not None and call.state is not CallState.OFFERING:
            return False                       # a call of ours owns the modem
        # Held (ONLINE_COMMAND) too: a recovery escape that ran meanwhile
        # found the modem online and left the call held.
        return self.engine.mode in (EngineMode.DATA, EngineMode.ONLINE_COMMAND)

    def _call_waiting(self, call: Call | None, source: str) -> None:
        if call is not None:
            call.call_waiting_seen += 1
        self.log.info("call-waiting-seen", source=source,
                      call_id=call.call_id if call else None)
        self.hub.publish(CallWaitingSeen(call.call_id if call else None, source))


def _fax_class(caps: LineCaps) -> str:
    """The fax class a call is made in: Class 1 first, since this project runs
    T.30 on the host (Class 2/2.0, modem-run T.30, is part 2)."""
    fclass = next((c for c in _FAX_PREFERENCE if c in caps.fax_classes), None)
    if fclass is None:
        raise OperationUnavailable(f"this modem offers no fax class ({caps.fax_classes})")
    return fclass


@dataclass(frozen=True)
class _SetUp:
    """How :meth:`Line._set_up` takes a call up: what differs between dial and answer."""

    when: Literal["dial", "answer"]
    dial: DialString | None            # None: answer with ATA
    fax_class: str | None              # +FCLASS to select first (fax calls)
    timeout: float
    states: tuple[CallState, ...]      # the states entered before originating


def _as_applied(report: SecureReport) -> list[Applied]:
    """A dial-time report's entries as apply results, to re-judge once connected."""
    return [Applied(m.name, m.applied, m.verified, m.reason, m.detail)
            for m in report.mechanisms]


@contextlib.asynccontextmanager
async def open_line(url: str, location: str | Location | None = None, time_scale: float = 1.0, *,
                    trace: bool = False, probe: bool = True, profile: str | None = None,
                    lock: bool = True, baudrate: int = 115200,
                    name: str | None = None, cancel_code: str | None = None,
                    cancel_code_pulse: str | None = None) -> AsyncIterator[Line]:
    """Open the modem at ``url`` as a line (TAPI lineOpen), probe it, yield it.

    ``location`` picks the dialing rules (cancel code) and the modem's
    country; without one the rules are the US's and the modem's country is
    left as found.  Whatever opening changed on the modem (its country,
    S-registers of the profile's init) is put back when the line closes;
    ``time_scale`` must match the fake exchange's in tests; ``trace`` logs
    every byte in and out (hex + text, secrets redacted) at DEBUG;
    ``profile`` forces a profile instead of identifying the modem.
    ``cancel_code`` (and ``cancel_code_pulse``) is the user's carrier's
    cancel-call-waiting code, used instead of the location's
    (:meth:`Location.with_cancel_code`; InvalidCancelCode before the port is
    opened); it is how ``secure=True`` works in a location that ships none.
    """
    loc = get_location(location if location is not None else DEFAULT_LOCATION)
    if cancel_code is not None or cancel_code_pulse is not None:
        loc = loc.with_cancel_code(cancel_code, cancel_code_pulse)
    forced = get_profile(profile) if profile is not None else None
    line_name = name or url.rsplit("/", 1)[-1]
    log = get_logger(line=line_name)
    engine = await Engine.open(url, time_scale=time_scale, lock=lock, baudrate=baudrate,
                               log=log, trace=trace, name=line_name)
    line = Line(engine, line_name, loc, time_scale, forced, set_country=location is not None)
    try:
        await line.start(probe=probe)
    except BaseException:
        await line.close()
        raise
    try:
        yield line
    finally:
        await line.close()
