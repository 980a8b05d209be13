"""DTR is learnt to work only from a drop that ended a call (issue 7).

A modem in command state answers ``AT`` with ``OK`` after a DTR drop
whether or not the port's DTR reaches it, so such a drop proves nothing.
Learning "DTR works" from it (as the hang-up did) makes a port whose DTR is
dead (ser2net ``local``, a three-wire cable) trusted: later hang-ups then
drop DTR on a call that stays up.  The port here is scripted in memory.
"""

from __future__ import annotations

import asyncio

from modemctl.at import ResultCode
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.log import get_logger
from tests.driver.test_hangup_backlog import SCALE, BackloggedPort, _unused_reopen


async def _engine(port: BackloggedPort) -> Engine:
    return Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="dtr-learning"),
                  reopen=_unused_reopen, trust=PortTrust())


async def test_a_drop_on_a_modem_in_command_state_teaches_nothing() -> None:
    """Noise read as ``CONNECT`` puts the engine in data mode while the modem
    stays in command state; hanging that "call" up drops DTR, and the modem
    answers ``AT``: DTR is still not known to work."""
    port = BackloggedPort(says_no_carrier=False, backlog=b"")
    engine = await _engine(port)
    try:
        port._from_modem(b"\r\nCONNECT 33600\r\n")     # noise: the modem never went online
        assert engine.mode is EngineMode.DATA
        async with asyncio.timeout(10):
            await engine.hangup()
        assert engine.mode is EngineMode.COMMAND and not port.online
        assert engine.trust.dtr is None
    finally:
        await engine.close()


async def test_a_drop_that_ends_a_dialled_call_teaches_dtr_works() -> None:
    """The modem went online on our dial and answers in command state after
    the drop: the drop ended the call, DTR works."""
    port = BackloggedPort(says_no_carrier=False, backlog=b"")
    engine = await _engine(port)
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with asyncio.timeout(10):
            await engine.hangup()
        assert engine.mode is EngineMode.COMMAND and not port.online
        assert engine.trust.dtr is True
    finally:
        await engine.close()


class SlowAfterDropPort(BackloggedPort):
    """A modem whose DTR drop hangs it up, but which is slow to answer the
    first command after it (busy writing its profile, a slow UART): the
    drop worked, the ``AT`` that asks just came back too late."""

    def __init__(self) -> None:
        super().__init__(says_no_carrier=False, backlog=b"")
        self.swallow_next = False

    def _hang_up(self) -> None:
        super()._hang_up()
        self.swallow_next = True

    def _take(self, data: bytes) -> None:
        if self.swallow_next and not self.online and data.endswith(b"\r"):
            self.swallow_next = False
            self.written.append((data.rstrip(b"\r"), 0))
            return                          # no answer in time
        super()._take(data)


async def test_a_slow_answer_after_a_drop_does_not_make_dtr_dead() -> None:
    """One ``AT`` unanswered after a drop is no proof the modem stayed
    online: only the escape's ``OK`` (or DCD still high where DCD is known to
    work) shows the drop did nothing.  Learning "DTR does nothing" from a
    slow answer would skip the DTR path on every later hang-up of the port."""
    port = SlowAfterDropPort()
    engine = await _engine(port)
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with asyncio.timeout(30):
            await engine.hangup()
        assert not port.online
        assert engine.mode is EngineMode.COMMAND
        assert engine.trust.dtr is not False
    finally:
        await engine.close()
