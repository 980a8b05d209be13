"""Ctrl-C during a dial is immediate, quiet, and leaves the modem on-hook (issue 8 item 7).

The hard case is the race: the dial is cancelled just as the modem
connects, so the abort loses to ``CONNECT``.  The engine then hangs the
unwanted call up on its own, and the line, whose ``make_call`` was
cancelled, hangs up too.  Two hang-ups at once used to trip over each
other (one escaped, the other found no data mode and failed, logging a
warning or retrying ``ATH``).  There is one hang-up; both wait for it.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest
import structlog

from modemctl.driver import Engine, EngineMode
from modemctl.fake import Exchange
from modemctl.line import open_line
from tests.driver.conftest import SCALE, wait_until
from tests.driver.responder import ScriptedDCE


def loud(logs: list[dict[str, object]]) -> list[dict[str, object]]:
    """What the default verbosity (warnings) would print."""
    return [e for e in logs if e["log_level"] in ("warning", "error", "critical")]


async def test_cancelled_dial_that_connects_anyway_is_hung_up_once(
        engine: Engine, dce: ScriptedDCE) -> None:
    dce.hang_dials = dce.abort_connects = True
    with structlog.testing.capture_logs() as logs:
        dialling = asyncio.create_task(engine.originate("ATDT5551234"))
        await dce.wait_command("ATDT5551234")
        dialling.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dialling
        async with asyncio.timeout(5):
            await engine.hangup()             # the caller's own, as the line's make_call does
            await wait_until(lambda: not engine._background)
    assert engine.mode is EngineMode.COMMAND
    assert not dce.data_mode                  # escaped, then ATH: on-hook
    assert len(dce.escape_quiet) == 1         # one escape, not one per hang-up
    assert dce.commands.count("ATH") == 1
    assert loud(logs) == []


async def test_make_call_cancelled_as_it_connects_ends_quietly_on_hook(
        dce: ScriptedDCE) -> None:
    dce.echo = False
    with structlog.testing.capture_logs() as logs:
        async with open_line(dce.port, "US", SCALE, profile="generic-hayes") as line:
            dce.hang_dials = dce.abort_connects = True
            dialling = asyncio.create_task(line.make_call("5551234"))
            await wait_until(lambda: any(c.startswith("ATD") for c in dce.commands))
            dialling.cancel()
            async with asyncio.timeout(5):
                with pytest.raises(asyncio.CancelledError):
                    await dialling
            assert line.engine.mode is EngineMode.COMMAND
            assert not dce.data_mode
            assert len(dce.escape_quiet) == 1
    assert loud(logs) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_dial_cancelled_at_a_random_point_is_bounded_and_on_hook(seed: int) -> None:
    """Over the fake at a quarter of real time, the far end answering at the
    first ring (CONNECT about 1.1 s real after the dial): cancel anywhere
    from the dial tone to the handshake; the cancel returns well within the
    bound and the fake's line is back in command state (on-hook)."""
    scale = 0.25
    when = random.Random(seed).uniform(0.05, 1.0)
    async with Exchange(time_scale=scale) as ex:
        near = await ex.add_line("5551001", personality="conexant-v92")
        far = await ex.add_line("5551002", personality="agere-v92")
        answerer = await Engine.open(far.port, time_scale=scale)
        try:
            assert (await answerer.command("ATS0=1")).ok       # answers at the first ring
            async with open_line(near.port, "US", scale) as line:
                with structlog.testing.capture_logs() as logs:
                    dialling = asyncio.create_task(line.make_call("5551002"))
                    await asyncio.sleep(when)
                    assert not dialling.done(), "connected before the cancel point"
                    dialling.cancel()
                    t0 = time.monotonic()
                    with pytest.raises(asyncio.CancelledError):
                        await dialling
                    took = time.monotonic() - t0
                assert took < 0.5, f"cancel at {when:.2f}s took {took:.2f}s"
                assert near.state == "command"
                assert line.engine.mode is EngineMode.COMMAND
                assert loud(logs) == []
        finally:
            await answerer.close()
