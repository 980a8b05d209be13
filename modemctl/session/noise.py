"""The Noise Protocol Framework (revision 34), for the few patterns modemctl uses.

Written on ``cryptography``'s primitives (X25519, ChaCha20-Poly1305) and
``hashlib`` (SHA-256, BLAKE2s) rather than on a Noise library: the only
maintained-looking Python one is alpha and dormant, and the part we need is
small.  Correctness is pinned by the published cacophony test vectors
(``tests/session/noise_vectors.json``).

Everything here is pure computation: no I/O, no clock.  Randomness is only
used to make ephemeral keys, and a test can inject them.

The handshake patterns are data (:data:`PATTERNS`): the tokens each side
mixes before the first message (pre-messages) and per message.  A ``psk0``
modifier puts ``psk`` in front of the first message and makes ``e`` also mix
the key (spec section 9).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from modemctl.errors import HandshakeFailed

HashName = Literal["SHA256", "BLAKE2s"]
Role = Literal["initiator", "responder"]

DHLEN = 32
HASHLEN = 32          # both SHA-256 and BLAKE2s
KEYLEN = 32
TAGLEN = 16
MAX_MESSAGE = 65535   # the Noise limit on any message
MAX_NONCE = 2 ** 64 - 1  # reserved for rekey

_HASHES: dict[str, Callable[..., object]] = {"SHA256": hashlib.sha256,
                                              "BLAKE2s": hashlib.blake2s}


@dataclass(frozen=True)
class Pattern:
    """A handshake pattern: pre-message tokens and message tokens (initiator first)."""

    pre_initiator: tuple[str, ...]
    pre_responder: tuple[str, ...]
    messages: tuple[tuple[str, ...], ...]


#: The base patterns modemctl speaks (Noise spec section 7.5).
PATTERNS: dict[str, Pattern] = {
    "NN": Pattern((), (), (("e",), ("e", "ee"))),
    "KK": Pattern(("s",), ("s",), (("e", "es", "ss"), ("e", "ee", "se"))),
    "XX": Pattern((), (), (("e",), ("e", "ee", "s", "es"), ("s", "se"))),
}


def parse_name(name: str) -> tuple[str, bool, HashName]:
    """``Noise_KKpsk0_25519_ChaChaPoly_BLAKE2s`` -> (``"KK"``, psk0?, hash name).

    Only the suites and modifiers modemctl implements are accepted.
    """
    parts = name.split("_")
    if len(parts) != 5 or parts[0] != "Noise" or parts[2] != "25519" \
            or parts[3] != "ChaChaPoly" or parts[4] not in _HASHES:
        raise ValueError(f"unsupported Noise protocol {name!r}")
    handshake = parts[1]
    psk0 = handshake.endswith("psk0")
    base = handshake[:-4] if psk0 else handshake
    if base not in PATTERNS:
        raise ValueError(f"unsupported Noise pattern {handshake!r}")
    hash_name: HashName = "SHA256" if parts[4] == "SHA256" else "BLAKE2s"
    return base, psk0, hash_name


def public_key(private: bytes) -> bytes:
    """The X25519 public key of a 32-byte private key."""
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def generate_private_key() -> bytes:
    """A fresh X25519 private key (32 bytes)."""
    return X25519PrivateKey.generate().private_bytes(
        Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _dh(private: bytes, public: bytes) -> bytes:
    try:
        return X25519PrivateKey.from_private_bytes(private).exchange(
            X25519PublicKey.from_public_bytes(public))
    except ValueError as exc:       # an all-zero shared secret: a low-order point
        raise HandshakeFailed("peer sent an invalid public key") from exc


def nonce_bytes(n: int) -> bytes:
    """ChaChaPoly's 96-bit nonce: 32 zero bits then ``n`` little-endian."""
    return b"\x00\x00\x00\x00" + n.to_bytes(8, "little")


def aead_encrypt(key: bytes, n: int, ad: bytes, plaintext: bytes) -> bytes:
    """ENCRYPT(k, n, ad, plaintext) of the spec (ciphertext plus 16-byte tag)."""
    return ChaCha20Poly1305(key).encrypt(nonce_bytes(n), plaintext, ad)


def aead_decrypt(key: bytes, n: int, ad: bytes, ciphertext: bytes) -> bytes | None:
    """DECRYPT(k, n, ad, ciphertext), or ``None`` when the tag does not match."""
    try:
        return ChaCha20Poly1305(key).decrypt(nonce_bytes(n), ciphertext, ad)
    except InvalidTag:
        return None


def rekey(key: bytes) -> bytes:
    """REKEY(k): the first 32 bytes of ENCRYPT(k, maxnonce, zerolen, zeros)."""
    return aead_encrypt(key, MAX_NONCE, b"", bytes(KEYLEN))[:KEYLEN]


class CipherState:
    """A key and a nonce counter (spec section 5.1), used during the handshake."""

    def __init__(self) -> None:
        self.k: bytes | None = None
        self.n = 0

    def initialize_key(self, key: bytes | None) -> None:
        self.k = key
        self.n = 0

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        if self.k is None:
            return plaintext
        out = aead_encrypt(self.k, self.n, ad, plaintext)
        self.n += 1
        return out

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        if self.k is None:
            return ciphertext
        out = aead_decrypt(self.k, self.n, ad, ciphertext)
        if out is None:
            # The nonce does not advance on failure (the flynn/noise and snow bug).
            raise HandshakeFailed("handshake message failed its integrity check "
                                  "(wrong key or altered in transit)")
        self.n += 1
        return out


class SymmetricState:
    """Chaining key, handshake hash and the handshake cipher (spec section 5.2)."""

    def __init__(self, protocol_name: str, hash_name: HashName) -> None:
        self._hash = _HASHES[hash_name]
        name = protocol_name.encode("ascii")
        self.h = name.ljust(HASHLEN, b"\x00") if len(name) <= HASHLEN else self.hash(name)
        self.ck = self.h
        self.cipher = CipherState()

    def hash(self, data: bytes) -> bytes:
        return self._hash(data).digest()  # type: ignore[attr-defined,no-any-return]

    def _hmac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self._hash).digest()  # type: ignore[arg-type]

    def hkdf(self, ikm: bytes, outputs: int) -> tuple[bytes, ...]:
        temp = self._hmac(self.ck, ikm)
        out1 = self._hmac(temp, b"\x01")
        out2 = self._hmac(temp, out1 + b"\x02")
        if outputs == 2:
            return out1, out2
        return out1, out2, self._hmac(temp, out2 + b"\x03")

    def mix_key(self, ikm: bytes) -> None:
        self.ck, temp_k = self.hkdf(ikm, 2)
        self.cipher.initialize_key(temp_k[:KEYLEN])

    def mix_hash(self, data: bytes) -> None:
        self.h = self.hash(self.h + data)

    def mix_key_and_hash(self, ikm: bytes) -> None:
        self.ck, temp_h, temp_k = self.hkdf(ikm, 3)
        self.mix_hash(temp_h)
        self.cipher.initialize_key(temp_k[:KEYLEN])

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[bytes, bytes]:
        k1, k2 = self.hkdf(b"", 2)
        return k1[:KEYLEN], k2[:KEYLEN]


@dataclass(frozen=True)
class HandshakeResult:
    """What a finished handshake gives: one key per direction and the channel binding."""

    send_key: bytes = field(repr=False)
    receive_key: bytes = field(repr=False)
    handshake_hash: bytes
    remote_static: bytes | None


class Handshake:
    """One side of a Noise handshake (spec section 5.3), message by message.

    ``static`` is our private key, ``remote_static`` the peer's public key
    when the pattern has it as a pre-message; ``psk`` is the 32-byte
    pre-shared key of a ``psk0`` pattern; ``ephemeral`` is for test vectors
    only (a fresh key is made otherwise).
    """

    def __init__(self, protocol_name: str, role: Role, *, prologue: bytes = b"",
                 static: bytes | None = None, remote_static: bytes | None = None,
                 psk: bytes | None = None, ephemeral: bytes | None = None) -> None:
        base, psk0, hash_name = parse_name(protocol_name)
        self.pattern = PATTERNS[base]
        self.role: Role = role
        self.psk0 = psk0
        if psk0 and (psk is None or len(psk) != KEYLEN):
            raise ValueError("a psk0 pattern needs a 32-byte pre-shared key")
        self._psk = psk
        self._s = static
        self._s_pub = public_key(static) if static is not None else None
        self._e = ephemeral
        self._e_pub: bytes | None = None
        self.rs = remote_static
        self._re: bytes | None = None
        self._sym = SymmetricState(protocol_name, hash_name)
        self._sym.mix_hash(prologue)
        self._index = 0
        self._result: HandshakeResult | None = None
        # Pre-message keys, the initiator's first (spec section 7.1).
        for owner, tokens in (("initiator", self.pattern.pre_initiator),
                              ("responder", self.pattern.pre_responder)):
            for _token in tokens:          # only "s" in the patterns we speak
                key = self._s_pub if owner == role else self.rs
                if key is None:
                    raise ValueError(f"the {base} pattern needs both static keys before it starts")
                self._sym.mix_hash(key)

    # --- progress --------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self._result is not None

    @property
    def result(self) -> HandshakeResult:
        if self._result is None:
            raise HandshakeFailed("the handshake has not finished")
        return self._result

    def my_turn(self) -> bool:
        """Whether the next handshake message is ours to write."""
        ours = 0 if self.role == "initiator" else 1
        return not self.finished and self._index % 2 == ours

    def _tokens(self) -> tuple[str, ...]:
        tokens = self.pattern.messages[self._index]
        return ("psk", *tokens) if self.psk0 and self._index == 0 else tokens

    # --- messages --------------------------------------------------------------

    def write_message(self, payload: bytes = b"") -> bytes:
        """Our next handshake message carrying ``payload``."""
        if not self.my_turn():
            raise HandshakeFailed("not our turn to write a handshake message")
        out = bytearray()
        for token in self._tokens():
            if token == "e":
                if self._e is None:
                    self._e = generate_private_key()
                self._e_pub = public_key(self._e)
                out += self._e_pub
                self._sym.mix_hash(self._e_pub)
                if self.psk0:
                    self._sym.mix_key(self._e_pub)
            elif token == "s":
                assert self._s_pub is not None
                out += self._sym.encrypt_and_hash(self._s_pub)
            elif token == "psk":
                assert self._psk is not None
                self._sym.mix_key_and_hash(self._psk)
            else:
                self._sym.mix_key(self._dh_token(token))
        out += self._sym.encrypt_and_hash(payload)
        self._advance()
        return bytes(out)

    def read_message(self, message: bytes) -> bytes:
        """Process the peer's next handshake message; returns its payload."""
        if self.finished or self.my_turn():
            raise HandshakeFailed("unexpected handshake message")
        if len(message) > MAX_MESSAGE:
            raise HandshakeFailed("handshake message too long")
        rest = message
        for token in self._tokens():
            if token == "e":
                if len(rest) < DHLEN:
                    raise HandshakeFailed("handshake message too short")
                self._re, rest = rest[:DHLEN], rest[DHLEN:]
                self._sym.mix_hash(self._re)
                if self.psk0:
                    self._sym.mix_key(self._re)
            elif token == "s":
                size = DHLEN + (TAGLEN if self._sym.cipher.k is not None else 0)
                if len(rest) < size:
                    raise HandshakeFailed("handshake message too short")
                self.rs = self._sym.decrypt_and_hash(rest[:size])
                rest = rest[size:]
            elif token == "psk":
                assert self._psk is not None
                self._sym.mix_key_and_hash(self._psk)
            else:
                self._sym.mix_key(self._dh_token(token))
        if self._sym.cipher.k is not None and len(rest) < TAGLEN:
            raise HandshakeFailed("handshake message too short")
        payload = self._sym.decrypt_and_hash(rest)
        self._advance()
        return payload

    def _dh_token(self, token: str) -> bytes:
        """The DH for a token like ``es``: initiator's key letter first, responder's second."""
        initiator_key, responder_key = token[0], token[1]
        if self.role == "initiator":
            mine, theirs = initiator_key, responder_key
        else:
            mine, theirs = responder_key, initiator_key
        private = self._e if mine == "e" else self._s
        public = self._re if theirs == "e" else self.rs
        if private is None or public is None:
            raise HandshakeFailed(f"handshake token {token} without the keys it needs")
        return _dh(private, public)

    def _advance(self) -> None:
        self._index += 1
        if self._index == len(self.pattern.messages):
            k1, k2 = self._sym.split()
            send, receive = (k1, k2) if self.role == "initiator" else (k2, k1)
            self._result = HandshakeResult(send, receive, self._sym.h, self.rs)
            self._e = self._s = self._psk = None     # nothing left to do with them
