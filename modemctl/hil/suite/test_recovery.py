"""Recovery: DTR drop, the modem going silent, a power cycle, the port disappearing."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from modemctl.errors import CommandTimeout, ModemctlError, ModemUnresponsive
from modemctl.hil import steps
from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigModem, RigPair

SILENT_TRIES = 4
"""Commands sent to a silent modem before the recovery ladder must have brought it back."""


@pytest.mark.needs("dtr")
def test_dtr_drop_ends_the_call(harness: Harness, pair: RigPair) -> None:
    async def body() -> None:
        async with steps.open_pair(harness, pair) as p:
            call, incoming = await p.connect()
            assert await p.a.engine.set_dtr(False)    # &D2: the modem hangs up
            limit = p.bound(10)
            await steps.call_ends(incoming, limit)
            await p.a.engine.set_dtr(True)
            await steps.call_ends(call, limit)
            again, _ = await p.connect()
            await again.drop()
    asyncio.run(body())


@pytest.mark.needs("silence")
def test_silent_modem_is_recovered(harness: Harness, modem: RigModem) -> None:
    async def body() -> None:
        async with harness.simulator() as sim, harness.open(modem) as line:
            await sim.silence(modem.line)
            answered = False
            for _ in range(SILENT_TRIES):
                try:
                    answered = (await line.engine.command("AT")).ok
                    break
                except (CommandTimeout, ModemUnresponsive):
                    # A ladder that ran out (ModemUnresponsive) starts again on the next
                    # command: a pty's close must reach the fake before the reopen does.
                    continue
            assert answered, f"no answer after {SILENT_TRIES} tries and the recovery ladder"
            assert line.engine.recoveries, "the modem answered without any recovery"
            assert line.engine.recoveries[-1][-1].succeeded
    asyncio.run(body())


@pytest.mark.needs("power-switch")
def test_power_cycle_forgets_unsaved_settings(harness: Harness, modem: RigModem) -> None:
    rig = harness.rig
    power = harness.power()

    async def body() -> None:
        async with harness.open(modem) as line:
            before = (await line.engine.command("ATS7?")).info[-1].strip()
            other = "47" if before != "47" else "53"
            await line.engine.command(f"ATS7={other}")
        await power.off(modem)
        await power.on(modem)
        async with asyncio.timeout(steps.bound(30, rig.time_scale)):
            async with harness.open(modem) as line:
                assert line.caps_required().profile.name == modem.profile
                after = (await line.engine.command("ATS7?")).info[-1].strip()
        assert int(after) == int(before), "S7 survived a power cycle (was it stored?)"
    asyncio.run(body())


@pytest.mark.needs("removable")
def test_port_disappearing_is_a_typed_error(harness: Harness, modem: RigModem) -> None:
    rig = harness.rig
    power = harness.power()

    async def body() -> None:
        limit = steps.bound(30, rig.time_scale)
        stack = contextlib.AsyncExitStack()
        line = await stack.enter_async_context(harness.open(modem))
        try:
            await power.off(modem)
            with pytest.raises(ModemctlError):
                async with asyncio.timeout(limit):
                    for _ in range(SILENT_TRIES):
                        await line.engine.command("AT")
        finally:
            with contextlib.suppress(ModemctlError, OSError):
                async with asyncio.timeout(limit):
                    await stack.aclose()
            await power.on(modem)
        async with asyncio.timeout(limit):
            async with harness.open(modem) as again:
                assert again.caps_required().profile.name == modem.profile
    asyncio.run(body())
