"""Exclusive access as other serial programs see it (picocom locks with flock)."""

from __future__ import annotations

import asyncio

import pytest

from modemctl.errors import PortBusy
from modemctl.transport import open_transport
from modemctl.transport.lock import flock_holder
from tests.support import require_program, wait_until


@pytest.mark.interop
async def test_picocom_cannot_open_a_port_we_hold(pty_path: str) -> None:
    picocom = require_program("picocom")
    tr = await open_transport(pty_path)
    try:
        proc = await asyncio.create_subprocess_exec(
            picocom, "-q", "-x", "2000", pty_path, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        async with asyncio.timeout(10):
            _, err = await proc.communicate()
        assert proc.returncode != 0
        assert b"cannot lock" in err
    finally:
        await tr.close()


@pytest.mark.interop
async def test_port_held_by_picocom_is_port_busy_naming_it(pty_path: str) -> None:
    picocom = require_program("picocom")
    proc = await asyncio.create_subprocess_exec(
        picocom, "-q", "-x", "5000", pty_path, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        await wait_until(lambda: flock_holder(pty_path) == proc.pid,
                         "picocom has opened and locked the port", within=10)
        with pytest.raises(PortBusy) as info:
            await open_transport(pty_path)
        exc = info.value
        assert exc.holder_pid == proc.pid
        assert exc.holder_name == "picocom"
        assert "picocom" in str(exc)
    finally:
        proc.kill()
        await proc.wait()
