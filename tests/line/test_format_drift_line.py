"""A line whose modem power-cycles into a stored profile the driver did not set
(V0, Q1, E1 or E0, from another program's ``AT&W``) stays usable: the next
call is made and carries data (issue 8 item 1, through the line layer)."""

from __future__ import annotations

import pytest

from modemctl.line.states import CallState
from tests.line.conftest import PairFactory, read_exactly


@pytest.mark.parametrize("echo", [0, 1])
async def test_line_survives_a_power_cycle_into_quiet_numeric(make_pair: PairFactory,
                                                              echo: int) -> None:
    pair = await make_pair("conexant-v92")
    pair.near_fake.inject("stored-profile", q=1, v=0, e=echo, reboot=True)
    call, incoming = await pair.connect()
    await call.write(b"after the reboot\r")
    assert await read_exactly(incoming, 17) == b"after the reboot\r"
    await call.drop()
    assert call.state is CallState.DISCONNECTED
    assert pair.near_fake.state == "command"
    s = pair.near_fake.dce.settings
    assert (s.echo, s.quiet, s.verbose) == (0, 0, 1)
    assert pair.near.engine.recoveries == []
