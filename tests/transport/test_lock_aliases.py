"""UUCP locks hold whatever name the port is reached by (symlinks, udev aliases)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tty
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modemctl.errors import PortBusy
from modemctl.transport import lock as lockmod
from modemctl.transport import open_transport
from modemctl.transport.lock import lock_name, lock_names, read_lock_pid


@pytest.fixture
def pty_link(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A pty slave and a symlink to it, as udev's ``/dev/modem`` would be."""
    master, slave = os.openpty()
    tty.setraw(slave)
    link = tmp_path / "ttyUSB-modem"
    link.symlink_to(os.ttyname(slave))
    try:
        yield os.ttyname(slave), link
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@contextlib.asynccontextmanager
async def live_process(holding: str | None = None) -> AsyncIterator[int]:
    """A live process; with ``holding``, one that has that device open (as
    minicom has the port it locked)."""
    code = ("import os, sys, time\n"
            "if len(sys.argv) > 1: os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)\n"
            "print('ready', flush=True); time.sleep(30)")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, *([holding] if holding else []),
        stdout=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(10):
            assert await proc.stdout.readline() == b"ready\n"
        yield proc.pid
    finally:
        proc.kill()
        await proc.wait()


def lock_files(lock_dir: Path) -> list[str]:
    return sorted(p.name for p in lock_dir.glob("LCK..*"))


def foreign_lock(path: Path, pid: int) -> None:
    """A lock as minicom writes it (HDB: ten-column PID and a newline)."""
    path.write_text(f"{pid:10d}\n")


def test_names_cover_the_device_and_every_hop(pty_link: tuple[str, Path], tmp_path: Path) -> None:
    real, link = pty_link
    by_id = tmp_path / "usb-FTDI_FT232R-if00"
    by_id.symlink_to(link)                         # a chain: by_id -> link -> pts
    names = lock_names(str(by_id), alias_dirs=())
    pts = real.removeprefix("/dev/")
    assert names[0] == "LCK.." + pts.replace("/", "_")          # canonical first
    assert set(names) == {"LCK.." + pts.replace("/", "_"), "LCK.." + pts.split("/")[-1],
                          "LCK..usb-FTDI_FT232R-if00", "LCK..ttyUSB-modem"}
    assert len(names) == len(set(names))


def test_alias_dirs_find_links_to_the_same_device(pty_link: tuple[str, Path],
                                                  tmp_path: Path) -> None:
    real, _ = pty_link
    (tmp_path / "stdin").symlink_to("/proc/self/fd/0")        # never an alias
    names = lock_names(real, alias_dirs=(str(tmp_path),))
    assert "LCK..ttyUSB-modem" in names
    assert "LCK..stdin" not in names


async def test_lock_through_a_symlink_is_taken_under_both_names(
        pty_link: tuple[str, Path], lock_dir: Path) -> None:
    real, link = pty_link
    tr = await open_transport(str(link))
    try:
        for name in (lock_name(real), "LCK..ttyUSB-modem"):
            assert read_lock_pid(lock_dir / name) == os.getpid(), name
    finally:
        await tr.close()
    assert lock_files(lock_dir) == []


@pytest.mark.parametrize("opened_as", ["link", "device"])
async def test_a_lock_under_the_alias_name_stops_us(pty_link: tuple[str, Path], lock_dir: Path,
                                                    tmp_path: Path, opened_as: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """minicom given the symlink locks ``LCK..ttyUSB-modem``; we must see it
    whether we were given the same link or the device (found as a udev alias)."""
    real, link = pty_link
    monkeypatch.setattr(lockmod, "ALIAS_DIRS", (str(tmp_path),))
    async with live_process(holding=real) as pid:
        foreign_lock(lock_dir / "LCK..ttyUSB-modem", pid)
        with pytest.raises(PortBusy) as info:
            await open_transport(str(link) if opened_as == "link" else real)
        assert info.value.holder_pid == pid
        assert info.value.lock_path == str(lock_dir / "LCK..ttyUSB-modem")
        # Nothing of ours is left behind, and the foreign lock is untouched.
        assert lock_files(lock_dir) == ["LCK..ttyUSB-modem"]
        assert read_lock_pid(lock_dir / "LCK..ttyUSB-modem") == pid


async def test_a_stale_lock_under_the_alias_name_is_taken_over(
        pty_link: tuple[str, Path], lock_dir: Path) -> None:
    real, link = pty_link
    async with live_process() as pid:
        pass                                           # now dead: its locks are stale
    foreign_lock(lock_dir / "LCK..ttyUSB-modem", pid)
    foreign_lock(lock_dir / lock_name(real), pid)
    tr = await open_transport(str(link))
    try:
        assert read_lock_pid(lock_dir / "LCK..ttyUSB-modem") == os.getpid()
        assert read_lock_pid(lock_dir / lock_name(real)) == os.getpid()
    finally:
        await tr.close()


async def test_release_leaves_a_lock_another_process_took_over(
        pty_link: tuple[str, Path], lock_dir: Path) -> None:
    _, link = pty_link
    tr = await open_transport(str(link))
    async with live_process() as pid:
        os.unlink(lock_dir / "LCK..ttyUSB-modem")
        foreign_lock(lock_dir / "LCK..ttyUSB-modem", pid)
        await tr.close()
        assert read_lock_pid(lock_dir / "LCK..ttyUSB-modem") == pid


async def test_an_alias_name_held_for_another_device_is_a_collision(
        pty_link: tuple[str, Path], lock_dir: Path, tmp_path: Path) -> None:
    """Two exchanges' ``…/tty5551001`` links share a basename: a live holder of
    that name with another device open does not make our port busy."""
    real, link = pty_link
    other_master, other_slave = os.openpty()
    try:
        async with live_process(holding=os.ttyname(other_slave)) as pid:
            foreign_lock(lock_dir / "LCK..ttyUSB-modem", pid)
            tr = await open_transport(str(link))
            try:
                assert read_lock_pid(lock_dir / lock_name(real)) == os.getpid()
                assert read_lock_pid(lock_dir / "LCK..ttyUSB-modem") == pid   # left to it
            finally:
                await tr.close()
            assert lock_files(lock_dir) == ["LCK..ttyUSB-modem"]
    finally:
        os.close(other_master)
        os.close(other_slave)
