"""The SSPI-shaped security context, stepped by hand (no I/O).

Every test drives both ends in memory and checks what the peer sees: the
handshake completes only with the right keys, and after it every way a
message can go wrong on a line (loss, insertion, reordering, replay,
alteration) is reported as its own typed error.
"""

from __future__ import annotations

import pytest

from modemctl.errors import (
    ContextClosed,
    HandshakeFailed,
    MessageAltered,
    OutOfSequence,
    UnknownIdentity,
)
from modemctl.session import Credentials, SecurityContext
from modemctl.session.context import HEADER
from modemctl.session.noise import TAGLEN, public_key
from tests.session.keys import ANSWER_STATIC, CALLER_STATIC, PSK, WRONG_PSK, pair

PATTERNS = ("NNpsk0", "KKpsk0", "KK", "XX")


def establish(caller: Credentials, answerer: Credentials | None, **options: object
              ) -> tuple[SecurityContext, SecurityContext, int]:
    """Run the handshake to the end; returns both contexts and the token count."""
    known = {answerer.identity: answerer} if answerer else {}
    a = SecurityContext.initiator(caller, **options)
    b = SecurityContext.acceptor(known.get, **options)
    token = a.step()
    tokens = 1
    sides = (b, a)
    i = 0
    while token is not None:
        token = sides[i % 2].step(token)
        tokens += token is not None
        i += 1
    return a, b, tokens


@pytest.mark.parametrize("pattern", PATTERNS)
def test_handshake_completes_and_both_ends_agree(pattern: str) -> None:
    caller, answerer = pair(pattern)
    a, b, tokens = establish(caller, answerer)
    assert a.complete and b.complete
    assert tokens == (3 if pattern == "XX" else 2)
    assert a.handshake_hash == b.handshake_hash
    assert b.identity == "site-7"
    assert b.decrypt(a.encrypt(b"ATDT secrets")) == b"ATDT secrets"
    assert a.decrypt(b.encrypt(b"OK")) == b"OK"
    if pattern in ("KK", "KKpsk0", "XX"):
        assert b.peer_static == public_key(CALLER_STATIC)
        assert a.peer_static == public_key(ANSWER_STATIC)


@pytest.mark.parametrize("pattern", ["NNpsk0", "KKpsk0"])
def test_wrong_psk_is_refused_by_the_acceptor_on_the_first_token(pattern: str) -> None:
    caller, answerer = pair(pattern)
    wrong = Credentials(caller.identity, pattern, psk=WRONG_PSK, static=caller.static,
                        remote_static=caller.remote_static)
    a = SecurityContext.initiator(wrong)
    b = SecurityContext.acceptor({answerer.identity: answerer}.get)
    with pytest.raises(HandshakeFailed):
        b.step(a.step())
    assert b.state.value == "failed"
    with pytest.raises(ContextClosed):
        b.encrypt(b"x")


def test_kk_with_the_wrong_static_key_is_refused() -> None:
    caller, answerer = pair("KK")
    impostor = Credentials("site-7", "KK", static=bytes(31) + b"\x09",
                           remote_static=caller.remote_static)
    with pytest.raises(HandshakeFailed):
        establish(impostor, answerer)


def test_xx_with_an_unpinned_peer_key_is_refused_by_both_sides() -> None:
    caller, answerer = pair("XX")
    stranger = Credentials("site-7", "XX", static=bytes(31) + b"\x09",
                           pinned=caller.pinned)
    with pytest.raises(HandshakeFailed, match="pinned"):
        establish(stranger, answerer)
    # The caller checks the answerer's key too, before it sends its own static key.
    other_pin = Credentials("site-7", "XX", static=CALLER_STATIC,
                            pinned=frozenset({public_key(bytes(31) + b"\x09")}))
    a = SecurityContext.initiator(other_pin)
    b = SecurityContext.acceptor({"site-7": answerer}.get)
    with pytest.raises(HandshakeFailed, match="pinned"):
        a.step(b.step(a.step()))


def test_unknown_identity_is_refused_with_its_name() -> None:
    caller, _ = pair("NNpsk0", identity="nobody")
    _, answerer = pair("NNpsk0")
    with pytest.raises(UnknownIdentity) as info:
        establish(caller, answerer)
    assert info.value.identity == "nobody"


def test_pattern_mismatch_is_refused() -> None:
    caller, _ = pair("NNpsk0")
    _, answerer = pair("KKpsk0")
    with pytest.raises(HandshakeFailed, match="KKpsk0"):
        establish(caller, answerer)


def test_altered_handshake_header_is_refused() -> None:
    """The clear header is bound in as the prologue: changing the rekey interval breaks it."""
    caller, answerer = pair("NNpsk0")
    a = SecurityContext.initiator(caller)
    b = SecurityContext.acceptor({"site-7": answerer}.get)
    hello = bytearray(a.step() or b"")
    hello[5] = 7                       # the rekey shift byte
    with pytest.raises(HandshakeFailed):
        b.step(bytes(hello))


@pytest.mark.parametrize("garbage", [b"", b"MCS1", b"hello world", b"MCS1\x09\x10\x05ab"])
def test_garbage_first_token_is_a_typed_failure(garbage: bytes) -> None:
    _, answerer = pair("NNpsk0")
    b = SecurityContext.acceptor({"site-7": answerer}.get)
    with pytest.raises(HandshakeFailed):
        b.step(garbage)


def test_sizes_match_the_tokens() -> None:
    a, _b, _ = establish(*pair("NNpsk0"))
    sizes = a.sizes
    token = a.encrypt(b"x" * sizes.max_message)
    assert len(token) == sizes.header + sizes.max_message + sizes.trailer
    assert (sizes.header, sizes.trailer) == (HEADER, TAGLEN)
    assert len(a.sign(b"data")) == sizes.max_signature
    with pytest.raises(ValueError, match="max_message"):
        a.encrypt(b"x" * (sizes.max_message + 1))


def test_sign_and_verify_detect_loss_insertion_reordering_replay_alteration() -> None:
    a, b, _ = establish(*pair("KKpsk0"))
    msgs = [f"reading {i}".encode() for i in range(6)]
    sigs = [a.sign(m) for m in msgs]
    assert b.verify(msgs[0], sigs[0]) == 0
    assert b.verify(msgs[1], sigs[1], seq=1) == 1
    # replay of message 1
    with pytest.raises(OutOfSequence) as info:
        b.verify(msgs[1], sigs[1])
    assert info.value.kind == "replay"
    # message 2 lost: 3 arrives, authentic but after a gap
    with pytest.raises(OutOfSequence) as info:
        b.verify(msgs[3], sigs[3])
    assert (info.value.kind, info.value.seq, info.value.expected) == ("gap", 3, 2)
    # message 2 turns up late: reordered
    with pytest.raises(OutOfSequence) as info:
        b.verify(msgs[2], sigs[2])
    assert info.value.kind == "reordered"
    # altered data, and an inserted (forged) signature
    with pytest.raises(MessageAltered):
        b.verify(b"reading 999", sigs[4])
    forged = sigs[5][:HEADER] + bytes(TAGLEN)
    with pytest.raises(MessageAltered):
        b.verify(msgs[5], forged)
    # neither failure consumed the numbers: the genuine messages still verify
    assert b.verify(msgs[4], sigs[4]) == 4
    with pytest.raises(OutOfSequence) as info:
        b.verify(msgs[5], sigs[5], seq=9)
    assert info.value.kind == "unexpected"


def test_a_signature_is_not_accepted_as_data_and_vice_versa() -> None:
    a, b, _ = establish(*pair("NNpsk0"))
    with pytest.raises(MessageAltered):
        b.decrypt(a.sign(b""))
    with pytest.raises(MessageAltered):
        b.verify(b"", a.encrypt(b""))


def test_window_mode_accepts_gaps_but_never_a_replay() -> None:
    a, b, _ = establish(*pair("NNpsk0"), strict_order=False)
    tokens = [a.encrypt(bytes([i])) for i in range(5)]
    assert b.decrypt(tokens[0]) == b"\x00"
    assert b.decrypt(tokens[3]) == b"\x03"          # 1 and 2 lost
    assert b.decrypt(tokens[1]) == b"\x01"          # late, still in the window
    for t in (tokens[0], tokens[3]):
        with pytest.raises(OutOfSequence, match="replay"):
            b.decrypt(t)


def test_rekeying_changes_keys_at_the_same_message_on_both_ends() -> None:
    a, b, _ = establish(*pair("KKpsk0"), strict_order=False, rekey_shift=2)
    tokens = [a.encrypt(f"m{i}".encode()) for i in range(20)]
    # Identical plaintext in different epochs, same nonce-offset: different key stream.
    first_key = b._recv_keys[0]
    # lose most of epochs 1-3 entirely; epoch 4 is still reachable
    for i in (0, 1, 17, 18, 19):
        assert b.decrypt(tokens[i]) == f"m{i}".encode()
    assert 4 in b._recv_keys and 0 not in b._recv_keys
    assert not any(first_key), "the old epoch's key was wiped"
    # a message from long-gone epoch 1 can no longer be opened
    with pytest.raises((MessageAltered, OutOfSequence)):
        b.decrypt(tokens[5])


def test_close_tells_the_peer_and_wipes_keys() -> None:
    a, b, _ = establish(*pair("NNpsk0"))
    held = a._send_key
    assert held is not None
    token = a.close()
    assert token is not None
    assert not any(held)
    with pytest.raises(ContextClosed):
        a.encrypt(b"after close")
    assert b.decrypt(token) == b""
    assert b.peer_closed and b.state.value == "closed"
    with pytest.raises(ContextClosed):
        b.decrypt(token)


def test_repr_shows_no_key_material() -> None:
    caller, answerer = pair("KKpsk0")
    a, _, _ = establish(caller, answerer)
    text = repr(caller) + repr(answerer) + repr(a)
    for secret in (PSK, CALLER_STATIC, ANSWER_STATIC):
        assert secret.hex() not in text and repr(secret) not in text


def test_handshake_result_repr_shows_no_keys() -> None:
    from modemctl.session.noise import Handshake

    caller, answerer = pair("NNpsk0")
    a = Handshake(caller.protocol, "initiator", psk=caller.psk)
    b = Handshake(answerer.protocol, "responder", psk=answerer.psk)
    b.read_message(a.write_message())
    a.read_message(b.write_message())
    result = a.result
    for key in (result.send_key, result.receive_key):
        assert repr(key) not in repr(result) and key.hex() not in repr(result)
