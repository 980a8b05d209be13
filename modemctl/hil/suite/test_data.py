"""Data integrity: the rig's ``data_bytes`` each way on a secured call, checksums equal.

On a real rig this runs at the real connect rate (4 MB each way by default,
about 20 minutes at 33,600 bit/s); the fake rig keeps it small.
"""

from __future__ import annotations

import asyncio
import os

from modemctl.hil import steps
from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigPair


def test_data_integrity_both_ways(harness: Harness, pair: RigPair) -> None:
    payload = os.urandom(harness.rig.data_bytes)

    async def body() -> None:
        async with steps.open_pair(harness, pair) as p:
            call, incoming = await p.connect(secure="best-effort")
            await steps.exchange_data(call, incoming, payload,
                                      steps.transfer_limit(len(payload), call.rate))
            await call.drop()
    asyncio.run(body())
