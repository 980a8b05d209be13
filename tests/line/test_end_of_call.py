"""Every way a call ends finishes it, and the line's own tasks never fail unseen.

Issue 7 defects 3, 8 and 9: a port that fails while the line pulses DTR at
the end of a call must still leave the call DISCONNECTED (``wait_disconnected``
returns), the line's end-of-call task must not die with an exception nobody
retrieves, and ``Line.close()`` must not swallow its own cancellation.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import modemctl.line.line as line_module
from modemctl import DisconnectReason
from modemctl.driver import EngineMode
from modemctl.errors import OperationUnavailable, PortClosed
from modemctl.fake import Exchange
from modemctl.line import Call, open_line
from tests.line.conftest import FAR, NEAR, SCALE, PairFactory, wait_until


def _collect_loop_errors() -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    return errors


async def test_port_failing_during_the_end_of_call_dtr_pulse_still_ends_the_call(
        make_pair: PairFactory) -> None:
    errors = _collect_loop_errors()
    pair = await make_pair("conexant-v92", rfc2217=True)
    await pair.near.engine.command("ATS10=254")
    await pair.far.engine.command("ATS10=254")
    call, _ = await pair.connect()
    await wait_until(lambda: bool(pair.near.engine.lines.cd), "DCD up on the RFC 2217 port")
    # The engine counts only a falling edge of DCD it sampled high: give its
    # poller (50 ms period) two periods to sample the rise (issue 7 defect 9
    # removes the need).
    await asyncio.sleep(0.1)
    pulses: list[str] = []

    async def failing_pulse() -> bool:
        pulses.append(call.state.name)
        raise PortClosed("the port went away during the DTR pulse")

    pair.near.engine.drop_dtr = failing_pulse           # type: ignore[method-assign]
    assert not await pair.ex.carrier_loss(NEAR, duration=60.0)
    async with asyncio.timeout(5):
        reason = await call.wait_disconnected()
    assert pulses == ["CONNECTED"]                      # the pulse was tried, and failed
    assert reason is DisconnectReason.CARRIERLOST
    assert any("DTR" in f for f in call.restore_failures), call.restore_failures
    gc.collect()
    await asyncio.sleep(0)
    assert [e.get("message") for e in errors] == []


async def test_close_passes_its_own_cancellation_on() -> None:
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="agere-v92")
        async with open_line(fake.port, "US", SCALE, probe=False, name="near") as line:
            closing = asyncio.create_task(line.close())
            await asyncio.sleep(0)          # close() has cancelled the event pump and waits for it
            closing.cancel()
            with pytest.raises(asyncio.CancelledError):
                await closing
            assert closing.cancelled()
            assert line.engine.mode is EngineMode.CLOSED     # ... and still released the port


async def test_a_failed_restore_after_refusing_to_secure_is_reported(
        make_pair: PairFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # secure=True on a line that cannot secure: the line puts back what it had
    # applied and refuses before dialling.  A setting that could not be put back
    # must not vanish when the call is finished.
    pair = await make_pair("hayes-basic", location="GB")
    await pair.near.engine.command("ATS0=2")     # so securing changes S0 (to 0)

    async def failing_restore(_engine: object, saved: dict[str, int]) -> list[str]:
        return [f"{register}={value}: refused" for register, value in saved.items()]

    monkeypatch.setattr(line_module, "restore", failing_restore)
    calls: list[Call] = []
    original_claim = pair.near._claim

    def claim(call: Call) -> None:
        calls.append(call)
        original_claim(call)

    monkeypatch.setattr(pair.near, "_claim", claim)
    with pytest.raises(OperationUnavailable):
        await pair.near.make_call(FAR, secure=True)
    (call,) = calls
    assert call.disconnect_reason is DisconnectReason.CANCELLED
    assert call.restore_failures == ("S0=2: refused",)
