"""Modem lines watched, not sampled: RI pulses shorter than any poll are counted.

Three sources are covered: RFC 2217 notifications from the fake exchange, the
Linux TIOCMIWAIT/TIOCGICOUNT path with the ioctls faked (a pty cannot notify),
and the polling fallback a plain pty gets.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import socket
import struct
import termios
import threading
from typing import Any

import pytest
from serial import rfc2217

from modemctl.errors import PortClosed
from modemctl.fake import Exchange
from modemctl.transport import open_transport
from modemctl.transport.linewatch import (
    ICOUNT,
    TIOCGICOUNT,
    TIOCMIWAIT,
    Edges,
    LineState,
    LineWatch,
    advance,
    kernel_cycles,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:serial.rfc2217")
RINGS = 6


async def changes_until(tr: Any, done: Any, within: float = 5.0) -> LineState:
    state: LineState = tr.line_state
    async with asyncio.timeout(within):
        while not done(state):
            state = await tr.wait_modem_change(state)
    return state


# --------------------------------------------------------------------- pure rules


def test_advance_counts_edges_and_extra_cycles() -> None:
    s0 = advance(LineState(), {"cd": False, "ri": False})
    s1 = advance(s0, {"ri": True})
    assert s1.ri and s1.ri_edges == Edges(1, 0) and s1.seq == s0.seq + 1
    # A pulse seen only as a delta (level unchanged): one rise and one fall.
    s2 = advance(s1, {"ri": True}, {"ri": 1})
    assert s2.ri_edges == Edges(2, 1)
    assert advance(s2, {"ri": True}) is s2            # nothing new: same state
    assert s2.rang_since(s0) == 2


def test_kernel_counters_give_pulses_between_wakeups() -> None:
    low = advance(LineState(), {"cd": False, "ri": False, "dsr": True, "cts": True})
    # RI counts trailing edges: two finished pulses, level low again.
    assert kernel_cycles((0, 0, 0, 0), (0, 2, 0, 0), low, {"ri": False})["ri"] == 2
    # RI fell once and is high again: one pulse ended, another began.
    high = advance(low, {"ri": True})
    cyc = kernel_cycles((0, 0, 0, 0), (0, 1, 0, 0), high, {"ri": True})
    assert advance(high, {"ri": True}, cyc).ri_edges == Edges(2, 1)
    # DCD counts every transition: 3 transitions ending high = rise, fall, rise.
    cyc = kernel_cycles((0, 0, 0, 0), (3, 0, 0, 0), low, {"cd": True})
    assert advance(low, {"cd": True}, cyc).cd_edges == Edges(2, 1)


async def test_rfc2217_delta_bit_with_unchanged_level_is_a_pulse() -> None:
    """A server that sampled after the pulse ended still sets TERI/delta-RI."""
    watch = LineWatch("rfc2217", {"cd": False, "ri": False, "dsr": True, "cts": True})
    watch.update_rfc2217(rfc2217.MODEMSTATE_MASK_DSR | rfc2217.MODEMSTATE_MASK_CTS
                         | rfc2217.MODEMSTATE_MASK_RI_CHANGE)
    assert watch.state.ri is False and watch.state.ri_edges == Edges(1, 1)
    # The usual pair (level with its delta) counts once per edge.
    watch.update_rfc2217(rfc2217.MODEMSTATE_MASK_RI | rfc2217.MODEMSTATE_MASK_RI_CHANGE)
    watch.update_rfc2217(rfc2217.MODEMSTATE_MASK_RI_CHANGE)
    assert watch.state.ri_edges == Edges(2, 2)
    assert watch.state.dsr_edges == Edges(0, 1)


# --------------------------------------------------------------------- RFC 2217


async def test_every_short_ring_pulse_is_reported_over_rfc2217() -> None:
    """RI on for 4 ms, off for 8 ms (time scale 0.002): far below the 50 ms a
    poller samples at, yet each RING the modem sent has its RI pulse."""
    async with Exchange(time_scale=0.002) as ex:
        line = await ex.add_line("5551002", personality="agere-v92", rfc2217=True)
        assert line.url is not None
        tr = await open_transport(line.url)
        try:
            assert tr.line_watch_mode == "rfc2217"
            await ex.ring_in("5551002", max_rings=RINGS)
            state = await changes_until(tr, lambda s: s.ri_edges.falls >= RINGS)
            text = b""
            async with asyncio.timeout(5):
                while text.count(b"RING") < RINGS:
                    text += await tr.read()
            assert state.ri_edges == Edges(RINGS, RINGS)
            assert text.count(b"RING") == RINGS
            assert state.ri is False
        finally:
            await tr.close()
        with pytest.raises(PortClosed):
            await tr.wait_modem_change()


# --------------------------------------------------------------------- polling / none


async def test_a_pty_cannot_notify_and_is_polled(pty_path: str) -> None:
    tr = await open_transport(pty_path)
    try:
        assert tr.line_watch_mode == "poll"
        # A pty has no lines at all: nothing ever changes, waiting is bounded by us.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.15):
                await tr.wait_modem_change()
    finally:
        await tr.close()


async def test_socket_url_has_no_lines_and_close_ends_the_wait() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        tr = await open_transport(f"socket://127.0.0.1:{server.getsockname()[1]}")
        assert tr.line_watch_mode == "none"
        waiter = asyncio.ensure_future(tr.wait_modem_change())
        await asyncio.sleep(0)                  # one step: the waiter now waits
        assert not waiter.done()
        await tr.close()
        with pytest.raises(PortClosed):
            await asyncio.wait_for(waiter, 2)
    finally:
        server.close()


# --------------------------------------------------------------------- TIOCMIWAIT


class FakeUart:
    """A UART's line state as the Linux serial core shows it through ioctls,
    grafted onto a pty (which itself answers these ioctls with ENOTTY)."""

    def __init__(self, rdev: int, can_wait: bool = True) -> None:
        self.rdev = rdev
        self.can_wait = can_wait
        self.bits = termios.TIOCM_DSR | termios.TIOCM_CTS
        self.counts = {"cts": 0, "dsr": 0, "rng": 0, "dcd": 0}
        self.cond = threading.Condition()
        self.waiting = 0
        self.waited_fds: set[int] = set()
        self.real = fcntl.ioctl

    def ours(self, fd: int) -> bool:
        try:
            return os.fstat(fd).st_rdev == self.rdev
        except OSError:
            return False

    def ioctl(self, fd: int, code: int, arg: Any = 0, *rest: Any) -> Any:
        if not self.ours(fd):
            return self.real(fd, code, arg, *rest)
        if code == TIOCGICOUNT:
            c = self.counts
            with self.cond:
                return ICOUNT.pack(c["cts"], c["dsr"], c["rng"], c["dcd"], *[0] * 16)
        if code == termios.TIOCMGET:
            with self.cond:
                return struct.pack("I", self.bits)
        if code == TIOCMIWAIT:
            if not self.can_wait:
                raise OSError(errno.EINVAL, "no TIOCMIWAIT")
            with self.cond:
                before = dict(self.counts)
                self.waiting += 1
                self.waited_fds.add(fd)
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.counts != before)
                self.waiting -= 1
            return 0
        return self.real(fd, code, arg, *rest)

    def change(self, *, ri_pulses: int = 0, cd: bool | None = None) -> None:
        """Edges happen at once, as if between two wake-ups of the watcher."""
        with self.cond:
            self.counts["rng"] += ri_pulses
            if cd is not None and cd != bool(self.bits & termios.TIOCM_CD):
                self.bits ^= termios.TIOCM_CD
                self.counts["dcd"] += 1
            self.cond.notify_all()

    def wait_for_waiter(self) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: self.waiting > 0, timeout=5)


@pytest.fixture
def uart(pty_path: str, monkeypatch: pytest.MonkeyPatch) -> FakeUart:
    fake = FakeUart(os.stat(pty_path).st_rdev)
    monkeypatch.setattr(fcntl, "ioctl", fake.ioctl)
    return fake


async def test_tiocmiwait_counts_pulses_that_end_between_wakeups(
        pty_path: str, uart: FakeUart) -> None:
    tr = await open_transport(pty_path)
    try:
        assert tr.line_watch_mode == "ioctl"
        start = tr.line_state
        assert (start.cd, start.ri, start.dsr) == (False, False, True)
        await asyncio.to_thread(uart.wait_for_waiter)
        uart.change(ri_pulses=2)            # two whole pulses before the thread runs
        state = await changes_until(tr, lambda s: s.ri_edges.falls >= 2)
        assert state.ri_edges == Edges(2, 2) and state.ri is False
        assert state.rang_since(start) == 2
        await asyncio.to_thread(uart.wait_for_waiter)
        uart.change(cd=True)
        state = await changes_until(tr, lambda s: s.cd is True)
        assert state.cd_edges == Edges(1, 0)
        # The watcher waits on a descriptor of its own, never the port's.
        assert tr._port.fd not in uart.waited_fds   # type: ignore[attr-defined]
    finally:
        await asyncio.wait_for(tr.close(), 3)       # bounded although a wait is pending
    with pytest.raises(PortClosed):
        await tr.wait_modem_change()
    uart.change(ri_pulses=1)                        # lets the parked watcher end


async def test_counters_without_tiocmiwait_fall_back_to_polling(
        pty_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A driver that counts but cannot wait (EINVAL) is sampled, not failed."""
    fake = FakeUart(os.stat(pty_path).st_rdev, can_wait=False)
    monkeypatch.setattr(fcntl, "ioctl", fake.ioctl)
    tr = await open_transport(pty_path)
    try:
        fake.change(cd=True)
        state = await changes_until(tr, lambda s: s.cd is True)
        assert state.cd_edges == Edges(1, 0)
        assert tr.line_watch_mode == "poll"
    finally:
        await tr.close()


async def test_a_port_object_that_cannot_notify_is_sampled() -> None:
    """Any other pyserial class with lines (no descriptor, not RFC 2217): polled."""

    class Lines:
        cd = False
        ri = False
        dsr = True
        cts = True

    port = Lines()
    from modemctl.transport.linewatch import start_watch
    watch = start_watch(port, True, lambda fn, *a: fn(*a))
    assert watch.mode == "poll" and watch.state.dsr is True
    waiter = asyncio.ensure_future(watch.wait_change())
    await asyncio.sleep(0)                      # one step: the waiter has its snapshot
    assert not waiter.done()
    port.cd = True
    async with asyncio.timeout(2):
        state = await waiter
    assert state.cd is True and state.cd_edges == Edges(1, 0)
    watch.fail(PortClosed("closed"))
    with pytest.raises(PortClosed):
        await watch.wait_change()
