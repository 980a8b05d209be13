"""Logging carries line and call_id; traces show bytes; no AT traffic during a call."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from modemctl.fake import Exchange
from modemctl.line import open_line
from tests.line.conftest import NEAR, SCALE, THIRD, PairFactory, read_exactly


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Whatever another test configured, let every level through for this one."""
    saved = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        yield
    finally:
        structlog.configure(**saved)


async def test_no_at_traffic_during_a_call(make_pair: PairFactory) -> None:
    pair = await make_pair("agere-v92", location="GB")
    call, incoming = await pair.connect(secure=True)
    sent: list[str] = []
    engine = pair.near.engine
    original = engine.command

    async def command(cmd: str, timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        sent.append(cmd)
        return await original(cmd, timeout)

    engine.command = command  # type: ignore[method-assign]
    party = await pair.ex.ring_in(NEAR, caller=THIRD)  # call waiting, ignored by +PCW=2
    assert party.outcome == "waiting-ignored"
    # Many round trips of call data (each one event-driven): nothing else is sent.
    for n in range(25):
        await call.write(bytes([n]))
        assert await read_exactly(incoming, 1) == bytes([n])
        await incoming.write(bytes([n]))
        assert await read_exactly(call, 1) == bytes([n])
    assert sent == []                                # no polling, nothing at all
    await call.drop()
    assert sent == ["ATH"]                           # the hang-up; nothing to restore


@pytest.mark.usefixtures("debug_logging")
async def test_logs_bind_line_and_call_id(make_pair: PairFactory) -> None:
    pair = await make_pair("usr-v90", location="US")
    with structlog.testing.capture_logs() as logs:
        call, _ = await pair.connect(secure=True)
        await call.drop()
    states = [e for e in logs if e["event"] == "call-state" and e.get("line") == "near"]
    assert states and all(e["call_id"] == call.call_id for e in states)
    dial = next(e for e in logs if e["event"] == "dial")
    assert dial["command"] == "ATDT*70,5551002" and dial["line"] == "near"


@pytest.mark.usefixtures("debug_logging")
async def test_trace_logs_bytes_as_hex_and_text() -> None:
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="conexant-v92")
        with structlog.testing.capture_logs() as logs:
            async with open_line(fake.port, "US", SCALE, trace=True, name="traced") as line:
                assert line.caps is not None
    traces = [e for e in logs if e["event"] == "trace"]
    tx = [e for e in traces if e["dir"] == "tx"]
    assert any("ATI0" in e["text"] for e in tx)
    assert all(set(e["hex"]) <= set("0123456789abcdef ") for e in traces)
