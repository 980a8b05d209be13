"""minicom and modemctl keep each other off a port reached through a symlink.

minicom names its UUCP lock after the path it was given (``LCK..tty5551001``
for the fake line's symlink), modemctl after the resolved device as well;
each must see the other's lock.  minicom runs in a real terminal (tmux) with
its lock directory pointed at the test's own (``pu lock`` in its rc file).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modemctl.errors import PortBusy
from modemctl.fake import Exchange, FakeLine
from modemctl.line import open_line
from modemctl.transport.lock import read_lock_pid
from tests.cli.tmux import Tmux
from tests.support import require_program

pytestmark = [pytest.mark.interop, pytest.mark.tmux]
SCALE = 0.05


@pytest.fixture
async def fake_line() -> AsyncIterator[FakeLine]:
    async with Exchange(time_scale=SCALE) as ex:
        yield await ex.add_line("5551001", personality="conexant-v92")


@pytest.fixture
def minicom(tmp_path: Path, lock_dir: Path) -> Iterator[tuple[str, Tmux]]:
    """minicom's path and a tmux whose HOME holds a minicom rc with our lock dir."""
    binary = require_program("minicom")
    home = tmp_path / "home"
    home.mkdir()
    # No init/reset strings: minicom must not talk to the modem, only lock it.
    (home / ".minirc.dfl").write_text(f"pu lock {lock_dir}\npu minit\npu mreset\n")
    term = Tmux(require_program("tmux"), {**os.environ, "HOME": str(home), "TERM": "xterm"})
    try:
        yield binary, term
    finally:
        term.kill()


async def test_minicom_through_a_symlink_stops_open_line(
        fake_line: FakeLine, minicom: tuple[str, Tmux], lock_dir: Path) -> None:
    binary, term = minicom
    assert Path(fake_line.port).is_symlink()  # noqa: ASYNC240 (a stat, not I/O to wait on)
    await asyncio.to_thread(term.start, [binary, "-D", fake_line.port])
    await asyncio.to_thread(term.wait_for, "Press CTRL-A Z")
    lock = lock_dir / f"LCK..{os.path.basename(fake_line.port)}"
    holder = read_lock_pid(lock)
    assert holder is not None
    with pytest.raises(PortBusy) as info:
        async with open_line(fake_line.port, time_scale=SCALE):
            pass
    assert info.value.holder_pid == holder
    assert info.value.holder_name == "minicom"
    assert "minicom" in str(info.value)
    assert read_lock_pid(lock) == holder          # minicom's lock is left alone


async def test_open_line_through_a_symlink_stops_minicom(
        fake_line: FakeLine, minicom: tuple[str, Tmux]) -> None:
    binary, term = minicom
    async with open_line(fake_line.port, time_scale=SCALE) as line:
        await asyncio.to_thread(term.start, [binary, "-D", fake_line.port])
        screen = await asyncio.to_thread(term.wait_for, "EXIT=")
        assert f"Device {fake_line.port} is locked" in screen
        assert "EXIT=1" in screen
        await line.probe()                        # and our line is still ours, working
