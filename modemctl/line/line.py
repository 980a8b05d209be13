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
from collections.abc import AsyncIterator
from typing import Any, cast

from modemctl.at import (
    CarrierLost,
    NumericFamily,
    ResultCode,
    RingIndicator,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.driver import Engine
from modemctl.errors import (
    CommandError,
    CommandTimeout,
    InvalidCallState,
    OperationUnavailable,
)
from modemctl.line.call import Call, SecureRequest, check_secure_arg
from modemctl.line.caps import LineCaps
from modemctl.line.dialstring import DialString, build_dial_command, validate_number
from modemctl.line.events import (
    CallWaitingSeen,
    EventHub,
    MessageWaiting,
    Secured,
    Subscription,
)
from modemctl.line.probe import build_caps, confirm_country, gather
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
from modemctl.log import get_logger, register_secret
from modemctl.profiles import Profile, get_profile

#: Nominal (protocol) seconds; the engine scales them by time_scale.
DIAL_TIMEOUT = 120.0
ANSWER_TIMEOUT = 90.0
INIT_TIMEOUT = 5.0
#: Real seconds to wait for the evidence of why a call ended (see ended_under_us).
END_EVIDENCE_WAIT = 0.12

_FAX_PREFERENCE = ("1", "1.0", "2.0", "2")


class Line:
    """An open modem line.  Create with :func:`open_line`."""

    def __init__(self, engine: Engine, name: str, location: Location, time_scale: float,
                 profile: Profile | None = None) -> None:
        self.engine = engine
        self.name = name
        self.location = location
        self.time_scale = time_scale
        self.log: Any = get_logger(line=name)
        self.hub = EventHub()
        self.caps: LineCaps | None = None
        self._forced_profile = profile
        self._call: Call | None = None
        self._ids = itertools.count(1)
        self._rings = RingWatch(self.hub, time_scale)
        self._pump: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- life cycle ------------------------------------------------------------

    async def start(self, probe: bool = True) -> None:
        """Start listening for events and (by default) probe and initialise."""
        self._pump = asyncio.create_task(self._run_pump(), name=f"line-{self.name}-events")
        if probe:
            await self.probe()

    async def close(self) -> None:
        """Drop any call, stop listening, close the engine."""
        try:
            if self._call is not None:
                await self._call.drop()
        finally:
            for task in (self._pump, *self._tasks):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            self.hub.close()
            await self.engine.close()

    # --- probe ---------------------------------------------------------------

    async def probe(self) -> LineCaps:
        """Identify the modem, initialise it from its profile, fill :attr:`caps`."""
        if self._call is not None:
            raise InvalidCallState("cannot probe while a call exists")
        async with self._lock:
            await self._send("ATE0Q0V1", required=True)   # quiet, verbose: clean answers
            answers = await gather(self.engine)
            first = build_caps(answers, self.location, None, False, profile=self._forced_profile)
            profile = first.profile
            notes: list[str] = []
            for cmd in profile.init:
                await self._send("AT" + cmd, required=True)
            for cmd in profile.init_optional:
                if not await self._send("AT" + cmd, required=False):
                    notes.append(f"optional init AT{cmd} refused")
            caller_id = False
            if profile.caller_id:
                caller_id = await self._send("AT" + profile.caller_id, required=False)
                if not caller_id:
                    notes.append(f"AT{profile.caller_id} refused: no caller ID on this line")
            country, note = await confirm_country(self.engine, profile, self.location)
            notes.append(note)
            # The engine's escape guard time must be the modem's, whatever it is set to.
            s12 = await read_setting(self.engine, Setting("S12", 0))
            if s12 is not None:
                self.engine.s12 = s12
            self.engine.numeric_family = cast(NumericFamily, profile.numeric_codes)
            self.caps = build_caps(answers, self.location, country, caller_id, notes,
                                   profile=self._forced_profile,
                                   has_dcd=self.engine.lines.cd is not None)
            self.log.info("probed", profile=self.caps.profile.name,
                          identified=self.caps.identified, v92=self.caps.v92,
                          at_dial=self.caps.secure_at_dial,
                          after_connect=self.caps.secure_after_connect)
            return self.caps

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
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(END_EVIDENCE_WAIT):
                await call.end_seen.wait()
        if self.engine.lines.ri is not None:
            await asyncio.sleep(END_EVIDENCE_WAIT)
        if call.end_source == "dcd":
            # The modem may still wait for the carrier (long S10): &D2 hangs it up.
            await self.engine.drop_dtr()
        await call._finish(self.remote_end_reason(call))

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
        if media == "fax" and not any(c in caps.fax_classes for c in _FAX_PREFERENCE):
            raise OperationUnavailable(f"this modem offers no fax class ({caps.fax_classes})")
        async with self._lock:
            call = Call(self, self._new_call_id(), "outgoing", dial.redacted, media)
            self._claim(call)
            try:
                return await self._dial(call, dial, secure, media, caps)
            except BaseException:
                if call.state is not CallState.DISCONNECTED:
                    await call._finish(DisconnectReason.CANCELLED, hangup=True)
                raise

    async def _dial(self, call: Call, dial: DialString, secure: SecureRequest, media: Media,
                    caps: LineCaps) -> Call:
        plan: SecurePlan | None = None
        if secure:
            plan = plan_secure(caps, "dial", media, dial)
            await self._secure_before(call, plan, secure, caps)
        if media == "fax":
            fclass = next(c for c in _FAX_PREFERENCE if c in caps.fax_classes)
            await self.engine.command(f"AT+FCLASS={fclass}", timeout=INIT_TIMEOUT)
            call._fax_class_set = True
        command = build_dial_command(dial, plan.prefix if plan else "", caps.profile.dial_buffer)
        await self.sync_carrier_grace()
        call._set_state(CallState.DIALTONE)
        call._set_state(CallState.DIALING)
        call.log.info("dial", command=command)
        r = await self.engine.originate(command, timeout=DIAL_TIMEOUT)
        if r.final is ResultCode.CONNECT:
            call.rate, call.connect_text = r.rate, r.text
            if call.secure_report is not None:
                call.secure_report = SecureReport(
                    call.call_id, "dial", secure,
                    judge(_as_applied(call.secure_report), caps, connected=True))
                self.hub.publish(Secured(call.call_id, call.secure_report))
            call._set_state(CallState.CONNECTED)
            return call
        reason = reason_for_result(caps.profile.canonical_result(r.text))
        call.log.info("dial-failed", result=r.text, reason=reason.name)
        await call._finish(reason)
        return call

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
        results = await apply_plan(self.engine, plan, call._saved)
        would_be = SecureReport(call.call_id, plan.when, secure,
                                judge(results, caps, connected=True))
        call.secure_report = would_be
        if not would_be.secured and secure is True:
            failures = await restore(self.engine, call._saved)
            call._saved.clear()
            call.restore_failures = tuple(failures)
            call.log.info("secure-unavailable", summary=would_be.summary())
            refused = SecureReport(call.call_id, plan.when, secure,
                                   judge(results, caps, connected=False))
            await call._finish(DisconnectReason.CANCELLED)
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
        returning.  Bound the wait with ``asyncio.timeout``.
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
        return call

    async def answer(self, call: Call, secure: SecureRequest) -> None:
        """Answer an OFFERING call (used by :meth:`Call.answer`)."""
        secure = check_secure_arg(secure)
        caps = self.caps_required()
        call._require(CallState.OFFERING)
        async with self._lock:
            try:
                if secure:
                    await self._secure_before(call, plan_secure(caps, "answer"), secure, caps)
                await self.sync_carrier_grace()
                call._set_state(CallState.PROCEEDING)
                r = await self.engine.originate("ATA", timeout=ANSWER_TIMEOUT)
            except BaseException:
                if call.state is not CallState.DISCONNECTED:
                    await call._finish(DisconnectReason.CANCELLED, hangup=True)
                raise
            if r.final is ResultCode.CONNECT:
                call.rate, call.connect_text = r.rate, r.text
                if call.secure_report is not None:
                    self.hub.publish(Secured(call.call_id, call.secure_report))
                call._set_state(CallState.CONNECTED)
                return
            await call._finish(reason_for_result(caps.profile.canonical_result(r.text)))

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
                call._set_state(CallState.RINGBACK)
        elif isinstance(ev, RingIndicator):
            if ev.state and call is not None and call.state is CallState.CONNECTED:
                self._call_waiting(call, "RI during the call (+PCW=0 toggles circuit 125)")
        elif isinstance(ev, CarrierLost) and call is not None \
                and call.state is CallState.CONNECTED and not call.end_seen.is_set():
            call.end_source = ev.source
            call.end_seen.set()
            task = asyncio.get_running_loop().create_task(
                self.ended_under_us(call), name=f"{call.call_id}-ended")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _call_waiting(self, call: Call | None, source: str) -> None:
        if call is not None:
            call.call_waiting_seen += 1
        self.log.info("call-waiting-seen", source=source,
                      call_id=call.call_id if call else None)
        self.hub.publish(CallWaitingSeen(call.call_id if call else None, source))


def _as_applied(report: SecureReport) -> list[Applied]:
    """A dial-time report's entries as apply results, to re-judge once connected."""
    return [Applied(m.name, m.applied, m.verified, m.reason, m.detail)
            for m in report.mechanisms]


@contextlib.asynccontextmanager
async def open_line(url: str, location: str | Location = "US", time_scale: float = 1.0, *,
                    trace: bool = False, probe: bool = True, profile: str | None = None,
                    lock: bool = True, baudrate: int = 115200,
                    name: str | None = None) -> AsyncIterator[Line]:
    """Open the modem at ``url`` as a line (TAPI lineOpen), probe it, yield it.

    ``location`` picks the dialing rules (cancel code, modem country);
    ``time_scale`` must match the fake exchange's in tests; ``trace`` logs
    every byte in and out (hex + text, secrets redacted) at DEBUG;
    ``profile`` forces a profile instead of identifying the modem.
    """
    loc = get_location(location)
    forced = get_profile(profile) if profile is not None else None
    line_name = name or url.rsplit("/", 1)[-1]
    log = get_logger(line=line_name)
    engine = await Engine.open(url, time_scale=time_scale, lock=lock, baudrate=baudrate,
                               log=log, trace=trace, name=line_name)
    line = Line(engine, line_name, loc, time_scale, forced)
    try:
        await line.start(probe=probe)
    except BaseException:
        await line.close()
        raise
    try:
        yield line
    finally:
        await line.close()
