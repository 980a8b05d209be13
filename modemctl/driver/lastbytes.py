"""The call's last bytes: leaving data mode on an out-of-band signal.

Why a module of its own: every path that moves the protocol core from a
call's data to command mode because of a *line* (DTR dropped by us, DCD
fallen) must wait for the same thing, and in one way.  The lines are out
of band: they are seen at once, while the bytes the modem sent before the
call ended may still be on their way (the port's buffers; an RFC 2217
client can hold a few hundred KiB queued behind the notification that DCD
fell).  Read in command mode, those bytes would be taken for results (a
``0\\r`` in the data for the ``OK`` of the ``ATH`` that follows, ``1\\r``
for a CONNECT, ``2\\r`` for a RING), and the modem's real answers would
then answer the wrong commands.  So the core stays where it is (data, or a
fax carrier) until the modem's own last word, or until the input has been
quiet for :data:`HANGUP_QUIET`, at most :data:`HANGUP_DRAIN_WAIT`.

What happens to those bytes is not decided here: in a hang-up of ours the
engine discards them (nobody will read them); when the far end ended the
call (DCD) they are the far end's last data and go to the call's reader.

Users: :func:`modemctl.driver.escape.leave_data_mode` (DTR hang-up),
``Engine._leave_fax_carrier`` (DTR hang-up of a fax carrier),
:func:`end_on_dcd` (the line watch declared the carrier lost) and the
recovery ladder's rungs (:mod:`modemctl.driver.rungs`), which move the core
to command state on no word from the modem at all.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from modemctl.at import CarrierLost, Response, State
from modemctl.driver.timing import HANGUP_DRAIN_WAIT, HANGUP_QUIET

if TYPE_CHECKING:
    from modemctl.driver.engine import Engine


async def last_call_bytes(engine: Engine) -> None:
    """Wait (command lock held) until the call's last bytes are in.

    Ends when the core is idle by what it read (``NO CARRIER`` in a data
    call, which a ``&D2`` modem sends after the last of the data; the final
    of a fax carrier command, after its DLE ETX), or when nothing has been
    read for :data:`HANGUP_QUIET` (a modem that says nothing, or answers in
    numeric form, where ``3\\r`` is data), at most :data:`HANGUP_DRAIN_WAIT`.
    The waiter also keeps the engine reading past back-pressure: the end is
    behind whatever data is queued.
    """
    if engine._core.state is State.IDLE:
        return                              # its last word is in already
    waiter = engine._new_waiter()           # resolved by NO CARRIER or the carrier's final
    try:
        await _until_quiet(engine, waiter)
    finally:
        engine._waiter = None
        if waiter.done() and not waiter.cancelled():
            waiter.exception()              # a failed port is the next step's to report


async def quiet_input(engine: Engine) -> None:
    """Wait (command lock held) until nothing has been read for
    :data:`HANGUP_QUIET`, at most :data:`HANGUP_DRAIN_WAIT`.

    For the recovery ladder, after a step that may have ended a call the
    core already takes for over (it was moved to command state with no word
    from the modem: a DTR drop after a failed ``+++``, a reopened port): the
    call's last bytes are then read as lines, with no command in flight for
    them to answer, before the ladder sends its next command.
    """
    await _until_quiet(engine, None)


async def _until_quiet(engine: Engine,
                       waiter: asyncio.Future[Response | CarrierLost] | None) -> None:
    """Until ``waiter`` is done, or the input has been quiet for HANGUP_QUIET
    (at most HANGUP_DRAIN_WAIT).  Past back-pressure: a waiter releases it."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + engine.scaled(HANGUP_DRAIN_WAIT)
    while waiter is None or not waiter.done():
        until = min(deadline, max(engine._last_rx, started) + HANGUP_QUIET)
        if loop.time() >= until:
            return
        if waiter is None:
            await asyncio.sleep(until - loop.time())
        else:
            await asyncio.wait((waiter,), timeout=until - loop.time())


async def end_on_dcd(engine: Engine, online_since: float) -> None:
    """The line watch declared the carrier lost (DCD low beyond the grace)
    in the call that came up at ``online_since``: end it once its last bytes
    are in, then publish the loss.

    Until then the core stays in data mode and what arrives is call data
    for the reader (or discarded, if a hang-up of ours started meanwhile);
    writes wait for the end and are refused (see ``Engine.write``).  Under
    the command lock, so no escape or hang-up is half-way through; a
    hang-up that ran first, or a new call, leaves nothing to do.
    """
    async with engine._lock:
        try:
            if engine._call_active and engine._online_since == online_since:
                await last_call_bytes(engine)
        finally:
            # Even when cancelled (close): DCD said the carrier is gone.
            was_active = engine._call_active and engine._online_since == online_since
            if was_active:
                engine._core.carrier_lost()
                engine._dispatch()          # the bytes it held back, as call data
                engine._call_active = False
                engine._stream.wake()
    if was_active and not engine._hanging_up:
        engine._log.info("carrier-lost", source="dcd", during_call=True, own_hangup=False)
        engine._publish(CarrierLost("DCD dropped", source="dcd"))
