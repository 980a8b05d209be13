"""Synchronous facade for scripts: the line/call API without ``async``.

A script that wants to dial, send a file and hang up should not have to
learn asyncio.  :func:`open_line` starts a private event loop in a daemon
thread, opens the async :class:`~modemctl.line.Line` there, and hands back
a :class:`SyncLine` whose methods block until the loop has done the work.
Every blocking call takes an optional ``timeout`` (real seconds) and raises
``TimeoutError`` after it, so a script can never hang for ever.

    from modemctl.line import sync
    with sync.open_line("/dev/ttyUSB0", location="US") as line:
        with line.make_call("5551234", secure=True) as call:
            call.write(b"hello")
            print(call.read(100, timeout=10))

Fax has the same blocking form, in its own layer (``modemctl.fax.sync``):
``fax.sync.send(line, "5551234", "letter.pdf")``, ``fax.sync.receive(line, "in/")``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from types import TracebackType
from typing import TypeVar

from modemctl.line.call import Call, SecureRequest
from modemctl.line.caps import LineCaps
from modemctl.line.events import CallerId
from modemctl.line.line import Line
from modemctl.line.line import open_line as _open_line
from modemctl.line.report import SecureReport
from modemctl.line.secure import Media
from modemctl.line.states import CallState, DisconnectReason
from modemctl.locations import Location
from modemctl.loopthread import LoopThread

T = TypeVar("T")


class SyncCall:
    """Blocking view of a :class:`~modemctl.line.Call`; a context manager that drops."""

    def __init__(self, call: Call, runner: LoopThread) -> None:
        self._call = call
        self._run = runner.run

    @property
    def call_id(self) -> str:
        return self._call.call_id

    @property
    def state(self) -> CallState:
        return self._call.state

    @property
    def disconnect_reason(self) -> DisconnectReason | None:
        return self._call.disconnect_reason

    @property
    def secure_report(self) -> SecureReport | None:
        return self._call.secure_report

    @property
    def caller_id(self) -> CallerId | None:
        return self._call.caller_id

    @property
    def rate(self) -> int | None:
        return self._call.rate

    def write(self, data: bytes, timeout: float | None = None) -> None:
        self._run(self._call.write(data), timeout)

    def read(self, n: int = 4096, timeout: float | None = None) -> bytes:
        return self._run(self._call.read(n), timeout)

    def read_exactly(self, n: int, timeout: float | None = None) -> bytes:
        """Read until ``n`` bytes arrived or the call ended (all within ``timeout``)."""
        async def collect() -> bytes:
            out = bytearray()
            while len(out) < n:
                chunk = await self._call.read(n - len(out))
                if not chunk:
                    break
                out += chunk
            return bytes(out)
        return self._run(collect(), timeout)

    def secure(self, mode: SecureRequest = True, timeout: float | None = None) -> SecureReport:
        return self._run(self._call.secure(mode), timeout)

    def answer(self, secure: SecureRequest = False, timeout: float | None = None) -> None:
        self._run(self._call.answer(secure), timeout)

    def drop(self, timeout: float | None = None) -> None:
        self._run(self._call.drop(), timeout)

    def wait_disconnected(self, timeout: float | None = None) -> DisconnectReason:
        return self._run(self._call.wait_disconnected(), timeout)

    def __enter__(self) -> SyncCall:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.drop(timeout=30.0)


class SyncLine:
    """Blocking view of a :class:`~modemctl.line.Line`."""

    def __init__(self, line: Line, runner: LoopThread) -> None:
        self._line = line
        self._runner = runner

    @property
    def caps(self) -> LineCaps | None:
        return self._line.caps

    @property
    def name(self) -> str:
        return self._line.name

    def probe(self, timeout: float | None = None) -> LineCaps:
        return self._runner.run(self._line.probe(), timeout)

    def make_call(self, number: str, secure: SecureRequest = False, media: Media = "data",
                  timeout: float | None = None) -> SyncCall:
        call = self._runner.run(self._line.make_call(number, secure=secure, media=media),
                                timeout)
        return SyncCall(call, self._runner)

    def wait_for_call(self, timeout: float | None = None) -> SyncCall:
        return SyncCall(self._runner.run(self._line.wait_for_call(), timeout), self._runner)

    def incoming(self, timeout: float | None = None) -> Iterator[SyncCall]:
        """Offered calls one at a time, as :meth:`Line.incoming` offers them.

        ``timeout`` bounds the wait for each offer (TimeoutError ends the loop).
        """
        offers = self._line.incoming()

        async def offer() -> Call:
            return await anext(offers)

        try:
            while True:
                yield SyncCall(self._runner.run(offer(), timeout), self._runner)
        finally:
            self._runner.run(offers.aclose(), 30.0)

    def run(self, work: Callable[[Line], Awaitable[T]], timeout: float | None = None) -> T:
        """Run ``work(line)`` (an async function of the async line) on the
        line's loop and wait for it: how the layers above the line (fax:
        ``modemctl.fax.sync``) offer their blocking calls.  Callbacks that
        ``work`` passes on run in the loop's thread."""

        async def call() -> T:
            return await work(self._line)

        return self._runner.run(call(), timeout)


@contextlib.contextmanager
def open_line(url: str, location: str | Location | None = None, time_scale: float = 1.0, *,
              trace: bool = False, probe: bool = True, profile: str | None = None,
              lock: bool = True, baudrate: int = 115200, name: str | None = None,
              cancel_code: str | None = None, cancel_code_pulse: str | None = None,
              timeout: float | None = 60.0) -> Iterator[SyncLine]:
    """Open a line for a synchronous script (same arguments as the async ``open_line``)."""
    runner = LoopThread(name="modemctl-sync")
    cm = _open_line(url, location, time_scale, trace=trace, probe=probe, profile=profile,
                    lock=lock, baudrate=baudrate, name=name, cancel_code=cancel_code,
                    cancel_code_pulse=cancel_code_pulse)
    try:
        line = runner.run(cm.__aenter__(), timeout)
    except BaseException:
        runner.stop()
        raise
    try:
        yield SyncLine(line, runner)
    finally:
        try:
            runner.run(cm.__aexit__(None, None, None), timeout)
        finally:
            runner.stop()
