"""The cu-style session loop, against an in-memory call."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from modemctl.cli.terminal import SessionEnd, run_session
from tests.support import wait_until


class FakeCall:
    """A call whose far end is a queue (``b""`` ends the call)."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.sent = bytearray()
        self.reads_cancelled = 0

    async def read(self, n: int) -> bytes:
        try:
            return await self.incoming.get()
        except asyncio.CancelledError:
            self.reads_cancelled += 1
            raise

    async def write(self, data: bytes) -> None:
        self.sent += data


async def no_secure() -> None:
    raise AssertionError("secure not expected")


async def test_typed_bytes_go_to_the_call_and_tilde_dot_hangs_up() -> None:
    call, out = FakeCall(), io.BytesIO()
    result = await run_session(call, stdin=io.BytesIO(b"hello\r~.ATI3\n"), stdout=out,
                               secure=no_secure)
    assert result.end is SessionEnd.HANGUP
    assert result.unread == b"ATI3\n"          # typed after ~.: not for the call
    assert bytes(call.sent) == b"hello\r"


async def test_end_of_input_ends_the_session() -> None:
    call = FakeCall()
    result = await run_session(call, stdin=io.BytesIO(b"abc"), stdout=io.BytesIO(),
                               secure=no_secure)
    assert result.end is SessionEnd.EOF and bytes(call.sent) == b"abc"


async def test_far_end_data_reaches_stdout_and_its_hangup_ends_the_session() -> None:
    call, out = FakeCall(), io.BytesIO()
    r, w = os.pipe()                       # stdin that stays open: only the far end ends it
    try:
        for chunk in (b"CONNECTED\r\n", b"welcome\r\n", b""):
            call.incoming.put_nowait(chunk)
        with os.fdopen(r, "rb", buffering=0, closefd=False) as stdin:
            end = (await asyncio.wait_for(
                run_session(call, stdin=stdin, stdout=out, secure=no_secure), 5)).end
    finally:
        os.close(r)
        os.close(w)
    assert end is SessionEnd.REMOTE
    assert out.getvalue() == b"CONNECTED\r\nwelcome\r\n"


async def test_pipe_input_is_read_through_the_event_loop() -> None:
    call = FakeCall()
    r, w = os.pipe()
    os.write(w, b"line one\r")
    try:
        with os.fdopen(r, "rb", buffering=0, closefd=False) as stdin:
            task = asyncio.create_task(run_session(call, stdin=stdin, stdout=io.BytesIO(),
                                                   secure=no_secure))
            await wait_until(lambda: bytes(call.sent) == b"line one\r", "the first line sent")
            os.write(w, b"~.")
            end = (await asyncio.wait_for(task, 5)).end
    finally:
        os.close(r)
        os.close(w)
    assert end is SessionEnd.HANGUP and bytes(call.sent) == b"line one\r"


async def test_tilde_s_pauses_reading_secures_and_resumes() -> None:
    call, out = FakeCall(), io.BytesIO()
    secured: list[bool] = []

    async def secure() -> None:
        secured.append(True)
        call.incoming.put_nowait(b"after secure")

    r, w = os.pipe()
    os.write(w, b"~s")
    try:
        with os.fdopen(r, "rb", buffering=0, closefd=False) as stdin:
            task = asyncio.create_task(run_session(call, stdin=stdin, stdout=out, secure=secure))
            await wait_until(lambda: out.getvalue() == b"after secure", "text after ~s")
            os.write(w, b"~.")
            end = (await asyncio.wait_for(task, 5)).end
    finally:
        os.close(r)
        os.close(w)
    assert secured == [True] and call.reads_cancelled >= 1
    assert out.getvalue() == b"after secure" and end is SessionEnd.HANGUP


async def test_help_is_printed_locally_and_not_sent(capsys: pytest.CaptureFixture[str]) -> None:
    call = FakeCall()
    await run_session(call, stdin=io.BytesIO(b"~?~."), stdout=io.BytesIO(), secure=no_secure)
    assert "~.  hang up" in capsys.readouterr().err
    assert bytes(call.sent) == b""


async def test_an_error_from_the_call_propagates() -> None:
    class Broken(FakeCall):
        async def read(self, n: int) -> bytes:
            raise OSError("port unplugged")

    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb", buffering=0, closefd=False) as stdin, \
                pytest.raises(OSError, match="unplugged"):
            await asyncio.wait_for(run_session(Broken(), stdin=stdin, stdout=io.BytesIO(),
                                               secure=no_secure), 5)
    finally:
        os.close(r)
        os.close(w)
