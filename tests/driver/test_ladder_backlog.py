"""The recovery ladder and a call's last bytes (issue 7, the ladder's gap).

The ladder moves the core to command mode with no word from the modem: the
resync rung after a failed ``+++`` (the modem may still be online, or have
just hung up), the DTR-drop rung after that.  Call data still on its way
then was read as lines and answered the next command: ``OK\\r`` or a numeric
``0\\r`` in it answered the result-format command or the probe ``AT``.  The
invariant (as for a hang-up, see test_hangup_backlog.py): the ladder sends
nothing in command mode before the call's last byte is in.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from modemctl.at import ResultCode
from modemctl.driver import Engine, EngineMode
from modemctl.driver.porttrust import PortTrust
from modemctl.driver.timing import DEFAULT_TIMEOUT
from modemctl.log import get_logger
from tests.driver.test_hangup_backlog import POISON, SCALE, BackloggedPort, _unused_reopen

#: Call data that answers a command if read as lines: verbose and numeric OK.
LADDER_POISON = b"\r\nOK\r\n0\r" * 40 + POISON


class EscapeDeafPort(BackloggedPort):
    """An online modem that takes ``+++`` as data (escape disabled, S2>127).
    With ``ends_at`` set, the far end hangs up that many real seconds after
    the ``+++`` went out: DCD falls, the call's last data follows
    ``backlog_after`` later, over ~200 ms, with no NO CARRIER (a quiet modem)."""

    def __init__(self) -> None:
        super().__init__(says_no_carrier=False, backlog=LADDER_POISON)
        self.ends_at: float | None = None
        self.backlog_after = 0.0

    def _hang_up(self) -> None:
        if not self.backlog_after:
            super()._hang_up()
            return
        self.online = False
        self._set_cd(False)
        self.backlog_left = len(self.backlog)
        self._loop.call_later(self.backlog_after, super()._hang_up)

    def _take(self, data: bytes) -> None:
        if self.online and b"+++" in data and self.ends_at is not None:
            self._loop.call_later(self.ends_at, self._end_once)
        super()._take(data)

    def _end_once(self) -> None:
        if self.online:
            self._hang_up()


@pytest.mark.parametrize("ends_on", ["escape", "dtr-drop"])
async def test_ladder_reads_the_calls_last_bytes_before_commands(
        ends_on: Literal["escape", "dtr-drop"]) -> None:
    """A hang-up where DTR is known dead: ``+++`` fails and the ladder climbs.

    ``escape``: the call ends just before the escape gives up, its last data
    arriving after the resync rung took the core to command mode.
    ``dtr-drop``: the modem stays online until the DTR-drop rung hangs it up,
    its last data arriving after the drop.  Either way every line the ladder
    (and the ATH after it) sends must find the call's last byte in."""
    port = EscapeDeafPort()
    engine = Engine(port, url=port.url, time_scale=SCALE, log=get_logger(line="ladder"),
                    reopen=_unused_reopen, trust=PortTrust(dtr=False))
    if ends_on == "escape":
        # The escape waits this long for OK (guarded_escape): end the call just
        # before it gives up, its data arriving just after (data that reached
        # the escape would be taken for the modem's answer: another matter).
        port.ends_at = engine.guard_time * 2 + engine.scaled(DEFAULT_TIMEOUT) - 0.03
        port.backlog_after = 0.05
    try:
        assert (await engine.originate("ATD5551002")).final is ResultCode.CONNECT
        async with asyncio.timeout(20):
            await engine.hangup()
        assert engine.mode is EngineMode.COMMAND
        steps = engine.recoveries[-1]
        assert steps[-1].succeeded and steps[-1].action == ("resync" if ends_on == "escape"
                                                     else "dtr-drop"), steps
        assert not port.online
        after_call = [(line, left) for line, left in port.written if line != b"ATD5551002"]
        assert after_call and all(left == 0 for _, left in after_call), after_call
        assert (await engine.command("AT")).ok
    finally:
        await engine.close()
