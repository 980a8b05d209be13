"""Transport over a pty pair, socket:// on 127.0.0.1 and loop://; locking; back-pressure."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from modemctl.errors import PortBusy, PortClosed, PortNotFound, TransportError
from modemctl.transport import open_transport
from modemctl.transport.base import Backend
from modemctl.transport.lock import lock_name, read_lock_pid
from tests.support import read_exactly, wait_until


def master_read(master: int, n: int, timeout: float = 2.0) -> bytes:
    """Up to ``n`` bytes from the pty's master, waiting in select (bounded)."""
    got = b""
    end = time.monotonic() + timeout
    os.set_blocking(master, False)
    while len(got) < n:
        left = end - time.monotonic()
        if left <= 0 or not select.select([master], [], [], left)[0]:
            break
        with contextlib.suppress(BlockingIOError):
            got += os.read(master, n - len(got))
    return got


@pytest.mark.parametrize("backend", ["thread", "asyncio"])
async def test_pty_round_trip_and_lines(pty_pair: tuple[int, str], backend: Backend) -> None:
    master, path = pty_pair
    tr = await open_transport(path, backend=backend)
    try:
        await tr.write(b"AT\r")
        await tr.drain()
        assert await asyncio.to_thread(master_read, master, 3) == b"AT\r"
        os.write(master, b"\r\nOK\r\n")
        assert await read_exactly(tr, 6) == b"\r\nOK\r\n"
        # A pty has no modem lines: ENOTTY -> None, and DTR cannot be driven.
        assert tr.lines.cd is None and tr.lines.ri is None
        assert await tr.set_dtr(False) is False
    finally:
        await tr.close()
    assert tr.closed


async def test_socket_url_round_trip() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted: list[socket.socket] = []

    def serve() -> None:
        conn, _ = server.accept()
        accepted.append(conn)
        conn.sendall(conn.recv(100).upper())

    thread = asyncio.create_task(asyncio.to_thread(serve))
    tr = await open_transport(f"socket://127.0.0.1:{port}")
    try:
        await tr.write(b"hello")
        assert await read_exactly(tr, 5) == b"HELLO"
        assert tr.lines.cd is None          # socket:// only has dummy lines
        await thread
        accepted[0].close()
        with pytest.raises(PortClosed):
            async with asyncio.timeout(2):
                await tr.read()
    finally:
        await tr.close()
        server.close()


async def test_loop_url() -> None:
    tr = await open_transport("loop://")
    try:
        await tr.write(b"ping")
        assert await read_exactly(tr, 4) == b"ping"
    finally:
        await tr.close()


async def test_asyncio_backend_refuses_loop_url() -> None:
    with pytest.raises(TransportError, match="asyncio"):
        await open_transport("loop://", backend="asyncio")


async def test_missing_device_is_port_not_found(tmp_path: Path) -> None:
    with pytest.raises(PortNotFound):
        await open_transport(str(tmp_path / "ttyNOPE"))


async def test_uucp_lock_created_and_removed(pty_pair: tuple[int, str], lock_dir: Path) -> None:
    _, path = pty_pair
    tr = await open_transport(path)
    lock = lock_dir / lock_name(path)
    assert lock.name.startswith("LCK..pts_")
    raw = lock.read_bytes()
    assert len(raw) == 11 and raw.endswith(b"\n")
    assert read_lock_pid(lock) == os.getpid()
    await tr.close()
    assert not lock.exists()


async def test_second_opener_in_process_gets_port_busy(pty_pair: tuple[int, str]) -> None:
    _, path = pty_pair
    tr = await open_transport(path)
    try:
        with pytest.raises(PortBusy) as exc:
            await open_transport(path)
        assert exc.value.holder_pid == os.getpid()
    finally:
        await tr.close()


async def test_live_holder_named_and_stale_lock_removed(pty_pair: tuple[int, str],
                                                        lock_dir: Path) -> None:
    _, path = pty_pair
    lock = lock_dir / lock_name(path)
    # A live process to name as the holder; killed below, long before 30 s.
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(30)")
    try:
        lock.write_text(f"{holder.pid:10d}\n")
        with pytest.raises(PortBusy) as exc:
            await open_transport(path)
        assert exc.value.holder_pid == holder.pid
        assert exc.value.holder_name and "python" in exc.value.holder_name
        assert str(holder.pid) in str(exc.value)
    finally:
        holder.kill()
        await holder.wait()
    # The holder is dead now: its lock is stale and is taken over.
    tr = await open_transport(path)
    try:
        assert read_lock_pid(lock) == os.getpid()
    finally:
        await tr.close()


async def test_flock_holder_outside_uucp_gets_port_busy(pty_pair: tuple[int, str]) -> None:
    """A pyserial user that ignores lock files but opens exclusively still wins."""
    import serial

    _, path = pty_pair
    other = serial.Serial(path, exclusive=True)
    try:
        with pytest.raises(PortBusy) as exc:
            await open_transport(path)
        assert exc.value.holder_pid == os.getpid()
    finally:
        other.close()


@contextlib.asynccontextmanager
async def lag_probe(interval: float = 0.01) -> AsyncIterator[list[float]]:
    """Measure how late the loop wakes up while the body runs."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            t0 = loop.time()
            await asyncio.sleep(interval)       # the probe's own tick: what is measured
            lags.append(loop.time() - t0 - interval)

    task = asyncio.create_task(probe())
    try:
        yield lags
    finally:
        stop.set()
        await task


@pytest.mark.parametrize("backend", ["thread", "asyncio"])
async def test_back_pressure_does_not_block_loop(pty_pair: tuple[int, str],
                                                 backend: Backend) -> None:
    """Write far more than a pty buffers while nobody reads: the writer waits,
    the loop keeps running, and close() is still bounded."""
    _, path = pty_pair
    tr = await open_transport(path, backend=backend)
    chunk = b"x" * 4096
    written = 0
    async with lag_probe() as lags:
        async def flood() -> None:
            nonlocal written
            for _ in range(2000):
                await tr.write(chunk)
                written += len(chunk)

        task = asyncio.create_task(flood())
        await wait_until(lambda: not tr._space.is_set(),  # type: ignore[attr-defined]
                         "the writer held back at the high-water mark")
        cpu0 = time.process_time()
        await asyncio.sleep(0.5)             # the window the CPU is measured over, not an order
        cpu = time.process_time() - cpu0
        assert not task.done()               # back-pressure is still holding the writer
        # Waiting must be idle: pyserial's own write() spins on EAGAIN (#280).
        assert cpu < 0.1, f"{cpu:.2f}s CPU while blocked"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        t0 = time.monotonic()
        await tr.close()
        close_time = time.monotonic() - t0
    assert written < 2000 * 4096
    # A blocking write would freeze the loop for good; allow scheduler noise only.
    assert max(lags) < 0.5, f"loop stalled {max(lags):.3f}s"
    assert close_time < (0.5 if backend == "thread" else 2.0)


async def test_spy_url_locks_the_wrapped_device(pty_pair: tuple[int, str], lock_dir: Path,
                                                tmp_path: Path) -> None:
    master, path = pty_pair
    log = tmp_path / "spy.txt"
    tr = await open_transport(f"spy://{path}?file={log}")
    try:
        assert (lock_dir / lock_name(path)).exists()
        await tr.write(b"ATZ\r")
        await tr.drain()
        assert await asyncio.to_thread(master_read, master, 4) == b"ATZ\r"
    finally:
        await tr.close()
    assert not (lock_dir / lock_name(path)).exists()
    assert "ATZ" in log.read_text()


@pytest.mark.parametrize(("url", "error"), [
    ("foo://nowhere", PortNotFound),
    ("socket://127.0.0.1:1", TransportError),
    ("rfc2217://127.0.0.1:1", TransportError),
])
async def test_open_errors_are_typed(url: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        await open_transport(url, open_timeout=5)


async def test_lock_file_formats(pty_pair: tuple[int, str], lock_dir: Path) -> None:
    """Old binary-PID locks are understood; unreadable ones block until a minute old."""
    _, path = pty_pair
    lock = lock_dir / lock_name(path)
    dead = 2 ** 22 + 12345                       # above the default pid_max: not running
    lock.write_bytes(dead.to_bytes(4, "little"))
    assert read_lock_pid(lock) == dead
    tr = await open_transport(path)             # stale binary lock taken over
    await tr.close()
    lock.write_text("garbage\n")
    with pytest.raises(PortBusy) as exc:
        await open_transport(path)
    assert exc.value.holder_pid is None
    old = time.time() - 120
    os.utime(lock, (old, old))
    tr = await open_transport(path)             # old garbage removed
    await tr.close()
    assert not lock.exists()


@pytest.mark.parametrize("backend", ["thread", "asyncio"])
async def test_hang_up_of_the_far_side_fails_the_read(pty_pair: tuple[int, str],
                                                      backend: Backend) -> None:
    """The device goes away (EIO on a pty whose master closed): read() raises
    PortClosed instead of waiting for ever."""
    master, path = pty_pair
    tr = await open_transport(path, backend=backend)
    try:
        reader = asyncio.ensure_future(tr.read())
        await wait_until(lambda: tr._rwaiter is not None,  # type: ignore[attr-defined]
                         "the reader waiting in read()")
        os.close(master)
        with pytest.raises(PortClosed):
            await asyncio.wait_for(reader, 2.0)
        assert tr.closed
    finally:
        await tr.close()


async def test_reading_pauses_at_high_water_and_resumes(pty_pair: tuple[int, str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that falls behind stops the port being read (the kernel buffers,
    then flow control); every byte still arrives, in order, once it catches up."""
    import modemctl.transport.threaded as threaded
    monkeypatch.setattr(threaded, "READ_HIGH_WATER", 1024)
    monkeypatch.setattr(threaded, "READ_CHUNK", 512)
    master, path = pty_pair
    tr = await open_transport(path)
    payload = bytes(range(256)) * 256                # 64 KiB, more than a pty holds
    try:
        os.set_blocking(master, False)
        sent = 0
        # Write until the transport has stopped reading the port and the kernel's
        # buffers are full too; each step lets the loop read what it will.
        for _ in range(len(payload)):
            try:
                sent += os.write(master, payload[sent:sent + 4096])
            except BlockingIOError:
                if not tr._fd_reading:                # type: ignore[attr-defined]
                    break
            if sent == len(payload):
                break
            await asyncio.sleep(0)                    # one loop step: the port is read
        assert not tr._fd_reading                     # type: ignore[attr-defined]
        held = len(tr._rbuf)                          # type: ignore[attr-defined]
        assert sent > 2048
        assert 1024 < held <= 1024 + 512, held       # stopped right after the mark
        assert await read_exactly(tr, sent) == payload[:sent]
    finally:
        await tr.close()


async def test_a_local_port_needs_no_thread_until_a_write_backs_up(
        pty_pair: tuple[int, str]) -> None:
    """Local ports are read by the loop and written eagerly: an AT exchange
    starts no thread (64 lines are 64 descriptors, not 128 threads)."""
    master, path = pty_pair
    tr = await open_transport(path)
    try:
        await tr.write(b"AT\r")
        assert await asyncio.to_thread(master_read, master, 3) == b"AT\r"
        os.write(master, b"\r\nOK\r\n")
        assert await read_exactly(tr, 6) == b"\r\nOK\r\n"
        names = {t.name for t in threading.enumerate()}
        assert f"rx {path}" not in names and f"tx {path}" not in names
        await tr.drain()                              # tcdrain runs off the loop
        assert f"tx {path}" in {t.name for t in threading.enumerate()}
    finally:
        await tr.close()


async def test_drains_waiting_across_close_fail_with_port_closed(
        pty_pair: tuple[int, str]) -> None:
    """Close while writes are backed up (nobody reads the pty) and several
    ``drain()`` calls wait behind them: every drain ends with PortClosed,
    none is left waiting for ever."""
    _, path = pty_pair
    tr = await open_transport(path)
    try:
        chunk = b"x" * 4096
        for _ in range(15):             # more than the pty holds, within HIGH_WATER
            await tr.write(chunk)
        drains = [asyncio.create_task(tr.drain()) for _ in range(3)]
        await asyncio.sleep(0.05)
        assert not any(d.done() for d in drains)    # held behind the unread data
    finally:
        await tr.close()
    async with asyncio.timeout(2):
        results = await asyncio.gather(*drains, return_exceptions=True)
    assert all(isinstance(r, PortClosed) for r in results), results


@pytest.mark.parametrize("backend", ["thread", "asyncio"])
async def test_a_receiver_gets_every_byte_in_order_and_hears_the_port_fail(
        pty_pair: tuple[int, str], backend: Backend) -> None:
    """Bytes buffered before a receiver is set are handed over first; while
    it is detached (back-pressure) bytes wait for read() or the next
    receiver; a device that goes away is reported to it once, as PortClosed."""
    master, path = pty_pair
    tr = await open_transport(path, backend=backend)
    got = bytearray()
    arrived = asyncio.Event()
    lost: list[PortClosed] = []
    lost_seen = asyncio.Event()

    def on_lost(exc: PortClosed) -> None:
        lost.append(exc)
        lost_seen.set()

    def on_data(data: bytes) -> None:
        got.extend(data)
        arrived.set()

    def until(n: int) -> Any:
        async def wait() -> None:
            async with asyncio.timeout(2):
                while len(got) < n:
                    arrived.clear()
                    await arrived.wait()
        return wait()

    try:
        os.write(master, b"first ")
        assert await read_exactly(tr, 2) == b"fi"       # the rest stays buffered
        tr.set_receiver(on_data, on_lost)
        assert bytes(got) == b"rst "                     # handed over at once
        os.write(master, b"second ")
        await until(len(b"rst second "))
        tr.set_receiver(None)
        os.write(master, b"third")
        assert await read_exactly(tr, 5) == b"third"     # detached: read() has it
        tr.set_receiver(on_data, on_lost)
        os.close(master)
        async with asyncio.timeout(2):
            await lost_seen.wait()
        assert bytes(got) == b"rst second "
        assert len(lost) == 1 and isinstance(lost[0], PortClosed)
    finally:
        await tr.close()
