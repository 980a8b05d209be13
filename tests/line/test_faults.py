"""The line layer under injected modem faults (unsolicited lines, reboot, garbage)."""

from __future__ import annotations

import asyncio

import pytest

from modemctl import CallState, DisconnectReason
from modemctl.line import LineEvent, MessageWaiting
from tests.line.conftest import PairFactory, read_exactly


@pytest.mark.parametrize("personality", ["conexant-v92", "usr-v90"])
async def test_unsolicited_lines_inside_secure_responses(make_pair: PairFactory,
                                                         personality: str) -> None:
    pair = await make_pair(personality, location="GB")
    events: list[LineEvent] = []
    subscription = pair.near.events()

    async def watch() -> None:
        async for ev in subscription:
            events.append(ev)
            if isinstance(ev, MessageWaiting):
                return

    watcher = asyncio.create_task(watch())
    call, incoming = await pair.connect()
    for _ in range(4):            # the escape's OK and the reads/writes after it
        pair.near_fake.inject("unsolicited", lines=["MESSAGE-WAITING", "RING"])
    report = await call.secure()
    assert report.secured
    assert all(m.verified for m in report.mechanisms if m.applied)
    await call.write(b"ok")
    assert await read_exactly(incoming, 5) == b"+++ok"
    await call.drop()
    async with asyncio.timeout(5):
        await watcher                      # returns once a MessageWaiting was seen
    subscription.close()
    assert isinstance(events[-1], MessageWaiting)


async def test_modem_reboot_during_a_secured_call(make_pair: PairFactory) -> None:
    # A rebooting modem drops the call without a word; on a pty (no DCD) the
    # host learns it only when it acts.  Dropping the call must still work (the
    # engine's escape finds a modem in command state), and leave the line usable.
    pair = await make_pair("usr-v90", location="GB")
    call, _ = await pair.connect(secure=True)
    assert pair.near_fake.registers[10] == 14
    pair.near_fake.inject("reboot")         # the modem is back in command state at once
    async with asyncio.timeout(20):
        await call.drop()
    assert call.state is CallState.DISCONNECTED
    # The reboot forgot S10; restoring writes the original value again: harmless.
    assert pair.near_fake.registers[10] == 7
    # A reboot also forgets the init: probe again, then the line works.
    await pair.near.probe()
    call2, _ = await pair.connect()
    await call2.drop()


async def test_garbage_before_probe_answers(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92")
    pair.near_fake.inject("garbage", data=b"\x00\xff\x13noise\r\n")
    caps = await pair.near.probe()
    assert caps.profile.name == "agere"


async def test_modem_unplugged_during_a_call(make_pair: PairFactory) -> None:
    pair = await make_pair("conexant-v92", location="GB")
    call, _ = await pair.connect(secure=True)
    pair.near_fake.inject("unplug")
    async with asyncio.timeout(10):
        assert await call.read(10) == b""
        reason = await call.wait_disconnected()
    assert reason is DisconnectReason.UNKNOWN       # the port went away: no verdict
    assert call.restore_failures                    # nothing could be put back, and it says so
    async with asyncio.timeout(10):
        await pair.near.close()                     # closing a dead line does not hang


@pytest.mark.parametrize("rfc2217", [False, True])
async def test_connect_noise_inside_a_response_leaves_the_line_idle(make_pair: PairFactory,
                                                                    rfc2217: bool) -> None:
    """Noise that reads as CONNECT inside the answer to a probe command (issue 7,
    soak): not that command's final, so the probe goes on and the line stays
    idle; before, the engine went to data mode with no call and every later
    command failed."""
    pair = await make_pair("usr-v90", rfc2217=rfc2217)
    pair.near_fake.inject("unsolicited", lines=["CONNECT 33600"])
    async with asyncio.timeout(10):
        await pair.near.probe()
    assert pair.near.engine.mode.name == "COMMAND"
    assert pair.near_fake.state == "command"
    call, _ = await pair.connect()
    await call.drop()
    assert call.state is CallState.DISCONNECTED
