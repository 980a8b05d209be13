"""One call on a line: its state, data, securing and tear-down.

A call owns the modem while it exists: the line refuses a second call, and
nothing but this call sends AT commands (and during CONNECTED nothing sends
any, except :meth:`Call.secure` in online-command state).  Every way a call
ends - our drop, the far end hanging up, carrier loss, a failed set-up -
goes through :meth:`Call.finish`, which restores the settings securing
changed and publishes the final state exactly once.

The call and its line know each other only through typed, public faces:
the line drives a call with :meth:`Call.set_state`, :meth:`Call.require`,
:meth:`Call.finish` and the two records securing keeps
(:attr:`Call.saved_settings`, :attr:`Call.fax_class_set`); the call needs
of its line only :class:`CallOwner`.  Neither imports the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal, Protocol, TypeVar

from modemctl.at import ResultCode
from modemctl.at.events import CarrierSource
from modemctl.driver import Engine, EngineMode
from modemctl.errors import (
    CallLost,
    CommandError,
    CommandTimeout,
    InvalidCallState,
    ModemctlError,
    OperationFailed,
    OperationUnavailable,
)
from modemctl.line.caps import LineCaps
from modemctl.line.events import CallerId, EventHub, Secured, StateChanged
from modemctl.line.report import SecureReport
from modemctl.line.secure import (
    Media,
    apply_plan,
    judge,
    not_applied,
    parse_value,
    plan_secure,
    restore,
)
from modemctl.line.states import CallState, DisconnectReason, check_transition
from modemctl.log import Logger

T = TypeVar("T")

SecureRequest = bool | Literal["best-effort"]
Direction = Literal["outgoing", "incoming"]


class CallOwner(Protocol):
    """What a call needs of its line (:class:`~modemctl.line.Line` is one)."""

    engine: Engine
    hub: EventHub
    log: Logger

    def caps_required(self) -> LineCaps:
        """The line's probed caps."""

    async def sync_carrier_grace(self) -> None:
        """Give the driver the DCD grace of the modem's S10 as it is now."""

    async def answer(self, call: Call, secure: SecureRequest, media: Media = "data") -> None:
        """Take an offered call up."""

    async def ended_under_us(self, call: Call) -> None:
        """Finish a call the modem ended."""

    def call_ended(self, call: Call) -> None:
        """The call is DISCONNECTED: the line is free."""


def check_secure_arg(secure: object) -> SecureRequest:
    """Validate a ``secure=`` argument (True, False or "best-effort")."""
    if isinstance(secure, bool):
        return secure
    if secure == "best-effort":
        return "best-effort"
    raise ValueError(f"secure must be True, False or 'best-effort', not {secure!r}")


class Call:
    """A data or fax call (TAPI's HCALL), outgoing or incoming."""

    def __init__(self, line: CallOwner, call_id: str, direction: Direction, number: str | None,
                 media: Media, caller_id: CallerId | None = None) -> None:
        self._line = line
        self.call_id = call_id
        self.direction: Direction = direction
        self.number = number
        self.media: Media = media
        self.caller_id = caller_id
        self.state = CallState.IDLE if direction == "outgoing" else CallState.OFFERING
        self.disconnect_reason: DisconnectReason | None = None
        self.secure_report: SecureReport | None = None
        self.rate: int | None = None
        self.connect_text: str | None = None
        self.call_waiting_seen = 0
        self.restore_failures: tuple[str, ...] = ()
        #: Settings securing changed, with their values before: put back at the end.
        self.saved_settings: dict[str, int] = {}
        #: The line selected a fax class for this call: +FCLASS=0 at the end.
        self.fax_class_set = False
        self._finish_lock = asyncio.Lock()
        self._secure_lock = asyncio.Lock()
        self._online = asyncio.Event()      # clear while secure() holds the call
        self._online.set()
        self._drained = False
        self.end_seen = asyncio.Event()       # the engine reported the end (CarrierLost)
        self.end_source: CarrierSource | None = None
        self._ended = asyncio.Event()
        self.log: Logger = line.log.bind(call_id=call_id)

    def __repr__(self) -> str:
        return f"<Call {self.call_id} {self.direction} {self.state.name}>"

    # --- state --------------------------------------------------------------

    def set_state(self, new: CallState, reason: DisconnectReason | None = None) -> None:
        """Move the call to ``new`` (by the table in ``states.py``) and publish it.

        Driven by the line while it takes the call up; a call ends only
        through :meth:`finish`.
        """
        old = self.state
        if old is new:
            return
        check_transition(self.call_id, old, new)
        self.state = new
        if reason is not None:
            self.disconnect_reason = reason
        self.log.info("call-state", old=old.name, new=new.name,
                      reason=reason.name if reason else None)
        self._line.hub.publish(StateChanged(self.call_id, old, new, reason))

    def require(self, *states: CallState) -> None:
        """Raise InvalidCallState unless the call is in one of ``states``."""
        if self.state not in states:
            names = "/".join(s.name for s in states)
            raise InvalidCallState(f"call {self.call_id} is {self.state.name}, needs {names}")

    async def wait_disconnected(self) -> DisconnectReason:
        """Wait until the call has ended; returns the reason (bound it with asyncio.timeout)."""
        await self._ended.wait()
        assert self.disconnect_reason is not None
        return self.disconnect_reason

    # --- data ---------------------------------------------------------------

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the far end (CONNECTED only).

        While :meth:`secure` holds the call in online-command state, writers
        wait for it to go back online instead of failing.
        """
        self.require(CallState.CONNECTED)
        while True:
            await self._online.wait()
            self.require(CallState.CONNECTED)
            try:
                await self._line.engine.write(data)
                return
            except InvalidCallState:
                if not self._online.is_set():
                    continue            # secure() escaped meanwhile: wait and retry
                # The engine left data mode under us: the carrier is gone.
                await self._line.ended_under_us(self)
                raise

    async def read(self, n: int = 4096) -> bytes:
        """Up to ``n`` bytes from the far end; ``b""`` once the call has ended.

        Data already received is returned even after the call ended, so
        nothing the far end sent before hanging up is lost.
        """
        if self.state is CallState.DISCONNECTED and self._drained:
            return b""
        self.require(CallState.CONNECTED, CallState.DISCONNECTED)
        while True:
            await self._online.wait()
            try:
                data = await self._line.engine.read(n)
                break
            except InvalidCallState:
                if not self._online.is_set():
                    continue            # held by secure(): wait for ATO
                data = b""
                break
        if not data:
            self._drained = True
            await self._line.ended_under_us(self)
        return data

    # --- securing -------------------------------------------------------------

    async def secure(self, mode: SecureRequest = True) -> SecureReport:
        """Secure a connected call against call waiting (TAPI lineSecureCall).

        Escapes to online-command state with guard times, applies what can
        be applied mid-call (never a dialled code), reads each value back,
        returns online with ``ATO`` and confirms ``CONNECT``.  A call already
        secured returns its report unchanged.  If nothing can protect the
        call, raises :class:`OperationUnavailable` (with the report) unless
        ``mode="best-effort"``, in which case the report says what is in
        force.  Note: the escape sequence ``+++`` reaches the far end as data.
        """
        mode = check_secure_arg(mode)
        if mode is False:
            raise ValueError("secure(False) has nothing to do")
        async with self._secure_lock:          # one escape at a time
            return await self._secure(mode)

    async def _secure(self, mode: SecureRequest) -> SecureReport:
        self.require(CallState.CONNECTED)
        if self.secure_report is not None and self.secure_report.secured:
            return self.secure_report
        caps = self._line.caps_required()
        plan = plan_secure(caps, "connected", self.media)
        previous = self.secure_report.mechanisms if self.secure_report else ()
        if self.media == "fax" or not plan.can_protect:
            why = ("securing a fax session mid-call is not supported: T.30 timing leaves no "
                   "safe point for an escape") if self.media == "fax" else None
            report = SecureReport(self.call_id, "connected", mode,
                                  judge(not_applied(plan, why), caps, True, previous))
            self.secure_report = report
            self.log.info("secure-unavailable", summary=report.summary())
            if mode is True:
                raise OperationUnavailable(
                    f"call {self.call_id} cannot be secured after connect on this line: "
                    + "; ".join(m.reason for m in report.mechanisms if not m.in_force), report)
            return report

        async def secure_offline(engine: Engine) -> SecureReport:
            results = await apply_plan(engine, plan, self.saved_settings)
            await self._line.sync_carrier_grace()
            # Recorded before going back online: a call lost on the way still
            # reports what was applied (and finish() restores it).
            self.secure_report = SecureReport(
                self.call_id, "connected", mode, judge(results, caps, True, previous),
                ("the escape sequence +++ reached the far end as data",))
            return self.secure_report

        report = await self._offline("securing it", secure_offline)
        self.log.info("secured", summary=report.summary())
        self._line.hub.publish(Secured(self.call_id, report))
        if not report.secured and mode is True:
            raise OperationUnavailable(
                f"call {self.call_id}: no securing mechanism took effect", report)
        return report

    async def _offline(self, doing: str, work: Callable[[Engine], Awaitable[T]]) -> T:
        """Escape to online-command mode, run ``work``, and go back online: the
        one way a connected call's settings change.  A call lost on the way is
        finished (CARRIERLOST) and reported as OperationFailed naming ``doing``;
        the modem's ``+++`` reaches the far end as data."""
        engine = self._line.engine
        self._online.clear()
        try:
            try:
                await engine.escape()
            except CallLost as exc:
                await self.finish(DisconnectReason.CARRIERLOST)
                raise OperationFailed(f"call {self.call_id} was lost while escaping "
                                      f"before {doing}: {exc}") from exc
            try:
                result = await work(engine)
            finally:
                try:
                    resumed = await engine.resume()
                except (CallLost, InvalidCallState) as exc:
                    await self.finish(DisconnectReason.CARRIERLOST)
                    raise OperationFailed(f"call {self.call_id} was lost while {doing}: "
                                          f"{exc}") from exc
        finally:
            self._online.set()
        if resumed.final is not ResultCode.CONNECT:
            await self.finish(DisconnectReason.CARRIERLOST)
            raise OperationFailed(f"call {self.call_id} was lost while {doing} ({resumed.text})")
        return result

    async def disable_escape(self) -> None:
        """Make the modem deaf to its ``+++`` escape for the rest of the call.

        Encrypted data is random, so it will sooner or later contain the
        escape sequence; with S2 above 127 the modem ignores it (Hayes: "the
        operation of the DTR circuit can still be used").  S2 goes back to its
        old value when the call ends, like every setting securing changes.
        Costs one guarded escape (``+++`` reaches the far end as data).
        """
        async def s2_offline(engine: Engine) -> None:
            r = await engine.command("ATS2?", timeout=5.0)
            before = parse_value("S2", r.info)
            if before is not None and before <= 127 and "S2" not in self.saved_settings:
                self.saved_settings["S2"] = before
            if before is None or before <= 127:
                await engine.command("ATS2=128", timeout=5.0)

        async with self._secure_lock:
            self.require(CallState.CONNECTED)
            await self._offline("setting S2", s2_offline)
            self.log.info("escape-disabled", s2_before=self.saved_settings.get("S2"))

    async def answer(self, secure: SecureRequest = False, media: Media = "data") -> None:
        """Answer an offered call (TAPI lineAnswer), secured as asked before ``ATA``.

        At answer time no cancel code can be dialled, so ``secure=True``
        relies on the modem's own settings (+PCW=2, S10 ride-through) and
        raises OperationUnavailable before answering when there are none
        (always, for a fax call: neither acts on one).  ``media="fax"``
        answers as a fax machine (Class 1: the modem sends CED, then V.21).
        """
        if self.direction != "incoming":
            raise InvalidCallState(f"call {self.call_id} is outgoing; only offered calls answer")
        await self._line.answer(self, secure, media)

    # --- ending -------------------------------------------------------------

    async def drop(self) -> None:
        """Hang up (TAPI lineDrop).  Dropping an ended call does nothing.

        The call is reported ended only once the modem is on-hook (the
        engine confirms its hang-up); a modem that cannot be made to leave
        the call raises :class:`OperationFailed` and the call stays up, so
        ``drop()`` may be tried again.  A port that is gone ends the call.
        """
        if self.state is CallState.DISCONNECTED:
            return
        if self.state is CallState.OFFERING:
            await self.finish(DisconnectReason.REJECT, hangup=False)
            return
        try:
            await self._hang_up()
        except ModemctlError as exc:
            if self._line.engine.mode is not EngineMode.CLOSED:
                self.log.warning("drop-failed", error=str(exc))
                raise OperationFailed(f"call {self.call_id}: the modem did not hang up "
                                      f"({exc}); the call is still up") from exc
        await self.finish(DisconnectReason.NORMAL, hangup=False)

    async def _hang_up(self) -> None:
        """Go on-hook; if the engine's hang-up trips over a call that ended under
        it meanwhile, make sure with a plain ``ATH`` from command state."""
        engine = self._line.engine
        try:
            await engine.hangup()
        except ModemctlError as exc:
            self.log.info("hangup-retry", error=str(exc))
            if engine.mode is EngineMode.COMMAND:
                await engine.command("ATH", timeout=5.0)

    async def finish(self, reason: DisconnectReason, hangup: bool = False,
                      failures: Sequence[str] = ()) -> None:
        """End the call once: hang up if asked, restore settings, publish.

        ``failures`` are what already went wrong ending it (reported with
        the restore failures in :attr:`restore_failures`).
        """
        async with self._finish_lock:
            if self.state is CallState.DISCONNECTED:
                return
            try:
                failures = [*failures, *await self._tear_down(hangup)]
                self.restore_failures = tuple(failures)
                if failures:
                    self.log.warning("restore-failed", failures=failures)
                elif self.saved_settings:
                    self.log.info("restored", registers=dict(self.saved_settings))
            finally:
                # Whatever the modem did, the call is over for the caller.
                self.set_state(CallState.DISCONNECTED, reason)
                self._ended.set()
                self._line.call_ended(self)

    async def _tear_down(self, hangup: bool) -> list[str]:
        """Hang up if asked and put back every setting; returns what failed."""
        engine = self._line.engine
        failures: list[str] = []
        try:
            if hangup:
                await self._hang_up()
            failures += await restore(engine, self.saved_settings)
            if self.fax_class_set:
                try:
                    await engine.command("AT+FCLASS=0", timeout=5.0)
                except (CommandError, CommandTimeout) as exc:
                    failures.append(f"+FCLASS=0: {exc}")
        except ModemctlError as exc:
            failures.append(f"modem: {exc}")
        return failures

