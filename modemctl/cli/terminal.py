"""Connecting the user's terminal to a call, like ``cu``.

Once a call is up, ``dial`` and ``answer`` hand it to :func:`run_session`:
keystrokes go to the far end, the far end's bytes go to stdout, and tilde
escapes (:mod:`modemctl.cli.escape`) are handled locally.  When stdin is a
terminal it is put in raw mode for the session (so Ctrl-C, arrows and
line editing reach the far end untouched, as in cu and picocom) and always
restored afterwards, also on errors.  When stdin is a pipe or file, its bytes
are sent as they come (the commands turn escapes off for piped input unless
asked) and end of input ends the session, which makes ``dial`` scriptable
(``printf 'AT\\r' | modemctl dial ...``); :mod:`modemctl.cli.script` adds the
chat-style steps and the quiet period that scripts need.

Local messages go to stderr so stdout carries only what the far end sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import enum
import io
import json
import os
import sys
import termios
import tty
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Literal, Protocol

from modemctl.cli.escape import ESCAPE, Command, EscapeParser, Send, help_text
from modemctl.cli.script import Matcher, SessionOptions

READ_SIZE = 4096


class CallIO(Protocol):
    """What a session needs from a call (a :class:`modemctl.Call` provides it)."""

    async def read(self, n: int) -> bytes: ...

    async def write(self, data: bytes) -> None: ...


class SessionEnd(enum.Enum):
    """Why a terminal session ended."""

    HANGUP = "hung up locally (~.)"
    REMOTE = "the call ended"
    EOF = "end of input"
    NOT_EXPECTED = "the expected text did not come"


@dataclass(frozen=True)
class SessionResult:
    """How a session ended, and keyboard bytes read after ``~.`` (not sent)."""

    end: SessionEnd
    unread: bytes = b""


# Set while the terminal is raw, so that log output can add the CR that the
# tty no longer adds to each LF (see :class:`TerminalStderr`).
_raw_active = False

# Set while the far end's last bytes on a terminal did not end a line (a bare
# CR of a progress counter, a prompt): a local message then starts on a new
# line instead of overwriting them.
_mid_line = False


class TerminalStderr:
    """A stderr stand-in for log output that stays readable while the tty is raw.

    It looks ``sys.stderr`` up on each write so that test runners which swap
    the stream still capture it.
    """

    def write(self, text: str) -> int:
        stream = sys.stderr
        stream.write(text.replace("\n", "\r\n") if _raw_active else text)
        return len(text)

    def flush(self) -> None:
        sys.stderr.flush()


# Set by ``--log-format json``: local messages are then JSON objects too, so
# that stderr is one stream a machine can read.
_json_lines = False


def use_json_lines(on: bool) -> None:
    """Make :func:`notice` write one JSON object per message (``--log-format json``)."""
    global _json_lines
    _json_lines = on


def json_lines() -> bool:
    """True when local messages are written as JSON."""
    return _json_lines


#: The levels a JSON line can carry (structlog's names, as the log lines spell them).
Level = Literal["debug", "info", "warning", "error", "critical"]


def json_line(event: str, level: Level, **fields: object) -> str:
    """One JSON object in the shape of the JSON log lines (event, level, timestamp)."""
    stamp = datetime.datetime.now(datetime.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"event": event, "level": level, "timestamp": stamp, **fields})


def notice(text: str, *, event: str = "notice", level: Level = "info",
           **fields: object) -> None:
    """Print a local message during a session, on its own line(s), to stderr.

    With ``--log-format json`` the message is one JSON object (``event``,
    ``message`` and ``fields``) instead of text.
    """
    global _mid_line
    if _json_lines:
        text = json_line(event, level, message=text, **fields)
    body = text.replace("\n", "\r\n") if _raw_active else text
    end = "\r\n" if _raw_active else "\n"
    lead = "\r\n" if _raw_active else ("\n" if _mid_line else "")
    _mid_line = False
    sys.stderr.write(f"{lead}{body}{end}")
    sys.stderr.flush()


@contextlib.contextmanager
def raw_terminal(stream: BinaryIO) -> Iterator[bool]:
    """Put ``stream`` (stdin) in raw mode if it is a terminal; yield whether it is.

    The saved attributes are restored with TCSADRAIN on every exit path, so a
    crash can never leave the user's shell without echo.
    """
    global _raw_active
    fd = _fileno(stream)
    if fd is None or not os.isatty(fd):
        yield False
        return
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd, termios.TCSANOW)
        _raw_active = True
        yield True
    finally:
        _raw_active = False
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def std_streams() -> tuple[BinaryIO, BinaryIO]:
    """The process's binary stdin and stdout (test runners swap ``sys.std*``)."""
    return sys.stdin.buffer, sys.stdout.buffer


def _fileno(stream: object) -> int | None:
    try:
        fileno = stream.fileno  # type: ignore[attr-defined]
        return int(fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


class _Input:
    """Keyboard (or pipe) bytes as an awaitable stream; ``b""`` is end of input.

    Ttys and pipes are watched with the event loop (``add_reader``), so that
    nothing blocks and nothing is left behind in a thread when the session
    ends.  Streams the loop cannot watch (regular files, in-memory test
    streams) never block, so they are read directly.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._fd = _fileno(stream)
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._watching = False
        if self._fd is not None:
            try:
                asyncio.get_running_loop().add_reader(self._fd, self._readable)
                self._watching = True
            except (PermissionError, OSError, ValueError):
                self._watching = False

    def _readable(self) -> None:
        assert self._fd is not None
        try:
            data = os.read(self._fd, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.close()
        self._queue.put_nowait(data)

    async def read(self) -> bytes:
        if self._watching or not self._queue.empty():
            return await self._queue.get()
        await asyncio.sleep(0)
        read1 = getattr(self._stream, "read1", None)
        data: bytes = read1(READ_SIZE) if read1 is not None else self._stream.read(READ_SIZE)
        return data

    def close(self) -> None:
        if self._watching and self._fd is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._fd)
        self._watching = False


async def run_session(call: CallIO, *, stdin: BinaryIO, stdout: BinaryIO,
                      secure: Callable[[], Awaitable[None]],
                      options: SessionOptions | None = None) -> SessionResult:
    """Bridge the terminal and ``call`` until ``~.``, end of input or the call ends.

    ``secure`` runs for ``~s``; while it runs the far end is not read (the
    modem is briefly in command mode), and reading resumes afterwards.
    ``options`` sets the escape character, local echo, the script steps run
    before any input is read, and the quiet period after end of input.
    The caller hangs up; this function only reports why the session ended
    (and hands back what was typed after ``~.``, for the AT console).
    """
    opts = options or SessionOptions()
    shown = _fileno(stdout)
    on_terminal = shown is not None and os.isatty(shown)
    parser = EscapeParser(opts.escape)
    source = _Input(stdin)
    matcher = Matcher()
    heard = asyncio.Event()
    loop = asyncio.get_running_loop()
    last_heard = loop.time()

    async def pump_remote() -> None:
        nonlocal last_heard
        global _mid_line
        while True:
            data = await call.read(READ_SIZE)
            if not data:
                return
            stdout.write(data)
            stdout.flush()
            _mid_line = on_terminal and not data.endswith(b"\n")
            matcher.feed(data)
            last_heard = loop.time()
            heard.set()

    async def send(data: bytes) -> None:
        await call.write(data)
        if opts.echo:
            stdout.write(data)
            stdout.flush()

    async def expect(text: bytes) -> bool | None:
        """True when ``text`` came, False on timeout, None when the call ended first."""
        deadline = loop.time() + opts.expect_timeout
        while not matcher.take(text):
            if remote.done():
                return None
            heard.clear()
            waiter = asyncio.ensure_future(heard.wait())
            await asyncio.wait({waiter, remote}, timeout=max(deadline - loop.time(), 0),
                               return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if not heard.is_set() and not remote.done():
                return False
        return True

    async def quiet(idle: float) -> bool:
        """Wait until the far end has been quiet for ``idle`` s; False if the call ended."""
        start = loop.time()
        while True:
            left = max(last_heard, start) + idle - loop.time()
            if left <= 0:
                return True
            await asyncio.wait({remote}, timeout=left)
            if remote.done():
                return False

    remote = asyncio.create_task(pump_remote())
    try:
        for step in opts.steps:
            if step.kind == "send":
                await send(step.data)
                continue
            came = await expect(step.data)
            if came is None:
                remote.result()           # re-raise what ended the call, if anything
                return SessionResult(SessionEnd.REMOTE)
            if not came:
                return SessionResult(SessionEnd.NOT_EXPECTED)
        while True:
            keys = asyncio.create_task(source.read())
            done, _ = await asyncio.wait({keys, remote}, return_when=asyncio.FIRST_COMPLETED)
            if keys not in done:
                keys.cancel()
                remote.result()           # re-raise what ended the call, if anything
                return SessionResult(SessionEnd.REMOTE)
            data = keys.result()
            if not data:
                for action in parser.finish():
                    if isinstance(action, Send):
                        await send(action.data)
                if opts.idle is not None and not await quiet(opts.idle):
                    remote.result()
                    return SessionResult(SessionEnd.REMOTE)
                return SessionResult(SessionEnd.EOF)
            for action in parser.feed(data):
                if isinstance(action, Send):
                    await send(action.data)
                elif action is Command.HANGUP:
                    return SessionResult(SessionEnd.HANGUP, parser.unconsumed)
                elif action is Command.HELP:
                    notice(help_text(opts.escape or ESCAPE))
                elif action is Command.SECURE:
                    remote = await _restart_after(remote, secure, pump_remote)
    finally:
        source.close()
        remote.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await remote


async def _restart_after(remote: asyncio.Task[None], action: Callable[[], Awaitable[None]],
                         pump: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
    """Stop reading the far end, run ``action``, start reading again."""
    if remote.done():
        return remote
    remote.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await remote
    try:
        await action()
    finally:
        remote = asyncio.ensure_future(pump())
    return remote
