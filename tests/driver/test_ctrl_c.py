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

from modemctl.at import Response, ResultCode
from modemctl.driver import Engine, EngineMode
from modemctl.driver.timing import HANGUP_QUIET
from modemctl.fake import DceEvent, Exchange, StateChange
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


# A dial cancelled as the call connects leaves the modem online in data mode,
# so hanging up costs what the port allows (see README "Ctrl-C").  Bounds are
# in guard times (S12 = 1 s of protocol time): with a working DTR the modem's
# NO CARRIER ends the drop at once (the old code held DTR low a whole guard
# time); without a DTR line the floor is the escape's two guard times (the
# abort's CR reached the modem online, so the leading guard starts then) plus
# ATH; with a DTR that does nothing (learnt on this first hang-up: the old code
# took six guard times) a quarter-guard drop, half a guard for DCD to fall
# (a whole one here: the 0.25 s floor under scaled timeouts), then the escape,
# whose leading guard counts from the AT that found the modem still online,
# so it is served while that AT waits for an answer.
# After a drop that brought no NO CARRIER (dead DTR), the call's last bytes
# are read as data until HANGUP_QUIET of silence: real seconds, not scaled,
# so the bound allows it on top of the guard times.
# The DTR case runs at half of real time: RFC 2217's DTR changes cost pyserial
# 50 ms each in real time, which is not small beside a guard at a quarter.
PORT_KINDS = {"dtr": (0.5, 0.75), "no-dtr-line": (0.25, 2.5), "dead-dtr": (0.25, 3.75)}


@pytest.mark.parametrize("kind", list(PORT_KINDS))
async def test_make_call_cancelled_at_connect_is_bounded_by_what_the_port_allows(
        kind: str) -> None:
    scale, bound = PORT_KINDS[kind]
    guard = 50 * 0.02 * scale                   # S12 at this scale
    async with Exchange(time_scale=scale) as ex:
        near = await ex.add_line("5551001", personality="conexant-v92",
                                 rfc2217=kind != "no-dtr-line")
        far = await ex.add_line("5551002", personality="agere-v92")
        url = near.port if kind == "no-dtr-line" else near.url
        assert url is not None
        answerer = await Engine.open(far.port, time_scale=scale)
        try:
            assert (await answerer.command("ATS0=1")).ok       # answers at the first ring
            async with open_line(url, "US", scale) as line:
                if kind == "dead-dtr":
                    # ser2net in front of a pty, ``local``, a three-wire cable:
                    # the change is accepted and does nothing.
                    async def accepted_and_ignored(_value: bool) -> bool:
                        return True

                    line.engine._transport.set_dtr = accepted_and_ignored  # type: ignore[method-assign]
                connected = asyncio.Event()

                def cancel_as_it_connects(change: StateChange) -> None:
                    if change.event is DceEvent.CONNECT:
                        unsubscribe()
                        dialling.cancel()          # the CONNECT is on its way to us
                        connected.set()

                unsubscribe = near.dce.on_state_change(cancel_as_it_connects)
                with structlog.testing.capture_logs() as logs:
                    dialling = asyncio.create_task(line.make_call("5551002"))
                    async with asyncio.timeout(10):
                        await connected.wait()
                    t0 = time.monotonic()
                    with pytest.raises(asyncio.CancelledError):
                        await dialling
                    took = time.monotonic() - t0
                print(f"{kind}: cancel at CONNECT took {took / guard:.2f} guard times")
                quiet = HANGUP_QUIET if kind == "dead-dtr" else 0.0
                assert took < bound * guard + quiet, \
                    f"{kind}: {took:.3f}s = {took / guard:.2f} guard times"
                assert near.state == "command"                  # on-hook, command mode
                assert not near.dce.off_hook
                assert line.engine.mode is EngineMode.COMMAND
                assert loud(logs) == []
                assert line.engine.trust.dtr is {"dtr": True, "no-dtr-line": None,
                                                  "dead-dtr": False}[kind]
        finally:
            await answerer.close()


async def test_dial_cancelled_as_it_is_sent_is_aborted_at_once() -> None:
    """A modem ignores characters within 125 ms of a dial's command line (the
    LF after its CR): an abort sent that soon was lost, the modem dialled on
    and the cancel waited 5 s for an answer that never came.  The abort now
    waits out that window, so the cancel still returns in a fraction of a
    guard time, with the modem on-hook."""
    scale = 0.25
    guard = 50 * 0.02 * scale
    async with Exchange(time_scale=scale) as ex:
        near = await ex.add_line("5551001", personality="conexant-v92")
        await ex.add_line("5551002", personality="agere-v92")
        async with open_line(near.port, "US", scale) as line:
            sent = asyncio.Event()

            def cancel_as_it_dials(change: StateChange) -> None:
                if change.event is DceEvent.DIAL:
                    unsubscribe()
                    dialling.cancel()              # the dial's line has just arrived
                    sent.set()

            unsubscribe = near.dce.on_state_change(cancel_as_it_dials)
            with structlog.testing.capture_logs() as logs:
                dialling = asyncio.create_task(line.make_call("5551002"))
                async with asyncio.timeout(10):
                    await sent.wait()
                t0 = time.monotonic()
                with pytest.raises(asyncio.CancelledError):
                    await dialling
                took = time.monotonic() - t0
            assert took < 0.5 * guard, f"{took:.3f}s = {took / guard:.2f} guard times"
            assert near.state == "command" and not near.dce.off_hook
            assert line.engine.mode is EngineMode.COMMAND
            assert loud(logs) == []


async def test_dial_cancelled_after_its_connect_arrived_sends_no_abort_to_the_far_end(
        engine: Engine, dce: ScriptedDCE, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cancel lands after CONNECT was read but before the dial resumed:
    an abort CR would only go to the far end as data (and restart the escape's
    guard time), so none is sent; the call is hung up all the same."""
    dce.echo = False
    handle = engine._handle

    def cancel_after_connect(event: object) -> None:
        handle(event)                                   # type: ignore[arg-type]
        if isinstance(event, Response) and event.final is ResultCode.CONNECT:
            dialling.cancel()                           # CONNECT is in, unseen by the dial

    monkeypatch.setattr(engine, "_handle", cancel_after_connect)
    with structlog.testing.capture_logs() as logs:
        dialling = asyncio.create_task(engine.originate("ATDT5551234"))
        with pytest.raises(asyncio.CancelledError):
            await dialling
        async with asyncio.timeout(5):
            await wait_until(lambda: not engine._background)   # the unwanted call's hang-up
    assert engine.mode is EngineMode.COMMAND and not dce.data_mode
    assert dce.commands.count("ATH") == 1
    assert bytes(dce.received_data) == b"+++"           # the escape, and no stray CR
    assert loud(logs) == []
