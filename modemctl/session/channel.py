"""The async face of a session: :func:`connect` / :func:`accept` over a connected call.

This is the only I/O in the session layer.  It feeds what the call reads
into a :class:`~modemctl.session.connection.SessionConnection`, writes what
that produces, runs its one timer on the event loop, and turns its events
into :meth:`SecureChannel.read` results.  A session that cannot be
established hangs the call up: the bound is ``handshake_timeout *
handshake_attempts`` seconds from the start, plus the hang-up itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from modemctl.errors import ContextClosed, HandshakeFailed, ModemctlError, SessionError
from modemctl.log import get_logger
from modemctl.session.connection import (
    Data,
    Established,
    Failed,
    PeerClosed,
    PeerFinished,
    SessionConnection,
)
from modemctl.session.context import SecurityContext
from modemctl.session.credentials import Credentials
from modemctl.session.stream import ReliableStream

HANDSHAKE_TIMEOUT = 3.0
HANDSHAKE_ATTEMPTS = 4
SEGMENT_SIZE = 480        # + 9 stream + 9 record + 16 tag + framing: ~520 bytes a frame
WINDOW = 8
WRITE_HIGH_WATER = 64 * 1024
CLOSE_TIMEOUT = 10.0


class CallLike(Protocol):
    """What a session needs of a call (:class:`~modemctl.line.Call` is one)."""

    log: Any
    rate: int | None

    async def read(self, n: int = 4096) -> bytes: ...
    async def write(self, data: bytes) -> None: ...
    async def drop(self) -> None: ...
    async def disable_escape(self) -> None: ...


def retransmission_timeout(rate: int | None) -> float:
    """A first retransmission timeout that covers a full window at the line rate."""
    bits_per_second = rate or 33_600
    window_seconds = WINDOW * (SEGMENT_SIZE + 60) * 10 / bits_per_second
    return max(1.0, 2 * window_seconds)


class SecureChannel:
    """An established session: ``read``/``write``/``close`` and the peer's identity.

    Build it with :func:`connect` or :func:`accept`, not directly.
    """

    def __init__(self, call: CallLike, conn: SessionConnection) -> None:
        self.call = call
        self.conn = conn
        self.log: Any = (getattr(call, "log", None) or get_logger()).bind(layer="session")
        self._incoming = bytearray()
        self._eof = False
        self._call_ended = False
        self._error: BaseException | None = None
        self._changed = asyncio.Event()
        self._established = asyncio.Event()
        self._out = bytearray()
        self._out_ready = asyncio.Event()
        self._written = asyncio.Event()
        self._written.set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_generation: tuple[int, int] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    def __repr__(self) -> str:
        return f"<SecureChannel {self.peer_identity or '?'} {self.conn.context.state.value}>"

    # --- what the application sees ------------------------------------------------------

    @property
    def peer_identity(self) -> str | None:
        """The identity the peer authenticated as."""
        return self.conn.context.identity

    @property
    def handshake_hash(self) -> bytes | None:
        """The Noise handshake hash: a channel binding both ends share."""
        return self.conn.context.handshake_hash

    async def read(self, n: int = 4096) -> bytes:
        """Up to ``n`` bytes from the peer; ``b""`` once it has finished sending."""
        while not self._incoming:
            if self._error is not None:
                raise self._error
            if self._eof:
                return b""
            self._changed.clear()
            await self._changed.wait()
        out = bytes(self._incoming[:n])
        del self._incoming[:n]
        return out

    async def write(self, data: bytes) -> None:
        """Queue ``data`` for the peer (waits while much is still unacknowledged)."""
        if self._error is not None:
            raise self._error
        if self._closed:
            raise ContextClosed("the session is closed")
        self.conn.send(data)
        self._pump()
        while self.conn.stream.buffered > WRITE_HIGH_WATER:
            if self._error is not None:
                raise self._error
            self._changed.clear()
            await self._changed.wait()

    async def close(self) -> None:
        """Send the rest, tell the peer we are done, wipe the keys and hang up."""
        if self._closed:
            return
        self._closed = True
        try:
            # Wait for our FIN's acknowledgement only while the peer can still send
            # one: not after its close token (its keys are gone) or the call's end.
            if self._error is None and self.conn.established \
                    and not self._call_ended and not self.conn.context.peer_closed:
                self.conn.finish()
                self._pump()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        while not self.conn.stream.idle and self._error is None \
                                and not self._call_ended:
                            self._changed.clear()
                            await self._changed.wait()
            self.conn.close()
            self._pump()
            if not self._call_ended and self._error is None:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CLOSE_TIMEOUT):
                        await self._written.wait()
        finally:
            await self._stop()
            await self.call.drop()
            s = self.conn.stats
            self.log.info("session-closed", bad_frames=s.bad_frames, altered=s.altered,
                          replays=s.replays,
                          retransmitted=self.conn.stream.stats.retransmitted)

    # --- driving the sans-IO connection -----------------------------------------------

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._reader(), name="session-reader"),
                       loop.create_task(self._writer(), name="session-writer")]

    async def _stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _reader(self) -> None:
        while True:
            try:
                data = await self.call.read(4096)
            except ModemctlError as exc:
                self._set_error(SessionError(f"the call failed under the session: {exc}"))
                return
            if not data:
                self._call_ended = True
                if not self.conn.established and not self.conn.context.complete:
                    self._set_error(HandshakeFailed(
                        "the far end hung up during the handshake (refused?)"))
                elif not self.conn.context.peer_closed and not self._closed:
                    self._set_error(SessionError(
                        "the call ended without the peer closing the session "
                        "(truncated)"))
                self._eof = True
                self._changed.set()
                return
            self.conn.receive(data)
            self._pump()

    async def _writer(self) -> None:
        while True:
            await self._out_ready.wait()
            self._out_ready.clear()
            data = bytes(self._out)
            self._out.clear()
            try:
                await self.call.write(data)
            except ModemctlError as exc:
                self._set_error(SessionError(f"the call failed under the session: {exc}"))
                return
            finally:
                if not self._out:
                    self._written.set()
            self._changed.set()

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_generation = None
        self.conn.timer_expired()
        self._pump()

    def _pump(self) -> None:
        out = self.conn.take_output()
        if out:
            self._out += out
            self._written.clear()
            self._out_ready.set()
        for ev in self.conn.take_events():
            if isinstance(ev, Established):
                self.log.info("session-established", identity=ev.identity,
                              pattern=self.conn.context.credentials.pattern
                              if self.conn.context.credentials else None)
                self._established.set()
            elif isinstance(ev, Data):
                self._incoming += ev.data
            elif isinstance(ev, PeerFinished | PeerClosed):
                self._eof = True
            elif isinstance(ev, Failed):
                self._set_error(ev.error)
        self._arm_timer()
        self._changed.set()

    def _arm_timer(self) -> None:
        seconds, generation = self.conn.timer, self.conn.timer_generation
        if seconds is None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            return
        if self._timer is not None and generation == self._timer_generation:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_generation = generation
        self._timer = asyncio.get_running_loop().call_later(seconds, self._on_timer)

    def _set_error(self, error: BaseException) -> None:
        if self._error is None:
            self._error = error
        self._established.set()
        self._changed.set()

    async def _wait_established(self, bound: float) -> None:
        try:
            async with asyncio.timeout(bound):
                await self._established.wait()
        except TimeoutError:
            self._set_error(HandshakeFailed(f"no session within {bound:g} s"))
        if self._error is not None:
            raise self._error


async def _establish(call: CallLike, context: SecurityContext, disable_escape: bool,
                     handshake_timeout: float, handshake_attempts: int) -> SecureChannel:
    log: Any = (getattr(call, "log", None) or get_logger()).bind(layer="session")
    if disable_escape:
        try:
            await call.disable_escape()
        except ModemctlError as exc:
            # The frames never carry '+', so the escape still cannot come from data.
            log.warning("escape-not-disabled", error=str(exc))
    stream = ReliableStream(segment_size=SEGMENT_SIZE, window=WINDOW,
                            rto=retransmission_timeout(call.rate))
    conn = SessionConnection(context, stream, handshake_timeout=handshake_timeout,
                             handshake_attempts=handshake_attempts)
    channel = SecureChannel(call, conn)
    channel._start()
    if context.role == "initiator":
        conn.start()
        channel._pump()
    try:
        await channel._wait_established(handshake_timeout * handshake_attempts)
    except SessionError as exc:
        log.warning("session-refused", reason=str(exc), error=type(exc).__name__)
        await channel._stop()
        conn.close()
        await call.drop()
        raise
    return channel


async def connect(call: CallLike, credentials: Credentials, *, disable_escape: bool = True,
                  handshake_timeout: float = HANDSHAKE_TIMEOUT,
                  handshake_attempts: int = HANDSHAKE_ATTEMPTS) -> SecureChannel:
    """Authenticate to the far end as ``credentials.identity`` and return the channel.

    On failure the call is hung up and the typed error raised
    (:class:`~modemctl.errors.HandshakeFailed` and its kinds).
    """
    context = SecurityContext.initiator(credentials, strict_order=False)
    return await _establish(call, context, disable_escape, handshake_timeout,
                            handshake_attempts)


async def accept(call: CallLike,
                 identities: Mapping[str, Credentials] | Callable[[str], Credentials | None],
                 *, disable_escape: bool = True, handshake_timeout: float = HANDSHAKE_TIMEOUT,
                 handshake_attempts: int = HANDSHAKE_ATTEMPTS) -> SecureChannel:
    """Authenticate the caller against ``identities`` (by name) and return the channel.

    A caller who names an unknown identity or holds the wrong key is
    refused: the call is hung up within ``handshake_timeout *
    handshake_attempts`` seconds and the attempt logged with the reason.
    """
    lookup = identities.get if isinstance(identities, Mapping) else identities
    context = SecurityContext.acceptor(lookup, strict_order=False)
    return await _establish(call, context, disable_escape, handshake_timeout,
                            handshake_attempts)
