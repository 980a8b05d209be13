"""Cancellation never leaves the engine out of step with the modem (issue 7).

A caller may give up at any await (``asyncio.wait_for``, Ctrl-C, a task
group failing): whatever the engine was doing, it must afterwards know the
modem's state and keep working.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import structlog

from modemctl import transport
from modemctl.at import ResultCode, Unsolicited, UnsolicitedKind
from modemctl.driver import Engine, EngineMode, EventSubscription
from modemctl.driver.datastream import DATA_HIGH_WATER
from modemctl.errors import CommandTimeout
from modemctl.fake import Exchange, FakeLine
from modemctl.line import Line, open_line
from modemctl.line.states import CallState
from modemctl.transport import open_transport
from tests.driver.conftest import SCALE, wait_until
from tests.driver.responder import ScriptedDCE
from tests.support import read_exactly

NEAR, FAR = "5551001", "5551002"


@dataclass
class LinePair:
    """Two lines driven by modemctl on one fake exchange (near calls far)."""

    ex: Exchange
    near: Line
    far: Line
    near_fake: FakeLine


@pytest.fixture
async def exchange_pair() -> AsyncIterator[LinePair]:
    async with contextlib.AsyncExitStack() as stack:
        ex = await stack.enter_async_context(Exchange(time_scale=SCALE))
        near_fake = await ex.add_line(NEAR, personality="conexant-v92")
        far_fake = await ex.add_line(FAR, personality="agere-v92")
        near = await stack.enter_async_context(
            open_line(near_fake.port, "US", SCALE, name="near"))
        far = await stack.enter_async_context(open_line(far_fake.port, "US", SCALE, name="far"))
        yield LinePair(ex, near, far, near_fake)


@pytest.mark.parametrize("modem_escapes", [True, False])
async def test_cancelled_escape_leaves_the_call_online_and_the_engine_usable(
        engine: Engine, dce: ScriptedDCE, modem_escapes: bool) -> None:
    """Cancelled after ``+++`` went out, before the modem's OK: the engine
    waits out the answer and, if the modem did escape, takes the call back
    online, so the caller finds the call as it was (not a core stuck in
    ESCAPING that refuses every later command)."""
    dce.honour_escape = modem_escapes
    await engine.originate("ATD1")
    dce.data_echo = False                             # the far end does not loop +++ back
    escaping = asyncio.create_task(engine.escape())
    async with asyncio.timeout(2):
        await dce.escape_seen.wait()
    escaping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await escaping
    assert engine.mode is EngineMode.DATA
    assert dce.data_mode                              # the modem is online too
    dce.data_echo = True
    await engine.write(b"ping")
    assert await read_exactly(engine, 4, within=2) == b"ping"
    dce.honour_escape = True
    await engine.escape()
    assert engine.mode is EngineMode.ONLINE_COMMAND
    assert (await engine.command("AT")).ok
    await engine.hangup()
    assert engine.mode is EngineMode.COMMAND


async def test_secure_cancelled_during_its_escape_keeps_the_call(exchange_pair: LinePair
                                                                 ) -> None:
    """``asyncio.wait_for(call.secure(), ...)`` giving up while the escape is
    in flight: the call stays CONNECTED and usable, and so does the line."""
    near, far = exchange_pair.near, exchange_pair.far
    dialling = asyncio.create_task(near.make_call(FAR))
    async with asyncio.timeout(10):
        incoming = await far.wait_for_call()
        await incoming.answer()
        call = await dialling
    assert call.state is CallState.CONNECTED
    securing = asyncio.create_task(call.secure("best-effort"))
    async with asyncio.timeout(5):
        assert await incoming.read(3) == b"+++"       # the escape is on the line
    securing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await securing
    assert call.state is CallState.CONNECTED
    await call.write(b"still here")
    assert await read_exactly(incoming, 10) == b"still here"
    report = await call.secure("best-effort")          # the engine takes commands again
    assert report.mechanisms
    await call.drop()
    assert near.engine.mode is EngineMode.COMMAND
    assert (await near.engine.command("AT")).ok


async def test_cancel_during_the_dtr_hold_never_leaves_dtr_low(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real ``&D2`` modem will not dial while DTR is low: cancelling
    ``drop_dtr()`` during its hold must still raise DTR again."""
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, rfc2217=True)
        assert fake.url is not None
        engine = await Engine.open(fake.url, time_scale=SCALE)
        try:
            transport = engine._transport
            real_set_dtr = transport.set_dtr
            dtr_low = asyncio.Event()

            async def set_dtr(value: bool) -> bool:
                ok = await real_set_dtr(value)
                if not value:
                    dtr_low.set()
                return ok

            monkeypatch.setattr(transport, "set_dtr", set_dtr)
            dropping = asyncio.create_task(engine.drop_dtr())
            async with asyncio.timeout(2):
                await dtr_low.wait()
            assert not dropping.done()                  # inside the hold
            dropping.cancel()
            with pytest.raises(asyncio.CancelledError):
                await dropping
            assert engine.lines.dtr is True
            assert (await engine.command("AT")).ok      # ordered after the DTR change
            assert fake.dce.dtr is True
        finally:
            await engine.close()


async def test_cancelled_open_closes_a_late_finishing_open(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An RFC 2217 server serves one client: an open that finishes after its
    caller was cancelled must be closed, or it holds the slot for good and
    every later open of the line fails."""
    loop = asyncio.get_running_loop()
    opening, closed = asyncio.Event(), asyncio.Event()
    proceed = threading.Event()
    real_open_serial = transport.open_serial

    def slow_open_serial(url: str, **kwargs: object) -> object:
        loop.call_soon_threadsafe(opening.set)
        proceed.wait(5.0)
        port = real_open_serial(url, **kwargs)
        real_close = port.close

        def close() -> None:
            real_close()
            loop.call_soon_threadsafe(closed.set)

        port.close = close
        return port

    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, rfc2217=True)
        assert fake.url is not None
        monkeypatch.setattr(transport, "open_serial", slow_open_serial)
        task = asyncio.create_task(open_transport(fake.url))
        async with asyncio.timeout(2):
            await opening.wait()
        task.cancel()
        proceed.set()                                   # the open completes after the cancel
        with pytest.raises(asyncio.CancelledError):
            await task
        async with asyncio.timeout(5):
            await closed.wait()
        monkeypatch.setattr(transport, "open_serial", real_open_serial)
        engine = await Engine.open(fake.url, time_scale=SCALE)
        try:
            assert (await engine.command("AT")).ok
        finally:
            await engine.close()


@contextlib.asynccontextmanager
async def _call_with_unread_data(n: int) -> AsyncIterator[Engine]:
    """An engine in a call whose far end sent ``n`` bytes (more than the high
    water mark), so that the engine has stopped reading for back-pressure."""
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR)
        engine = await Engine.open(fake.port, time_scale=SCALE)
        try:
            party = await ex.ring_in(NEAR, caller="5559999")
            async with engine.events() as sub, asyncio.timeout(5):
                while not isinstance(ev := await sub.get(), Unsolicited) \
                        or ev.kind is not UnsolicitedKind.RING:
                    pass
            assert (await engine.originate("ATA")).final is ResultCode.CONNECT
            assert await party.answered()
            party.write(b"x" * n)
            await wait_until(lambda: engine.buffered >= DATA_HIGH_WATER)
            yield engine
        finally:
            await engine.close()


UNREAD = DATA_HIGH_WATER + (1 << 18)


async def test_unread_call_data_does_not_block_hangup() -> None:
    """1 MiB+ of call data nobody reads stops the reader (back-pressure), but
    hanging up discards it and still sees the modem's answers: no climb up
    the recovery ladder."""
    async with _call_with_unread_data(UNREAD) as engine:
        async with asyncio.timeout(5):
            await engine.hangup()
        assert engine.recoveries == []
        assert engine.mode is EngineMode.COMMAND
        assert await engine.read() == b""             # discarded, not delivered late
        assert (await engine.command("AT")).ok


async def test_unread_call_data_does_not_block_an_escape_and_is_kept() -> None:
    """The escape's OK follows unread data: the reader goes on reading past
    the high water mark while an escape waits, and keeps every byte."""
    async with _call_with_unread_data(UNREAD) as engine:
        async with asyncio.timeout(5):
            await engine.escape()
        assert engine.mode is EngineMode.ONLINE_COMMAND and engine.recoveries == []
        assert engine.buffered == UNREAD
        assert (await engine.resume()).final is ResultCode.CONNECT
        got = 0
        async with asyncio.timeout(5):
            while got < UNREAD:
                got += len(await engine.read())
        assert got == UNREAD


async def _line_back_to_idle(pair: LinePair, sub: EventSubscription) -> None:
    """Once the engine has seen the unwanted CONNECT, the line hangs it up
    and is idle again: probe and make_call work."""
    near = pair.near
    async with asyncio.timeout(5):
        while not isinstance(ev := await sub.get(), Unsolicited) \
                or ev.kind is not UnsolicitedKind.CONNECT:
            pass
    sub.close()
    await wait_until(lambda: near.engine.mode is EngineMode.COMMAND
                      and pair.near_fake.state == "command")
    await near.probe()
    dialling = asyncio.create_task(near.make_call(FAR))
    async with asyncio.timeout(10):
        incoming = await pair.far.wait_for_call()
        await incoming.answer()
        call = await dialling
    assert call.state is CallState.CONNECTED
    await call.write(b"hi")
    async with asyncio.timeout(5):
        assert await incoming.read(2) == b"hi"
    await call.drop()


async def test_unsolicited_connect_from_auto_answer_is_hung_up(exchange_pair: LinePair
                                                               ) -> None:
    """Someone else set S0: the modem answers by itself.  The engine goes to
    data mode with no Call; the line must hang up and return to idle."""
    pair = exchange_pair
    assert (await pair.near.engine.command("ATS0=1")).ok     # behind the line's back
    sub = pair.near.engine.events()
    party = await pair.ex.ring_in(NEAR, caller="5559999")
    async with asyncio.timeout(5):
        assert await party.answered()                     # the modem auto-answered
    await _line_back_to_idle(pair, sub)


async def test_noise_read_as_connect_is_hung_up(exchange_pair: LinePair) -> None:
    """Line noise that reads as ``CONNECT 33600`` with no call: the engine
    believes it is online; the line must find its way back to idle."""
    pair = exchange_pair
    sub = pair.near.engine.events()
    pair.near_fake.unsolicited(b"\r\nCONNECT 33600\r\n")     # as the modem's output
    await _line_back_to_idle(pair, sub)


async def test_probe_that_gets_the_line_first_hangs_an_unsolicited_connect_up(
        exchange_pair: LinePair) -> None:
    """The line hangs an unsolicited CONNECT up in a task of its own; a probe
    that takes the line's lock before that task does (soak seed 518: right
    after the CONNECT) must not fail on data mode, but hang the call up itself."""
    pair = exchange_pair
    async with pair.near.engine.events() as sub:
        pair.near_fake.unsolicited(b"\r\nCONNECT 33600\r\n")     # as the modem's output
        async with asyncio.timeout(5):
            while not isinstance(ev := await sub.get(), Unsolicited) \
                    or ev.kind is not UnsolicitedKind.CONNECT:
                pass
        # Woken with the line's event pump, before the hang-up task it starts.
        async with asyncio.timeout(10):
            await pair.near.probe()
    assert pair.near.engine.mode is EngineMode.COMMAND
    await wait_until(lambda: pair.near_fake.state == "command")


async def test_a_failing_background_hangup_is_reported_not_left_unretrieved(
        dce: ScriptedDCE, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dial cancelled as the modem connects leaves a call nobody wants,
    hung up by a task of the engine's own.  Whatever that task dies of is
    logged by the engine, never "Task exception was never retrieved"."""
    loop = asyncio.get_running_loop()
    unhandled: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: unhandled.append(context))
    try:
        engine = await Engine.open(dce.port, time_scale=SCALE)
        hangups: list[None] = []

        async def broken_hangup() -> None:
            hangups.append(None)
            raise RuntimeError("bug in hang-up")

        monkeypatch.setattr(engine, "hangup", broken_hangup)
        dce.hang_dials = dce.abort_connects = True
        with structlog.testing.capture_logs() as logs:
            dialling = asyncio.create_task(engine.originate("ATDT5551234"))
            await wait_until(lambda: bool(dce.commands))
            dialling.cancel()
            with pytest.raises(asyncio.CancelledError):
                await dialling
            await engine.close()
        del dialling
        gc.collect()
        assert hangups == [None]
        assert unhandled == []
        assert any(e["event"] == "background-task-failed" for e in logs)
    finally:
        loop.set_exception_handler(None)


async def test_cancelled_recovery_escape_leaves_the_engine_usable(
        engine: Engine, dce: ScriptedDCE) -> None:
    """A command cancelled while the recovery ladder's escape rung waits for
    an answer to ``+++``: the core must not stay escaping, or every later
    command is refused."""
    dce.silent = True                                   # a stalled modem: timeouts, then the ladder
    with pytest.raises(CommandTimeout):
        await engine.command("AT")
    command = asyncio.create_task(engine.command("AT"))
    async with asyncio.timeout(5):
        await dce.escape_seen.wait()
    command.cancel()
    with pytest.raises(asyncio.CancelledError):
        await command
    dce.silent = False
    assert engine.mode is EngineMode.COMMAND
    assert (await engine.command("AT")).ok
