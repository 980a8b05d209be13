"""Escape and hang-up: leaving data mode without losing track of the modem.

Why a module of its own: these are the engine's most delicate sequences.
``+++`` is only an escape with guard-time silence on both sides (S12), it
reaches the far end as data, and the modem's ``OK`` arrives behind whatever
call data is still in flight; a caller may give up half-way (cancellation),
and the modem may have left the call on its own meanwhile.  Each function
here runs under the engine's command lock and leaves the protocol core
agreeing with the modem, whatever happens: answered, timed out, cancelled or
carrier lost.  The public entry points stay on :class:`Engine`
(``escape()``, ``hangup()``, ``drop_dtr()``).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from modemctl.at import CarrierLost, ProtocolMode, Response, ResultCode
from modemctl.driver.lastbytes import last_call_bytes
from modemctl.driver.linewatch import carrier_gone
from modemctl.driver.timing import (
    DEFAULT_TIMEOUT,
    DTR_HANGUP_DROP,
    DTR_HANGUP_WAIT,
    HANGUP_CONFIRM_TIMEOUT,
    RESUME_TIMEOUT,
)
from modemctl.errors import CallLost, CommandError, CommandTimeout, ModemctlError, PortClosed

if TYPE_CHECKING:
    from modemctl.driver.engine import Engine


async def guarded_escape(engine: Engine, *, force: bool,
                         quiet_since: float | None = None) -> Response | CarrierLost | None:
    """Guard-time silence, ``+++``, and the modem's answer (held by the caller's lock).

    Returns the ``OK`` Response, CarrierLost, or None when the modem did not
    answer (the core is then back where it was).  ``force`` escapes from
    command mode too (the recovery ladder does not know where the modem is).

    The leading guard counts from ``quiet_since`` (or the last byte out,
    if later): a caller that knows the modem has been online and sent
    nothing since then (see ``Engine._quiet_since``) gets the part of the
    guard already served for free, so a hang-up after a quiet second costs
    one guard time, not two.  Without it (the ladder, which does not know
    when the modem went online) the guard counts from now.
    """
    guard = engine.guard_time
    timeout = guard * 2 + engine.scaled(DEFAULT_TIMEOUT)
    try:
        async with asyncio.timeout(timeout + guard * 2):
            await engine._transport.drain()     # the guard counts from the last byte out
    except TimeoutError:
        return None
    since = time.monotonic() if quiet_since is None \
        else max(engine._transport.last_tx, quiet_since)
    quiet_until = since + guard * 1.05
    await asyncio.sleep(max(0.0, quiet_until - time.monotonic()))
    payload = engine._core.send_escape(force=force)
    waiter = engine._new_waiter()
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        async with asyncio.timeout_at(deadline):
            await engine._send(payload)
            return await asyncio.shield(waiter)
    except TimeoutError:
        engine._core.abort_command()
        return None
    except asyncio.CancelledError:
        await _escape_cancelled(engine, waiter, deadline, force=force)
        raise
    except BaseException:
        engine._core.abort_command()
        raise
    finally:
        engine._waiter = None

async def _escape_cancelled(engine: Engine, waiter: asyncio.Future[Response | CarrierLost],
                            deadline: float, *, force: bool) -> None:
    """The caller gave up on an escape after ``+++`` may have gone out.

    The modem may still take it: wait out its answer (to the same
    deadline, still under the command lock) so the engine knows which
    state the modem is in, then undo it: a modem that escaped is taken
    back online with ``ATO``, so a cancelled escape leaves the call as it
    found it.  A recovery escape (``force``) only records what it learnt.
    Cancelled again meanwhile, the core is put back as on a timeout.
    """
    try:
        async with asyncio.timeout_at(deadline):
            result = await asyncio.shield(waiter)
    except (TimeoutError, PortClosed, asyncio.CancelledError):
        engine._core.abort_command()
        return
    finally:
        engine._waiter = None
    if isinstance(result, CarrierLost):
        engine._call_active = False
        return
    engine._call_active = True
    if force or not result.ok:
        return
    engine._log.info("escape-cancelled-resuming")
    try:
        response = await engine._exchange("ATO", engine.scaled(RESUME_TIMEOUT))
    except (ModemctlError, asyncio.CancelledError) as e:
        # Still held in online-command mode: mode says so, hangup() works.
        engine._log.warning("resume-after-cancelled-escape-failed", error=repr(e))
        return
    engine._after_response("ATO", response)


async def leave_data_mode(engine: Engine) -> None:
    """For ``hangup()``: DTR drop where it works, confirmed; else escape.

    A DTR drop proves nothing by itself (see :mod:`.porttrust`): the hang-up
    is confirmed by DCD falling where DCD is known to work, otherwise by the
    modem answering ``AT`` in command state.  DTR is learnt to work only when
    the drop ended a call: the modem was known online (a CONNECT of its own
    word), or said NO CARRIER, or DCD read high before and low after.  When the modem is found still
    online, this port's DTR is remembered as doing nothing and the guarded
    ``+++`` takes over (the ``AT`` reached the far end as data).  A modem
    that ignores ``+++`` sends the engine up the recovery ladder.
    """
    trust = engine.trust
    async with engine._lock:
        if engine._core.state.mode is ProtocolMode.COMMAND:
            # The call ended while we waited for the lock (its NO CARRIER, or
            # DCD: see lastbytes.end_on_dcd): the ATH that follows is all.
            return
        # Whether the modem is known to be online before the drop: only a
        # drop that ended a call proves DTR works (a modem already in command
        # state, behind a CONNECT that was noise or a call it left silently,
        # answers AT after any drop, DTR or no DTR).
        online = engine._call_active and engine._online_confirmed
        cd_high = trust.dcd is not False and engine.lines.cd is True
        if trust.dtr is not False and await engine.drop_dtr(DTR_HANGUP_DROP):
            if await _dtr_hung_up(engine):
                if online or engine._carrier_ended.is_set() \
                        or (cd_high and engine.lines.cd is False):
                    trust.learn("dtr", True, engine._log, "a drop hung the modem up")
                engine._core.carrier_lost()
                engine._call_active = False
                return
            # No answer to the AT: the modem stayed online, or is slow to
            # speak.  Only evidence that it is online (DCD, where known to
            # work, still high; the escape answered OK) teaches that this
            # port's DTR does nothing: a slow answer once must not cost the
            # port its DTR path for good.
            if trust.dcd is True and engine.lines.cd is True:
                trust.learn("dtr", False, engine._log, "DCD stayed high after a drop")
            if engine._core.mode is ProtocolMode.COMMAND:
                # The core was moved to command state to ask; the modem may be
                # online: escape by force, from where the core now is.
                # The modem has been online throughout: the guard counts
                # from our last byte (the AT that went to the far end).
                result = await guarded_escape(engine, force=True,
                                              quiet_since=engine._quiet_since())
                if isinstance(result, Response) and result.ok:
                    trust.learn("dtr", False, engine._log,
                                "the modem stayed online after a drop")
                    engine._call_active = True          # held: ATH follows
                    return
                if isinstance(result, CarrierLost):
                    engine._call_active = False
                    return
                await engine._recover_locked()
                return
    try:
        await engine.escape()
    except CallLost:
        pass
    except CommandTimeout:
        # The modem ignores +++: it may have left the call behind our back
        # (reboot) or be stuck; the ladder finds out which.
        async with engine._lock:
            await engine._recover_locked()


async def _dtr_hung_up(engine: Engine) -> bool:
    """After a DTR drop (lock held): is the modem on-hook in command state?

    DCD falling (where it works) says so at once; otherwise the modem is
    asked (a NO CARRIER seen in data mode is no proof: it may be the far
    end's data).  A modem that answers while DCD stays high shows a DCD stuck
    high (``&C0``, a cable that ties it): it is not believed from then on.
    Either way only once the call's last bytes are in (:mod:`.lastbytes`).
    """
    trust = engine.trust
    await last_call_bytes(engine)
    if trust.dcd is True and await carrier_gone(engine.lines, engine.url,
                                                engine.scaled(DTR_HANGUP_WAIT)):
        return True
    engine._core.carrier_lost()             # ask in command state
    drifted = engine._format_drifted
    try:
        response = await engine._exchange("AT", engine.scaled(HANGUP_CONFIRM_TIMEOUT))
    except CommandTimeout:
        # Still online: whatever came back was the far end's, and the core
        # must not keep what it learnt from it (an echo of our AT looped
        # back by the far end is not the modem's echo going on).
        engine._core.reset()
        engine._format_drifted = drifted
        return False
    except CommandError:
        return True                          # ERROR is a command-state answer too
    # OK, or the NO CARRIER of the drop itself arriving as the answer: either
    # way the modem speaks command state.
    on_hook = response.final in (ResultCode.OK, ResultCode.NO_CARRIER)
    if on_hook and trust.dcd is True and engine.lines.cd is True:
        trust.learn("dcd", False, engine._log, "high after a confirmed hang-up")
    return on_hook
