"""An ``rfc2217://`` port waits for the server, not for pyserial's fixed sleeps.

pyserial 3.5's client sleeps 50 ms before it looks for the acknowledgement
of each DTR change and 0.3 s in every close, and our reader thread was only
woken by its read timeout: over RFC 2217 a Ctrl-C'd ``modemctl dial`` took
0.5 s to exit, against 0.03 s now (README, "Ctrl-C during a dial").
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import pytest
from serial import rfc2217 as pyserial_rfc2217

import modemctl.transport as transport_module
from modemctl.fake import Exchange, FakeLine
from modemctl.fake import ports as fake_ports
from modemctl.transport import open_transport
from tests.support import read_exactly

SCALE = 0.05
NUMBER = "5551001"


class _Sleeps:
    """``time`` for pyserial's rfc2217 module, recording every sleep it takes."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real
        self.taken: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.taken.append(seconds)
        self._real.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


@pytest.fixture
async def line(exchange: Exchange) -> FakeLine:
    return await exchange.add_line(NUMBER, rfc2217=True)


async def test_dtr_changes_and_close_take_none_of_pyserials_sleeps(
        line: FakeLine, monkeypatch: pytest.MonkeyPatch) -> None:
    assert line.url is not None
    tr = await open_transport(line.url)
    sleeps = _Sleeps(time)
    monkeypatch.setattr(pyserial_rfc2217, "time", sleeps)
    try:
        assert await tr.set_dtr(False)
        assert line.dce.dtr is False            # acknowledged: the server has applied it
        assert await tr.set_dtr(True)
        assert line.dce.dtr is True
    finally:
        await tr.close()
    assert sleeps.taken == []


async def test_close_does_not_wait_for_the_reader_threads_read_timeout(
        line: FakeLine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transport's reader thread blocks in ``read()`` for its poll time;
    close wakes it (``cancel_read``) instead of waiting the poll out: with a
    30 s poll the old close took the reader join's bound, 2 s or more."""
    assert line.url is not None
    monkeypatch.setattr(transport_module, "READ_POLL", 30.0)
    tr = await open_transport(line.url)
    reader = tr._reader                                 # type: ignore[attr-defined]
    assert isinstance(reader, threading.Thread) and reader.is_alive()
    async with asyncio.timeout(1.0):
        await tr.close()
    assert not reader.is_alive()


async def test_a_port_reopened_at_once_finds_the_servers_one_slot_free(
        line: FakeLine) -> None:
    """pyserial's close slept 0.3 s so that a quick reconnect finds the server
    ready; the grace is now paid by the reconnect, and only by it."""
    assert line.url is not None
    for _ in range(2):
        tr = await open_transport(line.url)
        try:
            await tr.write(b"AT\r")
            assert b"OK" in await read_exactly(tr, len(b"AT\r\r\nOK\r\n"), within=5.0)
        finally:
            await tr.close()


async def test_a_dtr_change_fails_as_soon_as_the_connection_drops(
        exchange: Exchange, line: FakeLine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The server goes away while a DTR change awaits its answer: the change
    fails then (as "no DTR line", like any refused change), not when the
    network timeout (10 s here; pyserial's default is 3 s) runs out."""
    assert line.url is not None
    tr = await open_transport(line.url + "?timeout=10")
    unanswered = asyncio.Event()
    answer = fake_ports._AckingPortManager._telnet_process_subnegotiation

    def swallow_set_control(manager: Any, suboption: bytes) -> None:
        if suboption[:2] == pyserial_rfc2217.COM_PORT_OPTION + pyserial_rfc2217.SET_CONTROL:
            unanswered.set()
            return
        answer(manager, suboption)

    monkeypatch.setattr(fake_ports._AckingPortManager, "_telnet_process_subnegotiation",
                        swallow_set_control)
    try:
        changing = asyncio.create_task(tr.set_dtr(False))
        async with asyncio.timeout(5):
            await unanswered.wait()
        await exchange.remove_line(NUMBER)
        async with asyncio.timeout(2.0):
            assert await changing is False
    finally:
        await tr.close()
