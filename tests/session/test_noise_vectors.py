"""Our Noise implementation against the published cacophony vectors.

The vectors (``noise_vectors.json``, source named in the file) fix every
byte of each handshake message, the handshake hash and the transport
messages after the split, so a mistake in any primitive, in the pattern
tables or in the psk0 handling shows up here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from modemctl.session.noise import Handshake, aead_decrypt, aead_encrypt

VECTORS: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "noise_vectors.json").read_text())["vectors"]


def _side(v: dict[str, Any], who: str) -> Handshake:
    def opt(key: str) -> bytes | None:
        return bytes.fromhex(v[key]) if key in v else None
    psks = v.get(f"{who}_psks") or []
    return Handshake(v["protocol_name"], "initiator" if who == "init" else "responder",
                     prologue=bytes.fromhex(v[f"{who}_prologue"]),
                     static=opt(f"{who}_static"), remote_static=opt(f"{who}_remote_static"),
                     psk=bytes.fromhex(psks[0]) if psks else None,
                     ephemeral=opt(f"{who}_ephemeral"))


def test_the_vectors_cover_every_pattern_we_speak() -> None:
    names = {v["protocol_name"] for v in VECTORS}
    for pattern in ("NNpsk0", "KKpsk0", "KK", "XX"):
        assert f"Noise_{pattern}_25519_ChaChaPoly_SHA256" in names


@pytest.mark.parametrize("v", VECTORS, ids=[v["protocol_name"] for v in VECTORS])
def test_vector(v: dict[str, Any]) -> None:
    init, resp = _side(v, "init"), _side(v, "resp")
    sides = (init, resp)
    messages = v["messages"]
    i = 0
    while not (init.finished and resp.finished):
        writer, reader = sides[i % 2], sides[(i + 1) % 2]
        m = messages[i]
        ct = writer.write_message(bytes.fromhex(m["payload"]))
        assert ct.hex() == m["ciphertext"], f"handshake message {i}"
        assert reader.read_message(ct).hex() == m["payload"]
        i += 1
    assert init.result.handshake_hash.hex() == v["handshake_hash"]
    assert resp.result.handshake_hash.hex() == v["handshake_hash"]
    # Transport messages: each direction's key with its own nonce counter from 0.
    nonces = [0, 0]
    for j, m in enumerate(messages[i:], start=i):
        sender = j % 2
        key = sides[sender].result.send_key
        peer_key = sides[1 - sender].result.receive_key
        ct = aead_encrypt(key, nonces[sender], b"", bytes.fromhex(m["payload"]))
        assert ct.hex() == m["ciphertext"], f"transport message {j}"
        assert aead_decrypt(peer_key, nonces[sender], b"", ct) == bytes.fromhex(m["payload"])
        nonces[sender] += 1
