"""After a CONNECT nobody asked for: is a call really up, or was it noise?

Why: an unsolicited ``CONNECT`` puts the AT core ONLINE, and it is one of
two things that look the same on the wire.  Either the modem answered a call
by itself (someone set S0): it is online and must be hung up.  Or line noise
read as ``CONNECT 33600``: the modem is still in command mode.  Hanging the
second up the usual way is correct but slow: the guarded ``+++`` gets no
``OK`` from a modem in command mode, and the line is idle only after the
recovery ladder's resync (about 8 s at real time on a pty).  So the engine
first finds out, cheaply, and the hang-up only runs for a real call:

* On a port whose DCD has been seen to work (:mod:`.porttrust`), DCD decides:
  a modem online holds it high (``&C1``); low (after a short wait, should
  the status report lag behind the bytes) means no call, and the core goes
  back to IDLE through the table's ``CONNECT_REFUTED``.  Nothing is sent.
* Otherwise (a pty, DCD not known yet, or dead) the engine sends ``AT``
  and waits a little for ``OK``, the core in CHECKING (data until ``OK``,
  as in an escape).  A modem in command mode echoes it (read as data and
  dropped) and answers ``OK``: noise, the core is IDLE.  A modem online
  sends the ``AT`` to the caller it took as call data (harmless: three bytes
  to a call about to be hung up) and answers nothing: the core goes back to
  ONLINE and the hang-up follows.  Its guarded escape counts its leading
  guard time from the ``AT``, so the check's wait (half a second against
  S12's default second) is served inside it: a real call is hung up no
  later than without the check (2.06 s at real time on a pty, both).  A
  caller whose data happens to hold ``\\r\\nOK\\r\\n`` at that moment would
  be taken for noise; the next command then times out and the ladder's
  escape rung finds the call (held), as before this check existed.

The core's state table (:mod:`modemctl.at.state`) stays the single source of
transitions: this module only feeds it ``CHECK_ONLINE``, ``ABORT`` and
``CONNECT_REFUTED``, under the engine's command lock.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from modemctl.at import CarrierLost, State
from modemctl.driver.linewatch import LINE_POLL, reads_block
from modemctl.driver.timing import CARRIER_RISE_WAIT, CHECK_ONLINE_WAIT

if TYPE_CHECKING:
    from modemctl.driver.engine import Engine


async def check_online(engine: Engine) -> bool:
    """True when a call is up (the engine stays in DATA mode); False when the
    unsolicited CONNECT was noise (the engine is now in COMMAND mode).

    For a core ONLINE on an unsolicited CONNECT only; in any other state
    nothing is done and the answer is whether the engine holds a call.
    """
    async with engine._lock:
        core = engine._core
        if core.state is not State.ONLINE:
            return engine._call_active
        if engine.trust.dcd is True:
            if await _carrier_present(engine):
                engine._online_confirmed = True
                return True
            engine._log.info("unsolicited-connect-refuted", by="dcd")
            core.refute_connect()
        else:
            if await _still_online_after_at(engine):
                engine._online_confirmed = True
                return True
            engine._log.info("unsolicited-connect-refuted", by="at")
        engine._call_active = False
        engine._stream.discard()            # an echoed AT, or noise read as call data
        engine._dispatch()                  # what the modem said after it, as lines
        return False


async def _carrier_present(engine: Engine) -> bool:
    """DCD high now, or within :data:`CARRIER_RISE_WAIT` (sampled)."""
    lines = engine.lines
    blocking = reads_block(engine.url)

    async def cd() -> bool | None:
        return await asyncio.to_thread(lambda: lines.cd) if blocking else lines.cd

    loop = asyncio.get_running_loop()
    deadline = loop.time() + engine.scaled(CARRIER_RISE_WAIT)
    # DCD has no change notification to await here: sampled.
    while (level := await cd()) is False and loop.time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(LINE_POLL / 5)
    return level is not False


async def _still_online_after_at(engine: Engine) -> bool:
    """``AT`` → ``OK`` within :data:`CHECK_ONLINE_WAIT`: False (command mode).
    Silence: True, the core back ONLINE.  NO CARRIER: False, the call ended."""
    core = engine._core
    payload = core.check_online()
    waiter = engine._new_waiter()
    try:
        async with asyncio.timeout(engine.scaled(CHECK_ONLINE_WAIT)):
            await engine._send(payload)
            result = await asyncio.shield(waiter)
    except TimeoutError:
        if core.state is not State.CHECKING:
            return False                    # answered as the deadline passed
        core.abort_command()                # CHECKING → ONLINE: the AT went to a caller
        return True
    except BaseException:
        if core.state is State.CHECKING:
            core.abort_command()            # as found: ONLINE
        raise
    finally:
        engine._waiter = None
    if isinstance(result, CarrierLost):
        engine._log.info("unsolicited-call-ended-while-checked")
    return False
