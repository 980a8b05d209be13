"""A client still connected to a fake line's RFC 2217 server when the loop
ends is torn down quietly (issue 7 leftover): asyncio's stream callback used
to report the handler's cancellation as "Exception in callback"."""

from __future__ import annotations

import asyncio
from typing import Any

import serial

from modemctl.fake import Exchange


def test_leaked_rfc2217_client_torn_down_with_the_loop_reports_nothing() -> None:
    reported: list[dict[str, Any]] = []

    async def leak() -> Any:
        asyncio.get_running_loop().set_exception_handler(
            lambda _loop, context: reported.append(context))
        ex = Exchange(time_scale=0.05)
        await ex.__aenter__()                  # never left: the loop's end tears it down
        line = await ex.add_line("5551001", rfc2217=True)
        assert line.url is not None
        return await asyncio.to_thread(serial.serial_for_url, line.url, timeout=0.1)

    client = asyncio.run(leak())
    client.close()
    assert [c.get("message") for c in reported] == []
