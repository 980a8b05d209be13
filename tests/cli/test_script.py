"""Chat-style steps and the quiet period, byte by byte and against an in-memory call."""

from __future__ import annotations

import asyncio
import io
import os

import pytest

from modemctl.cli.script import Matcher, SessionOptions, Step, unescape
from modemctl.cli.terminal import SessionEnd, run_session
from tests.cli.test_terminal import FakeCall, no_secure


def test_matcher_finds_text_split_across_chunks_and_consumes_it() -> None:
    matcher = Matcher()
    matcher.feed(b"welcome\r\nlog")
    assert not matcher.take(b"login:")
    matcher.feed(b"in: ")
    assert matcher.take(b"login:")
    assert not matcher.take(b"login:")        # a second expect waits for a new one


def test_unescape_spells_control_characters_as_chat_does() -> None:
    assert unescape(r"guest\r") == b"guest\r"
    assert unescape(r"\x1b[0m\\") == b"\x1b[0m\\"
    with pytest.raises(ValueError, match="bad escape"):
        unescape("\\x1")


async def test_steps_run_in_order_before_input() -> None:
    call, out = FakeCall(), io.BytesIO()
    call.incoming.put_nowait(b"login: ")
    steps = (Step("expect", b"login:"), Step("send", b"guest\r"))
    result = await run_session(call, stdin=io.BytesIO(b"typed"), stdout=out, secure=no_secure,
                               options=SessionOptions(steps=steps))
    assert result.end is SessionEnd.EOF and bytes(call.sent) == b"guest\rtyped"


async def test_expect_times_out() -> None:
    call = FakeCall()
    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb", buffering=0, closefd=False) as stdin:
            result = await asyncio.wait_for(run_session(
                call, stdin=stdin, stdout=io.BytesIO(), secure=no_secure,
                options=SessionOptions(steps=(Step("expect", b"never"),),
                                       expect_timeout=0.1)), 5)
    finally:
        os.close(r)
        os.close(w)
    assert result.end is SessionEnd.NOT_EXPECTED and bytes(call.sent) == b""


async def test_idle_waits_for_quiet_after_end_of_input() -> None:
    call, out = FakeCall(), io.BytesIO()

    async def chatty() -> None:
        for chunk in (b"one ", b"two ", b"three"):
            await asyncio.sleep(0.05)           # paces the far end: gaps well inside the idle time
            call.incoming.put_nowait(chunk)

    talker = asyncio.create_task(chatty())
    result = await asyncio.wait_for(run_session(
        call, stdin=io.BytesIO(b"go"), stdout=out, secure=no_secure,
        options=SessionOptions(idle=0.3)), 5)
    await talker
    assert result.end is SessionEnd.EOF
    assert out.getvalue() == b"one two three"     # nothing lost by hanging up early
