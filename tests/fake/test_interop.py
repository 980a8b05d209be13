"""Real third-party programs drive the fake exchange: chat (ppp), picocom, minicom, socat.

The exchange runs in the test's event loop; each program runs as a child
process on a fake line's pty, exactly as it would on ``/dev/ttyUSB0``.  The
programs are the judges here: if the fake's bytes were not what real modems
send, ``chat`` would not match ``CONNECT`` and picocom would not show data.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import signal
import sys
import termios
import tty
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modemctl.fake import Exchange
from tests.support import require_program, wait_until

pytestmark = pytest.mark.interop

SCALE = 0.05


class FdStream:
    """Non-blocking reads from a file descriptor with bounded ``expect``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = bytearray()
        os.set_blocking(fd, False)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                continue
            view = view[n:]

    async def _fill(self, within: float) -> None:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(self.fd, lambda: ready.done() or ready.set_result(None))
        try:
            await asyncio.wait_for(ready, within)
        except TimeoutError:
            return
        finally:
            loop.remove_reader(self.fd)
        try:
            self.buf += os.read(self.fd, 65536)
        except BlockingIOError:
            pass
        except OSError as e:  # EIO: the other side of the pty is gone
            if e.errno != errno.EIO:
                raise

    async def expect(self, needle: bytes, within: float = 10.0) -> bytes:
        """Everything up to and including ``needle``; fails after ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while needle not in self.buf:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {needle!r} within {within} s; "
                                     f"got {bytes(self.buf[-400:])!r}")
            await self._fill(min(left, 0.5))
        end = self.buf.index(needle) + len(needle)
        out = bytes(self.buf[:end])
        del self.buf[:end]
        return out


@contextlib.contextmanager
def raw_tty(path: str) -> Iterator[int]:
    """Open a fake line's device raw, without echo, as pppd does before running chat."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield fd
    finally:
        os.close(fd)


@pytest.fixture
async def ex() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as exchange:
        yield exchange


async def run_chat(chat: str, fd: int, script: list[str], chat_timeout: int = 10
                   ) -> tuple[int, str]:
    """Run ``chat -v -s`` on ``fd`` (stdin and stdout); return its exit code and log."""
    proc = await asyncio.create_subprocess_exec(
        chat, "-v", "-s", "-S", "-t", str(chat_timeout), *script,
        stdin=fd, stdout=fd, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), chat_timeout * 3)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, err.decode(errors="replace")


DIAL = ["ABORT", "BUSY", "ABORT", "NO CARRIER", "ABORT", "NO DIALTONE", "ABORT", "ERROR",
        "", "AT", "OK", "ATDT5551002", "CONNECT", r"\c"]


async def test_chat_dials_one_fake_line_from_another(ex: Exchange) -> None:
    chat = require_program("chat")
    a = await ex.add_line("5551001", personality="conexant-v92")
    b = await ex.add_line("5551002", personality="agere-v92")
    with raw_tty(a.port) as fa, raw_tty(b.port) as fb:
        answerer = asyncio.create_task(run_chat(
            chat, fb, ["ABORT", "ERROR", "", "AT", "OK", r"\c", "RING", "ATA", "CONNECT", r"\c"]))
        # RING written before the answering chat opens the tty would be discarded
        await wait_until(lambda: b.dce.dtr, "the answering chat opened its line")
        rc, log = await run_chat(chat, fa, DIAL)
        rc_b, log_b = await answerer
        assert rc == 0, log
        assert rc_b == 0, log_b
        # chat -v logs what it matched: the expect strings were really seen.
        assert "send (ATDT5551002^M)\nexpect (CONNECT)" in log
        assert "CONNECT\n -- got it" in log
        assert "RING\n -- got it" in log_b and "CONNECT\n -- got it" in log_b


async def test_chat_auto_answer_and_data(ex: Exchange) -> None:
    chat = require_program("chat")
    a = await ex.add_line("5551001", personality="usr-v90")
    b = await ex.add_line("5551002", personality="conexant-v92")
    with raw_tty(a.port) as fa, raw_tty(b.port) as fb:
        rc, log = await run_chat(chat, fb, ["", "ATS0=1", "OK", r"\c"])
        assert rc == 0, log
        rc, log = await run_chat(chat, fa, DIAL)
        assert rc == 0, log
        far = FdStream(fb)
        await far.expect(b"CONNECT")
        # The call is up: bytes chat's side writes reach the answering line unchanged.
        os.write(fa, b"over the line\x00\xff")
        await far.expect(b"over the line\x00\xff")


async def test_chat_sees_busy_and_no_dialtone(ex: Exchange) -> None:
    chat = require_program("chat")
    a = await ex.add_line("5551001", personality="conexant-v92")
    b = await ex.add_line("5551002", personality="hayes-basic")
    with raw_tty(a.port) as fa, raw_tty(b.port) as fb:
        rc, log = await run_chat(chat, fb, ["", "ATH1", "OK", r"\c"])  # B off-hook: busy
        assert rc == 0, log
        rc, log = await run_chat(chat, fa, DIAL)
        assert rc == 4, log  # 4 = the first ABORT string (BUSY) matched
        ex.set_line_dead("5551001", True)
        rc, log = await run_chat(chat, fa, DIAL)
        assert rc == 6, log  # 6 = the third ABORT string (NO DIALTONE) matched


async def start_in_terminal(argv: list[str], env: dict[str, str] | None = None
                            ) -> tuple[asyncio.subprocess.Process, FdStream]:
    """Run ``argv`` on a new pty (its terminal, 80x24); return it and the pty master."""
    master, slave = os.openpty()
    termios.tcsetwinsize(slave, (24, 80))
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
        env={**os.environ, "TERM": "xterm", **(env or {})})
    os.close(slave)
    return proc, FdStream(master)


async def stop_terminal(proc: asyncio.subprocess.Process, term: FdStream) -> int:
    try:
        return await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.send_signal(signal.SIGKILL)
        return await proc.wait()
    finally:
        os.close(term.fd)


@contextlib.asynccontextmanager
async def picocom_on(port: str) -> AsyncIterator[FdStream]:
    """picocom on ``port`` in its own terminal, ready for keys; left with C-a C-x at the
    end of the block, and its exit status must be 0."""
    picocom = require_program("picocom")
    proc, term = await start_in_terminal(
        [picocom, "-b", "115200", "--noreset", "--exit-after", "30000", port])
    try:
        await term.expect(b"Terminal ready")
        yield term
        term.write(b"\x01\x18")  # C-a C-x: leave picocom
        await term.expect(b"Terminating")
    finally:
        rc = await stop_terminal(proc, term)
    assert rc == 0


async def test_picocom_dials_and_exchanges_data(ex: Exchange) -> None:
    a = await ex.add_line("5551001", personality="conexant-v92")
    b = await ex.add_line("5551002", personality="agere-v92")
    with raw_tty(b.port) as fb:
        far = FdStream(fb)
        far.write(b"ATS0=1\r")
        await far.expect(b"OK\r\n")
        async with picocom_on(a.port) as term:
            for ch in b"ATDT5551002\r":  # typed, one key at a time
                term.write(bytes([ch]))
            await term.expect(b"CONNECT")
            await far.expect(b"CONNECT")
            term.write(b"hello from picocom")
            await far.expect(b"hello from picocom")
            far.write(b"hello back, picocom\r\n")
            await term.expect(b"hello back, picocom")


async def test_picocom_answers_a_ring_in_party(ex: Exchange) -> None:
    a = await ex.add_line("5551001", personality="agere-v92")
    async with picocom_on(a.port) as term:
        term.write(b"AT+VCID=1\r")
        await term.expect(b"OK")
        party = await ex.ring_in("5551001", caller="5559999", name="ALICE")
        await term.expect(b"RING")
        await term.expect(b"5559999")
        term.write(b"ATA\r")
        await term.expect(b"CONNECT")
        await asyncio.wait_for(party.answered(), 10)
        assert party.outcome == "answered"
        term.write(b"typed in picocom")
        got = b""
        for _ in range(50):
            got += await asyncio.wait_for(party.read(100), 5)
            if b"typed in picocom" in got:
                break
        assert b"typed in picocom" in got
        party.write(b"from the caller")
        await term.expect(b"from the caller")
        await party.hangup()
        await term.expect(b"NO CARRIER")


async def test_socat_talks_at_to_a_line(ex: Exchange) -> None:
    socat = require_program("socat")
    a = await ex.add_line("5551001", personality="conexant-v92")
    proc = await asyncio.create_subprocess_exec(
        socat, "-T", "10", "STDIO", f"{a.port},raw,echo=0",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(b"ATI0\r")
        await proc.stdin.drain()
        out = await asyncio.wait_for(proc.stdout.readuntil(b"OK\r\n"), 10)
        assert b"56000" in out
        proc.stdin.write(b"AT+GMI\r")
        await proc.stdin.drain()
        out = await asyncio.wait_for(proc.stdout.readuntil(b"OK\r\n"), 10)
        assert b"CONEXANT" in out
    finally:
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_minicom_talks_to_a_line(ex: Exchange, tmp_path: Path) -> None:
    minicom = require_program("minicom")
    a = await ex.add_line("5551001", personality="usr-v90")
    proc, term = await start_in_terminal(
        [minicom, "-o", "-b", "115200", "-D", a.port, "-C", str(tmp_path / "capture")],
        env={"HOME": str(tmp_path), "MINICOM": "-c off"})
    try:
        await term.expect(b"Press CTRL-A Z for help")
        for ch in b"ATI3\r":
            term.write(bytes([ch]))
        await term.expect(b"OK")
        term.write(b"\x01x")  # Ctrl-A X: leave minicom...
        await term.expect(b"Yes")
        term.write(b"\r")  # ...confirm
    finally:
        rc = await stop_terminal(proc, term)
    assert rc == 0
    captured = (tmp_path / "capture").read_bytes()
    assert b"ATI3" in captured and b"OK" in captured


async def test_chat_against_modemctl_fake_run_process(tmp_path: Path) -> None:
    """The whole user path: `modemctl fake run` in its own process, chat on its lines."""
    chat = require_program("chat")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "modemctl.cli.fake", "run", "--json", "--time-scale", str(SCALE),
        "--line", "5551001:usr-v90", "--line", "5551002:hayes-basic",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "MODEMCTL_FAKE_DIR": str(tmp_path)})
    assert proc.stdout is not None
    try:
        doc = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        ports = {ln["number"]: ln["port"] for ln in doc["lines"]}
        with raw_tty(ports["5551001"]) as fa, raw_tty(ports["5551002"]) as fb:
            rc, log = await run_chat(chat, fb, ["", "ATS0=1", "OK", r"\c"])
            assert rc == 0, log
            rc, log = await run_chat(chat, fa, DIAL)
            assert rc == 0, log
            assert "CONNECT\n -- got it" in log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert await asyncio.wait_for(proc.wait(), 15) == 0
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
