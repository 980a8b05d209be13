"""A reliable, ordered byte stream over segments that may be lost: sans-IO ARQ.

The security context already throws away every corrupted, forged or
replayed record; what the application wants on top is an ordered byte
stream.  This is go-back-N with cumulative acknowledgements: simple, and on
a serial line (which never reorders on its own) nearly as good as selective
repeat.  Each retransmission is a new record with a new message number, so
the replay window below and the stream numbers here never interfere.

Sans-IO: :meth:`ReliableStream.send`, :meth:`~ReliableStream.segment_received`
and :meth:`~ReliableStream.timer_expired` change the state; the outputs are
collected with :meth:`~ReliableStream.take_segments` (segments to encrypt
and send), :meth:`~ReliableStream.take_data` (bytes for the reader) and the
:attr:`~ReliableStream.timer` request (seconds, or ``None`` for no timer).

A segment is ``flags(1) | round(1) | seq(4) | ack(4) | data``; ``ack`` is
the next sequence number the sender of the segment expects.  ``round``
numbers the sender's (re)transmission rounds; a bare acknowledgement
echoes the round of the out-of-place segment that caused it, so the sender
can tell "the resend I just made lost its first segment again" (resend at
once) from "segments still in flight from before" (nothing to do), without
a clock.  A FIN segment carries no
data and takes one sequence number, so it is acknowledged like data.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from modemctl.errors import SessionError
from modemctl.session.states import STREAM_TRANSITIONS, StreamState, check

SEGMENT_HEADER = 10
FLAG_DATA = 1
FLAG_FIN = 2
SEQ_LIMIT = 2 ** 32


class LinkDead(SessionError):
    """The peer acknowledged nothing through every retransmission: the line is gone."""


@dataclass
class StreamStats:
    """What the stream had to do (for tests and the benchmark)."""

    segments_sent: int = 0
    retransmitted: int = 0
    duplicates: int = 0
    out_of_order: int = 0
    timeouts: int = 0


@dataclass
class _Outgoing:
    seq: int
    flags: int
    data: bytes = field(repr=False)


class ReliableStream:
    """One end of the ordered stream.

    ``segment_size`` is the most data per segment, ``window`` the most
    unacknowledged segments, ``rto`` the first retransmission timeout in
    seconds (doubled on each timeout up to ``max_rto``), ``max_retries``
    timeouts in a row without progress before the link counts as dead.
    """

    def __init__(self, segment_size: int = 512, window: int = 8, rto: float = 2.0,
                 max_rto: float = 30.0, max_retries: int = 8) -> None:
        if segment_size < 1 or window < 1 or rto <= 0:
            raise ValueError("segment_size, window and rto must be positive")
        self.segment_size = segment_size
        self.window = window
        self.rto = self._base_rto = rto
        self.max_rto = max_rto
        self.max_retries = max_retries
        self.state = StreamState.OPEN
        self.stats = StreamStats()
        self.peer_finished = False
        self._queue = bytearray()          # not yet cut into segments
        self._fin_queued = False
        self._fin_sent = False
        self._unacked: deque[_Outgoing] = deque()
        self._next_seq = 0
        self._expected = 0                  # next seq we accept from the peer
        self._ack_due = False
        self._round = 0                     # our current (re)transmission round
        self._echo_round = 0                # round of the last out-of-place segment seen
        self._retries = 0
        self._timer_running = False
        #: Bumped whenever the timer (re)starts: a driver re-arms only when it changes.
        self.timer_generation = 0
        self._segments: list[bytes] = []
        self._received = bytearray()

    # --- inputs -------------------------------------------------------------------

    def send(self, data: bytes) -> None:
        """Queue application bytes."""
        if self.state is not StreamState.OPEN:
            raise SessionError("the stream is closing: nothing more can be sent")
        self._queue += data
        self._pump()

    def finish(self) -> None:
        """No more data from us (a FIN after what is queued)."""
        if self.state is StreamState.OPEN:
            self._fin_queued = True
            self._move(StreamState.CLOSING)
            self._pump()

    def segment_received(self, segment: bytes) -> None:
        """A segment that the context authenticated and decrypted."""
        if len(segment) < SEGMENT_HEADER:
            return                        # cannot happen with an authentic peer; ignore
        flags, seg_round = segment[0], segment[1]
        seq = int.from_bytes(segment[2:6], "big")
        ack = int.from_bytes(segment[6:10], "big")
        self._on_ack(ack, bare=not flags, echoed_round=seg_round)
        if flags & (FLAG_DATA | FLAG_FIN):
            self._ack_due = True
            if seq == self._expected:
                self._expected += 1
                if flags & FLAG_FIN:
                    self.peer_finished = True
                else:
                    self._received += segment[SEGMENT_HEADER:]
            elif seq < self._expected:
                self.stats.duplicates += 1
                self._echo_round = seg_round
            else:
                self.stats.out_of_order += 1
                self._echo_round = seg_round
        self._pump()

    def timer_expired(self) -> None:
        """The :attr:`timer` ran out: resend everything unacknowledged."""
        if not self._unacked:
            self._timer_running = False
            return
        self.stats.timeouts += 1
        self._retries += 1
        if self._retries > self.max_retries:
            raise LinkDead(f"no acknowledgement after {self.max_retries} retransmissions")
        self.rto = min(self.rto * 2, self.max_rto)
        self._round += 1
        self._resend_all()
        self._timer_running = True
        self.timer_generation += 1

    def flush_ack(self) -> None:
        """Send an acknowledgement now if one is owed (call after a batch of input)."""
        if self._ack_due:
            self._emit(0, self._next_seq, b"", self._echo_round)     # a bare acknowledgement
        self._ack_due = False

    # --- outputs --------------------------------------------------------------------

    def take_segments(self) -> list[bytes]:
        out, self._segments = self._segments, []
        return out

    def take_data(self) -> bytes:
        out = bytes(self._received)
        self._received.clear()
        return out

    @property
    def timer(self) -> float | None:
        """Seconds until :meth:`timer_expired` should be called, or ``None``."""
        return self.rto if self._timer_running else None

    @property
    def idle(self) -> bool:
        """Everything we queued (and our FIN, if any) is acknowledged."""
        return not self._queue and not self._unacked and \
            (not self._fin_queued or self.state is StreamState.CLOSED)

    @property
    def buffered(self) -> int:
        """Bytes queued or in flight (for write back-pressure)."""
        return len(self._queue) + sum(len(o.data) for o in self._unacked)

    # --- inside ---------------------------------------------------------------------

    def _on_ack(self, ack: int, bare: bool, echoed_round: int) -> None:
        progressed = False
        while self._unacked and self._unacked[0].seq < ack:
            done = self._unacked.popleft()
            progressed = True
            if done.flags & FLAG_FIN:
                self._move(StreamState.CLOSED)
        if progressed:
            self._retries = 0
            self.rto = self._base_rto
            self._timer_running = bool(self._unacked)
            self.timer_generation += 1
        elif bare and self._unacked and ack == self._unacked[0].seq \
                and echoed_round == self._round & 0xFF:
            # The peer got a segment of our latest round out of place: the oldest
            # one is missing (a serial line does not reorder by itself).  Resend
            # now, as a new round, rather than wait for the timer.
            self._round += 1
            self._resend_all()

    def _resend_all(self) -> None:
        for out in self._unacked:
            self.stats.retransmitted += 1
            self._emit(out.flags, out.seq, out.data)

    def _pump(self) -> None:
        while len(self._unacked) < self.window and (self._queue or self._fin_pending()):
            if self._queue:
                data = bytes(self._queue[:self.segment_size])
                del self._queue[:self.segment_size]
                flags = FLAG_DATA
            else:
                data, flags = b"", FLAG_FIN
                self._fin_sent = True
            if self._next_seq >= SEQ_LIMIT:
                raise SessionError("stream sequence numbers used up; start a new session")
            out = _Outgoing(self._next_seq, flags, data)
            self._next_seq += 1
            self._unacked.append(out)
            self._emit(flags, out.seq, data)
            if not self._timer_running:
                self._timer_running = True
                self.timer_generation += 1

    def _fin_pending(self) -> bool:
        return self._fin_queued and not self._fin_sent

    def _emit(self, flags: int, seq: int, data: bytes, round_: int | None = None) -> None:
        self.stats.segments_sent += 1
        self._ack_due = False          # every segment carries the current ack
        tag = (self._round if round_ is None else round_) & 0xFF
        self._segments.append(bytes([flags, tag]) + seq.to_bytes(4, "big")
                              + self._expected.to_bytes(4, "big") + data)

    def _move(self, new: StreamState) -> None:
        if new is not self.state:
            check(STREAM_TRANSITIONS, self.state, new)
            self.state = new
