"""One secured session on a byte stream, sans-IO: the context, frames and ARQ together.

Bytes from the line go in (:meth:`SessionConnection.receive`), bytes for the
line come out (:meth:`~SessionConnection.take_output`), with events for the
application (:meth:`~SessionConnection.take_events`) and one timer request
(:attr:`~SessionConnection.timer`, seconds from now; the caller calls
:meth:`~SessionConnection.timer_expired` when it runs out).  No I/O, no clock.

The handshake has to survive the line too: a side that waits for the
peer's next handshake token resends its own last one when the timer runs
out, and a side that receives the peer's previous token again resends its
answer (the peer missed it).  Records that arrive before our side of the
handshake is complete are dropped; the stream resends them.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.errors import (
    ContextClosed,
    HandshakeFailed,
    MessageAltered,
    OutOfSequence,
    SessionError,
)
from modemctl.session.context import SecurityContext
from modemctl.session.frames import BadFrame, Frame, FrameDecoder, FrameType, encode
from modemctl.session.states import ContextState
from modemctl.session.stream import SEGMENT_HEADER, ReliableStream


@dataclass(frozen=True)
class Established:
    """The handshake completed: ``identity`` is the authenticated peer identity."""

    identity: str


@dataclass(frozen=True)
class Data:
    """Bytes from the peer, in order."""

    data: bytes


@dataclass(frozen=True)
class PeerFinished:
    """The peer sent everything it will send (its FIN arrived, in order)."""


@dataclass(frozen=True)
class PeerClosed:
    """The peer's authenticated close token arrived: the context is closed."""


@dataclass(frozen=True)
class Failed:
    """The session cannot go on; ``error`` says why (a typed error)."""

    error: SessionError


Event = Established | Data | PeerFinished | PeerClosed | Failed


@dataclass
class LinkStats:
    """What the line did to our frames, as the receiver saw it."""

    frames_received: int = 0
    bad_frames: int = 0          # CRC, short, too long: line noise
    altered: int = 0             # passed the CRC, failed authentication
    replays: int = 0             # authentic but seen before
    handshake_resent: int = 0


class SessionConnection:
    """Drive a :class:`SecurityContext` and a :class:`ReliableStream` over frames."""

    def __init__(self, context: SecurityContext, stream: ReliableStream,
                 handshake_timeout: float = 3.0, handshake_attempts: int = 5) -> None:
        self.context = context
        self.stream = stream
        self.stats = LinkStats()
        self.handshake_timeout = handshake_timeout
        self.handshake_attempts = handshake_attempts
        self._decoder = FrameDecoder()
        self._out = bytearray()
        self._events: list[Event] = []
        self._last_sent_hs: bytes | None = None
        self._last_peer_hs: bytes | None = None
        self._hs_waiting = False       # we wait for the peer's next handshake token
        self._hs_tries = 0
        self._hs_generation = 0
        self._failed = False
        self._announced = False

    # --- inputs ---------------------------------------------------------------------

    def start(self) -> None:
        """The initiator sends its first token."""
        token = self._step(None)
        if token is not None:
            self._send_handshake(token)

    def receive(self, data: bytes) -> None:
        """Bytes from the line."""
        for item in self._decoder.feed(data):
            if self._failed:
                return
            if isinstance(item, BadFrame):
                self.stats.bad_frames += 1
                continue
            self.stats.frames_received += 1
            if item.type is FrameType.HANDSHAKE:
                self._on_handshake(item)
            else:
                self._on_record(item.payload)
        self._after_input()

    def send(self, data: bytes) -> None:
        """Application bytes for the peer."""
        self.stream.send(data)
        self._flush_stream()

    def finish(self) -> None:
        """We send nothing more (the peer sees :class:`PeerFinished` once all has arrived)."""
        self.stream.finish()
        self._flush_stream()

    def close(self) -> None:
        """Send the authenticated close token (if established) and wipe the keys."""
        token = self.context.close()
        if token is not None:
            self._out += encode(FrameType.RECORD, token)

    def timer_expired(self) -> None:
        """The :attr:`timer` ran out."""
        if self._failed:
            return
        if self._hs_waiting:
            self._hs_tries += 1
            if self._hs_tries >= self.handshake_attempts:
                self._fail(HandshakeFailed(
                    f"no handshake answer after {self.handshake_attempts} attempts"))
                return
            self._resend_handshake()
            self._hs_generation += 1
            return
        try:
            self.stream.timer_expired()
        except SessionError as exc:
            self._fail(exc)
            return
        self._flush_stream()

    # --- outputs --------------------------------------------------------------------

    def take_output(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    def take_events(self) -> list[Event]:
        out, self._events = self._events, []
        return out

    @property
    def timer(self) -> float | None:
        if self._failed:
            return None
        if self._hs_waiting:
            return self.handshake_timeout
        return self.stream.timer if self.context.complete else None

    @property
    def timer_generation(self) -> tuple[int, int]:
        """Changes whenever :attr:`timer` restarts; a driver keeps its running
        timer while this stays the same (so steady input cannot starve it)."""
        return self._hs_generation, self.stream.timer_generation

    @property
    def established(self) -> bool:
        return self.context.state is ContextState.ESTABLISHED

    # --- inside ---------------------------------------------------------------------

    def _step(self, token: bytes | None) -> bytes | None:
        try:
            out = self.context.step(token)
        except HandshakeFailed as exc:
            self._fail(exc)
            return None
        if self.context.complete and not self._announced:
            self._announced = True
            self._events.append(Established(self.context.identity or ""))
        return out

    def _on_handshake(self, frame: Frame) -> None:
        token = frame.payload
        if token == self._last_peer_hs:
            # The peer did not get our answer: send it again.
            self._resend_handshake()
            return
        if self.context.complete:
            return                        # a stray: the handshake is over for us
        self._last_peer_hs = token
        self._hs_waiting = False
        self._hs_tries = 0
        out = self._step(token)
        if out is not None:
            self._send_handshake(out)
        elif not self._failed and self.context.complete:
            self._flush_stream()

    def _send_handshake(self, token: bytes) -> None:
        self._last_sent_hs = token
        self._out += encode(FrameType.HANDSHAKE, token)
        # We wait for a reply unless this token finished the handshake for us.
        self._hs_waiting = not self.context.complete
        self._hs_generation += 1

    def _resend_handshake(self) -> None:
        if self._last_sent_hs is not None:
            self.stats.handshake_resent += 1
            self._out += encode(FrameType.HANDSHAKE, self._last_sent_hs)

    def _on_record(self, token: bytes) -> None:
        if not self.established:
            return                          # not keyed yet (or closed): the stream resends
        try:
            plain = self.context.decrypt(token)
        except MessageAltered:
            self.stats.altered += 1
            return
        except OutOfSequence:
            self.stats.replays += 1
            return
        except ContextClosed:
            return
        if self.context.peer_closed:
            self._events.append(PeerClosed())
            return
        if len(plain) < SEGMENT_HEADER:
            self.stats.altered += 1
            return
        was_finished = self.stream.peer_finished
        self.stream.segment_received(plain)
        data = self.stream.take_data()
        if data:
            self._events.append(Data(data))
        if self.stream.peer_finished and not was_finished:
            self._events.append(PeerFinished())

    def _after_input(self) -> None:
        if self._failed or not self.established:
            return
        self.stream.flush_ack()
        self._flush_stream()

    def _flush_stream(self) -> None:
        if not self.established:
            return
        for segment in self.stream.take_segments():
            self._out += encode(FrameType.RECORD, self.context.encrypt(segment))

    def _fail(self, error: SessionError) -> None:
        if not self._failed:
            self._failed = True
            self._events.append(Failed(error))
            self.context.close()
