"""The whole sans-IO session (handshake, records, ARQ) over a misbehaving wire.

Each test injects one kind of fault the issue names (byte errors, dropped
bytes, a replayed frame, a reordered frame) or a mix, and checks the real
invariant: the bytes arrive complete and in order, the faults were seen and
handled (rejected, resent), and the session carries on afterwards.
"""

from __future__ import annotations

import random

import pytest

from modemctl.errors import HandshakeFailed, UnknownIdentity
from modemctl.session.connection import Established, Failed, PeerClosed, PeerFinished
from tests.session.keys import pair
from tests.session.wire import Wire

PAYLOAD = bytes(random.Random(1).randrange(256) for _ in range(40_000))


def transfer(wire: Wire, payload: bytes = PAYLOAD, back: bytes = b"") -> None:
    wire.run(lambda: wire.a.conn.established and wire.b.conn.established)
    wire.a.conn.send(payload)
    if back:
        wire.b.conn.send(back)
    wire.run(lambda: (bytes(wire.b.received) == payload and bytes(wire.a.received) == back)
             or len(wire.b.received) > len(payload))
    assert bytes(wire.b.received) == payload
    assert bytes(wire.a.received) == back


@pytest.mark.parametrize("pattern", ["NNpsk0", "KKpsk0", "KK", "XX"])
def test_clean_line_transfer_both_ways(pattern: str) -> None:
    wire = Wire(*pair(pattern))
    transfer(wire, back=PAYLOAD[:5000])
    assert Established("site-7") in wire.b.events
    assert wire.a.conn.stream.stats.retransmitted == 0


def test_byte_errors_cost_frames_not_the_session() -> None:
    rng = random.Random(3)
    hits = 0

    def flip(_who: str, data: bytes) -> bytes:
        nonlocal hits
        out = bytearray(data)
        for i in range(len(out)):
            if rng.random() < 0.0005:
                out[i] ^= 1 << rng.randrange(8)
                hits += 1
        return bytes(out)

    wire = Wire(*pair("KKpsk0"), mangle=flip)
    transfer(wire, back=PAYLOAD[:3000])
    assert hits > 5
    assert wire.b.conn.stats.bad_frames + wire.a.conn.stats.bad_frames > 0
    assert wire.a.conn.stream.stats.retransmitted > 0


def test_dropped_bytes_are_recovered() -> None:
    rng = random.Random(5)

    def drop(_who: str, data: bytes) -> bytes:
        return bytes(b for b in data if rng.random() > 0.0005)

    wire = Wire(*pair("NNpsk0"), mangle=drop)
    transfer(wire)
    assert wire.a.conn.stream.stats.retransmitted > 0


def test_a_replayed_frame_is_rejected_and_the_session_survives() -> None:
    recorded: list[bytes] = []

    def replay(who: str, data: bytes) -> bytes:
        if who == "a" and len(recorded) < 3:
            recorded.append(data)
        if who == "a" and len(recorded) == 3 and data is not recorded[2]:
            recorded.append(b"")             # replay once, a little later
            return data + recorded[1]
        return data

    wire = Wire(*pair("KKpsk0"), mangle=replay)
    transfer(wire)
    assert wire.b.conn.stats.replays >= 1
    # and after it, more data still flows
    wire.a.conn.send(b"still here")
    wire.run(lambda: bytes(wire.b.received).endswith(b"still here"))


def test_a_reordered_frame_is_put_back_in_place() -> None:
    held: list[bytes] = []
    swapped = False

    def reorder(who: str, data: bytes) -> bytes:
        nonlocal swapped
        if who != "a" or swapped or len(data) < 200:
            return data
        if not held:
            held.append(data)
            return b""
        swapped = True
        return data + held[0]

    wire = Wire(*pair("NNpsk0"), mangle=reorder, window=4, segment_size=128)
    transfer(wire, PAYLOAD[:6000])
    assert swapped


def test_lossy_handshake_is_retried() -> None:
    lost = {"a": 1, "b": 1}

    def lose_first(who: str, data: bytes) -> bytes:
        if lost[who]:
            lost[who] -= 1
            return b""
        return data

    wire = Wire(*pair("XX"), mangle=lose_first)
    transfer(wire, PAYLOAD[:2000])
    assert wire.a.conn.stats.handshake_resent + wire.b.conn.stats.handshake_resent >= 2


def test_mixed_impairment_large_transfer() -> None:
    """3 in 10,000 bytes flipped, 2 in 10,000 dropped, both ways, 200 kB: arrives intact."""
    rng = random.Random(11)

    def impair(_who: str, data: bytes) -> bytes:
        out = bytearray()
        for b in data:
            r = rng.random()
            if r < 0.0002:
                continue
            out.append(b ^ 0x10 if r < 0.0005 else b)
        return bytes(out)

    payload = PAYLOAD * 5
    wire = Wire(*pair("KKpsk0"), mangle=impair)
    transfer(wire, payload)
    assert wire.b.conn.stats.bad_frames > 0


def test_finish_then_close_tells_the_peer() -> None:
    wire = Wire(*pair("NNpsk0"))
    transfer(wire, b"last words")
    wire.a.conn.finish()
    wire.run(lambda: any(isinstance(e, PeerFinished) for e in wire.b.events)
             and wire.a.conn.stream.idle)
    wire.a.conn.close()
    wire.step()
    assert PeerClosed() in wire.b.events


@pytest.mark.parametrize("case", ["wrong-key", "unknown-identity"])
def test_refused_handshake_fails_on_the_answering_side(case: str) -> None:
    caller, answerer = pair("NNpsk0")
    if case == "unknown-identity":
        caller, _ = pair("NNpsk0", identity="intruder")
    else:
        from modemctl.session import Credentials
        from tests.session.keys import WRONG_PSK
        caller = Credentials("site-7", "NNpsk0", psk=WRONG_PSK)
    wire = Wire(caller, answerer)
    wire.run(lambda: any(isinstance(e, Failed) for e in wire.b.events))
    failure = next(e for e in wire.b.events if isinstance(e, Failed))
    assert isinstance(failure.error, UnknownIdentity if case == "unknown-identity"
                      else HandshakeFailed)
    # the caller, hearing nothing, gives up after its bounded attempts
    wire.run(lambda: any(isinstance(e, Failed) for e in wire.a.events))
    assert wire.now <= 5 * 3.0


def test_a_dead_line_fails_the_stream_after_bounded_retries() -> None:
    dead = False

    def cut(_who: str, data: bytes) -> bytes:
        return b"" if dead else data

    wire = Wire(*pair("NNpsk0"), mangle=cut, rto=1.0, max_rto=4.0, max_retries=3)
    wire.run(lambda: wire.a.conn.established and wire.b.conn.established)
    dead = True
    wire.a.conn.send(b"into the void")
    wire.run(lambda: any(isinstance(e, Failed) for e in wire.a.events))
    assert wire.a.conn.stream.stats.retransmitted == 3     # then the 4th timeout gives up
    assert wire.a.conn.stream.stats.timeouts == 4
    assert wire.now <= 1 + 2 + 4 + 4 + 1       # the backed-off timeouts, bounded


def test_a_resend_that_loses_its_first_segment_again_is_resent_without_the_timer() -> None:
    """Segment 0 is lost, then lost again in the resend: no timeout may be needed."""
    from tests.session.faulty import whole_frame

    losses = 0

    def lose_first_data_frame(who: str, data: bytes) -> bytes:
        nonlocal losses
        frame = whole_frame(data, least=300)
        if who == "a" and losses < 2 and frame is not None and data.count(b"\x7e") > 6:
            losses += 1
            return data.replace(frame, b"", 1)
        return data

    wire = Wire(*pair("NNpsk0"), mangle=lose_first_data_frame, segment_size=400, window=8)
    transfer(wire, PAYLOAD[:8000])
    assert losses == 2
    assert wire.a.conn.stream.stats.timeouts == 0
    assert wire.a.conn.stream.stats.retransmitted >= 16
