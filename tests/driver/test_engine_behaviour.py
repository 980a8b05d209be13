"""Engine rules: data-mode refusal, guard times, subscribers, abort, numeric mode, close."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
from pathlib import Path

import pytest
import structlog

from modemctl.at import CarrierLost, ResultCode, Unsolicited, UnsolicitedKind
from modemctl.driver import Engine, EngineMode
from modemctl.errors import CommandTimeout, InvalidCallState, InvalidCommand, PortClosed
from tests.driver.conftest import SCALE, wait_until
from tests.driver.responder import ScriptedDCE, scripted_dce


async def test_data_mode_refuses_commands_before_sending(engine: Engine,
                                                         dce: ScriptedDCE) -> None:
    await engine.originate("ATDT5551234")
    commands_before = list(dce.commands)
    for call in (engine.command("ATH"), engine.originate("ATDT1"), engine.resume()):
        with pytest.raises(InvalidCallState):
            await call
    # A marker sent after the refusals arrives after anything they sent.
    await engine.write(b"marker")
    async with asyncio.timeout(2):
        got = b""
        while len(got) < 6:
            got += await engine.read(6 - len(got))
    assert bytes(dce.received_data) == b"marker" and dce.commands == commands_before


async def test_escape_keeps_guard_time_after_data(engine: Engine, dce: ScriptedDCE) -> None:
    await engine.originate("ATD1")
    await engine.write(b"x" * 1000)
    await engine.escape()
    assert engine.mode is EngineMode.ONLINE_COMMAND
    # Measured where the DCE receives (same tolerance the DCE applies).
    assert dce.escape_quiet and dce.escape_quiet[-1] >= engine.guard_time * 0.9
    assert engine.guard_time == pytest.approx(50 * 0.02 * SCALE)


async def test_a_quiet_call_is_escaped_without_waiting_the_leading_guard_again() -> None:
    """The leading guard is silence in what we *send*: a call that has been
    quiet (from us) for a guard time already is escaped at once, so a
    hang-up without DTR costs one guard time, not two (issue 8 item 7)."""
    scale = 0.25                              # guard 0.25 s: timer slack is small beside it
    async with scripted_dce(scale) as dce:
        dce.echo = False
        engine = await Engine.open(dce.port, time_scale=scale)
        try:
            await engine.originate("ATD1")
            await engine.write(b"last words")
            async with asyncio.timeout(2):     # the far end talks back: that is no reason to wait
                assert await engine.read(10) == b"last words"
            await asyncio.sleep(engine.guard_time * 1.2)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await engine.hangup()
            took = loop.time() - started
            assert not dce.data_mode and dce.commands[-1] == "ATH"
            # The DCE took the escape: it measured a full guard of silence before it.
            assert len(dce.escape_quiet) == 1 and dce.escape_quiet[0] >= engine.guard_time
            # The trailing guard (the modem's, before its OK) and ATH; not a second guard.
            assert took < 1.6 * engine.guard_time, f"{took / engine.guard_time:.2f} guards"
        finally:
            await engine.close()


async def test_write_refused_while_escaping(engine: Engine, dce: ScriptedDCE) -> None:
    await engine.originate("ATD1")
    task = asyncio.create_task(engine.escape())
    async with asyncio.timeout(2):
        await dce.escape_seen.wait()              # +++ is out, its OK still to come
    with pytest.raises(InvalidCallState):
        await engine.write(b"oops")
    await task
    assert b"oops" not in dce.received_data


async def test_guard_time_follows_s12(engine: Engine) -> None:
    engine.s12 = 100
    assert engine.guard_time == pytest.approx(100 * 0.02 * SCALE)
    engine.guard_time = 0.2
    assert engine.guard_time == 0.2
    with pytest.raises(ValueError):
        engine.s12 = 300


async def test_slow_subscriber_drops_oldest_and_never_blocks(engine: Engine,
                                                             dce: ScriptedDCE) -> None:
    slow = engine.events(maxsize=3)
    fast = engine.events()
    for i in range(10):
        dce.send_line(f"RING {i}")
    assert (await engine.command("AT")).ok            # the reader was never blocked
    got = [await fast.get(2.0) for _ in range(10)]
    assert [e.fields["tag"] for e in got if isinstance(e, Unsolicited)] == \
        [str(i) for i in range(10)]
    assert slow.dropped == 7
    tags = [(await slow.get(1.0)) for _ in range(3)]
    assert [e.fields["tag"] for e in tags if isinstance(e, Unsolicited)] == ["7", "8", "9"]
    slow.close()
    fast.close()


async def test_events_end_when_engine_closes(dce: ScriptedDCE) -> None:
    engine = await Engine.open(dce.port, time_scale=SCALE)
    sub = engine.events()
    await engine.close()
    assert [e async for e in sub] == []
    assert engine.mode is EngineMode.CLOSED
    with pytest.raises(PortClosed):
        await engine.command("AT")
    await engine.close()                                # idempotent
    async with asyncio.timeout(1):                      # subscribing late ends at once too
        assert [e async for e in engine.events()] == []


async def test_dial_timeout_aborts_cleanly(engine: Engine, dce: ScriptedDCE) -> None:
    dce.hang_dials = True
    with pytest.raises(CommandTimeout):
        await engine.originate("ATDT5551234", timeout=2.0)
    assert engine.consecutive_timeouts == 0            # the modem answered the abort
    assert engine.mode is EngineMode.COMMAND
    assert (await engine.command("AT")).ok


async def test_originate_takes_only_d_a_o(engine: Engine) -> None:
    with pytest.raises(InvalidCommand):
        await engine.originate("ATI0")
    with pytest.raises(InvalidCallState):
        await engine.resume()                           # nothing to resume


async def test_numeric_mode_final_at_end_of_input(engine: Engine, dce: ScriptedDCE) -> None:
    assert (await engine.command("ATV0")).numeric
    dce.replies["ATS0?"] = ["000", "OK"]
    r = await engine.command("ATS0?")
    assert r.numeric and r.info == ("000",) and r.final is ResultCode.OK


async def test_auto_answer_connect_enters_data_mode(engine: Engine, dce: ScriptedDCE) -> None:
    async with engine.events() as sub:
        dce.send_line("RING")
        dce.data_mode = True
        dce.send_line("CONNECT 33600")
        dce.send_raw(b"welcome")
        kinds = []
        while len(kinds) < 2:
            ev = await sub.get(2.0)
            if isinstance(ev, Unsolicited):
                kinds.append(ev.kind)
    assert kinds == [UnsolicitedKind.RING, UnsolicitedKind.CONNECT]
    assert engine.mode is EngineMode.DATA
    async with asyncio.timeout(2):
        assert await engine.read(100) == b"welcome"


async def test_close_releases_lock_after_port_failure(dce: ScriptedDCE,
                                                      lock_dir: Path) -> None:
    engine = await Engine.open(dce.port, time_scale=SCALE, recovery=False)
    assert os.listdir(lock_dir)
    dce.close()                                         # the device goes away
    with pytest.raises((PortClosed, CommandTimeout)):
        await engine.command("AT")
    await engine.close()
    assert not os.listdir(lock_dir)


async def test_set_dtr_on_pty_reports_no_line(engine: Engine) -> None:
    assert await engine.set_dtr(False) is False
    assert engine.lines.cd is None and engine.lines.ri is None


async def test_trace_logs_every_byte(dce: ScriptedDCE) -> None:
    engine = await Engine.open(dce.port, time_scale=SCALE, trace=True)
    try:
        with structlog.testing.capture_logs() as logs:
            await engine.command("AT")
    finally:
        await engine.close()
    traces = [e for e in logs if e["event"] == "trace"]
    assert {e["dir"] for e in traces} == {"tx", "rx"}
    assert "".join(e["text"] for e in traces if e["dir"] == "tx") == "AT\\r"


async def test_asyncio_backend_engine(dce: ScriptedDCE) -> None:
    engine = await Engine.open(dce.port, time_scale=SCALE, backend="asyncio")
    try:
        r = await engine.command("AT")
        assert r.ok and r.final is ResultCode.OK
        await engine.originate("ATD1")
        await engine.write(b"ping")
        async with asyncio.timeout(2):
            assert await engine.read(10) == b"ping"
        await engine.hangup()
        assert engine.mode is EngineMode.COMMAND
    finally:
        await engine.close()


@pytest.mark.parametrize("seed", range(8))
async def test_hostile_bytes_give_typed_outcomes_only(engine: Engine, dce: ScriptedDCE,
                                                      seed: int) -> None:
    """Random and hostile bytes between commands: every command ends in a
    Response or a typed modemctl error (anything else fails the test), within
    its deadline, never a hang; and once the junk stops the engine works."""
    import random

    from modemctl.errors import ModemctlError

    rnd = random.Random(seed)
    # The framing under test is echo on (the junk's unterminated tail is
    # ended by the echo); a numeric "0" in the junk must not make the engine
    # re-assert its own format (E0) here.
    engine.format_command = None
    pieces = [b"\r\n", b"OK", b"ERROR", b"RING", b"CONNECT 9600", b"NO CARRIER", b"0\r",
              b"+++", b"\xff\x00", b"AT", b"NMBR=", b"X" * 5000]
    async with asyncio.timeout(20):
        for _ in range(6):
            junk = b"".join(rnd.choice(pieces) if rnd.random() < 0.7 else
                            rnd.randbytes(rnd.randint(1, 200)) for _ in range(rnd.randint(1, 30)))
            dce.send_raw(junk)
            with contextlib.suppress(ModemctlError):
                await engine.command("AT", timeout=2.0)
            if engine.mode is EngineMode.DATA:
                dce.data_mode = True
                await engine.hangup()
        assert engine.mode is EngineMode.COMMAND
        dce.replies["ATI0"] = ["56000", "OK"]
        r = await engine.command("ATI0", timeout=2.0)
    assert r.ok and r.info == ("56000",)


async def test_reader_crash_fails_typed_and_reopen_recovers(engine: Engine, dce: ScriptedDCE,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    core = engine._core
    original = core.receive_data
    crashed: list[bytes] = []

    def crash_once(data: bytes) -> None:
        if not crashed:
            crashed.append(data)
            raise RuntimeError("simulated bug in event handling")
        original(data)

    monkeypatch.setattr(core, "receive_data", crash_once)
    with pytest.raises(PortClosed):
        await engine.command("AT")
    steps = engine.recoveries[-1]
    assert [s.action for s in steps] == ["resync", "escape", "dtr-drop", "reset", "reopen"]
    assert steps[-1].succeeded and not any(s.succeeded for s in steps[:-1])
    assert (await engine.command("AT")).ok


async def test_numeric_mode_call_escape_and_resume(engine: Engine, dce: ScriptedDCE) -> None:
    assert (await engine.command("ATV0")).numeric
    r = await engine.originate("ATDT5551234")
    assert r.numeric and r.final is ResultCode.CONNECT
    await engine.write(b"abc0")
    async with asyncio.timeout(2):
        got = b""
        while len(got) < 4:
            got += await engine.read(10)
    assert got == b"abc0"
    await engine.escape()                       # OK arrives as "0\r": resolved on quiet
    assert engine.mode is EngineMode.ONLINE_COMMAND
    assert (await engine.resume()).final is ResultCode.CONNECT
    await engine.hangup()
    assert engine.mode is EngineMode.COMMAND


async def test_cancelled_dial_is_aborted_before_the_next_command(engine: Engine,
                                                                 dce: ScriptedDCE) -> None:
    """Ctrl-C during a dial: the modem gets the abort character, and its
    NO CARRIER answers the dial, not the command that follows."""
    dce.hang_dials = True
    task = asyncio.create_task(engine.originate("ATDT5551234"))
    async with asyncio.timeout(2):
        await dce.wait_command("ATDT5551234")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    dce.hang_dials = False
    dce.replies["ATI0"] = ["56000", "OK"]
    r = await engine.command("ATI0")
    assert r.final is ResultCode.OK and r.info == ("56000",)
    assert engine.mode is EngineMode.COMMAND


async def test_unread_data_of_a_finished_call_is_not_the_next_calls(engine: Engine,
                                                                    dce: ScriptedDCE) -> None:
    await engine.originate("ATDT5551234")
    dce.data_echo = False
    async with engine.events() as sub:
        dce.send_raw(b"+++")             # the far end escaping as it hangs up
        await wait_until(lambda: engine.buffered == 3)
        dce.carrier_drop()
        for _ in range(10):
            if isinstance(await sub.get(2.0), CarrierLost):
                break
    assert engine.mode is EngineMode.COMMAND
    await engine.originate("ATDT5551235")
    dce.send_raw(b"hello2")
    async with asyncio.timeout(2):
        assert await engine.read(100) == b"hello2"


async def test_close_is_bounded_even_if_a_task_ignores_cancel(dce: ScriptedDCE) -> None:
    """Whatever loses a cancellation below (Python 3.11's wait_for could), an
    engine task (the line watch) that will not stop must not make close() hang."""
    engine = await Engine.open(dce.port, time_scale=SCALE)
    release, started = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        for _ in range(100):                      # bounded: ends when the test releases it
            try:
                await release.wait()
                return
            except asyncio.CancelledError:
                continue

    assert engine._poller is None               # a pty has no lines to watch
    engine._poller = asyncio.create_task(stubborn(), name="stubborn")
    stubborn_task = engine._poller
    async with asyncio.timeout(2):
        await started.wait()                      # it runs, blocked in its try
    try:
        async with asyncio.timeout(5):
            await engine.close()
        assert engine.mode is EngineMode.CLOSED and not stubborn_task.done()
    finally:
        release.set()
        await stubborn_task


async def test_a_command_behind_a_full_write_queue_times_out_cleanly(dce: ScriptedDCE) -> None:
    """The modem stops reading (flow control held, say) and the write queue
    is full: the command waits for room only until its deadline, then raises
    CommandTimeout; nothing is left for the loop to report as unretrieved."""
    loop = asyncio.get_running_loop()
    errors: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    engine = await Engine.open(dce.port, time_scale=SCALE)
    try:
        loop.remove_reader(dce.master)                # the DCE reads nothing more
        transport = engine._transport
        for _ in range(1000):                         # pty buffer, then the queue
            if not transport.try_write(b"x" * 4096):
                break
        else:
            pytest.fail("the write queue never filled")
        with pytest.raises(CommandTimeout):
            async with asyncio.timeout(5):
                await engine.command("AT")
    finally:
        await engine.close()
        loop.set_exception_handler(None)
    gc.collect()
    await asyncio.sleep(0)
    assert errors == []
