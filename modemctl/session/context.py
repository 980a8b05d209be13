"""A security context in the SSPI shape, sans-IO: tokens in, tokens out.

Establishment is a loop of :meth:`SecurityContext.step` calls, as with
``InitializeSecurityContext``/``AcceptSecurityContext``: each step takes the
peer's last token (``None`` for the initiator's first) and returns the token
to send, if any, until :attr:`~SecurityContext.complete`.  Then the context
signs, verifies, encrypts and decrypts messages, and :meth:`close` makes the
token that tells the peer we are done and wipes the keys.

Why explicit message numbers: Noise transport messages carry no nonce, so
one lost or corrupted message on a noisy line would desynchronise every
later one.  Here every message token is ``kind(1) | seq(8, big-endian) |
body``, the number is the AEAD nonce and, with the kind, the associated
data; the receiver authenticates first and then judges the number against
a replay window, so loss, insertion, reordering and replay are each told
apart (:class:`~modemctl.errors.OutOfSequence`,
:class:`~modemctl.errors.MessageAltered`).  Signatures and encrypted
messages share one number space per direction, so no nonce is ever used
twice under one key.

Rekeying is by message number: message ``seq`` is protected by the key of
epoch ``seq // rekey_interval``, each epoch's key being Noise's ``REKEY`` of
the one before.  Both ends therefore change keys at the same message
without any signal that could itself be lost.

The first initiator token carries a short clear header (magic, pattern,
rekey interval, identity name) so that an answering side holding several
identities knows which credentials to use; the header is bound into the
handshake as the Noise prologue, so it cannot be altered unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from modemctl.errors import (
    ContextClosed,
    HandshakeFailed,
    MessageAltered,
    OutOfSequence,
    UnknownIdentity,
)
from modemctl.session.credentials import PATTERN_NAMES, Credentials, protocol_name
from modemctl.session.noise import (
    MAX_MESSAGE,
    TAGLEN,
    Handshake,
    Role,
    aead_decrypt,
    aead_encrypt,
    rekey,
)
from modemctl.session.replay import ReplayWindow
from modemctl.session.states import CONTEXT_TRANSITIONS, ContextState, check

MAGIC = b"MCS1"
PROLOGUE = b"modemctl-session/1\x00"
HEADER = 9                       # kind + 64-bit message number
DEFAULT_MAX_MESSAGE = 1024       # keeps a lost frame cheap at 2400-33600 bit/s
DEFAULT_REKEY_SHIFT = 16         # new keys every 65,536 messages
MAX_EPOCH_SKIP = 4               # how many epochs ahead a message may be and still be tried
ORDER_WINDOW = 64

Lookup = Callable[[str], Credentials | None]


class Kind(IntEnum):
    """What a message token carries (part of the associated data)."""

    SIGNATURE = 1
    DATA = 2
    CLOSE = 3


@dataclass(frozen=True)
class Sizes:
    """SSPI's QueryContextAttributes(SIZES/STREAM_SIZES), in bytes."""

    max_token: int        # largest handshake token
    max_signature: int    # a sign() token
    header: int           # before the ciphertext in an encrypt() token
    trailer: int          # after it (the AEAD tag)
    max_message: int      # largest plaintext encrypt() takes
    block: int = 1        # a stream cipher: no padding


class SecurityContext:
    """One side of an authenticated session: handshake, then message protection.

    Build with :meth:`initiator` (we know which identity we are) or
    :meth:`acceptor` (we look the caller's identity up).  ``strict_order``
    makes every message out of its place an error, as SSPI's
    ``VerifySignature`` does; the framed stream turns it off and relies on
    the replay window alone, because it resends what was lost itself.
    """

    def __init__(self, role: Role, *, credentials: Credentials | None = None,
                 lookup: Lookup | None = None, strict_order: bool = True,
                 rekey_shift: int = DEFAULT_REKEY_SHIFT,
                 max_message: int = DEFAULT_MAX_MESSAGE, ephemeral: bytes | None = None) -> None:
        if not 2 <= rekey_shift <= 48:
            raise ValueError("rekey_shift must be 2..48")
        if not 1 <= max_message <= MAX_MESSAGE - HEADER - TAGLEN:
            raise ValueError("max_message out of range")
        self.role: Role = role
        self.state = ContextState.HANDSHAKE
        self.strict_order = strict_order
        self.rekey_shift = rekey_shift
        self.max_message = max_message
        self.credentials = credentials
        self.peer_closed = False
        self._lookup = lookup
        self._ephemeral = ephemeral
        self._handshake: Handshake | None = None
        self.handshake_hash: bytes | None = None
        self.peer_static: bytes | None = None
        self._send_seq = 0
        self._send_epoch = 0
        self._send_key: bytearray | None = None
        self._recv_keys: dict[int, bytearray] = {}
        self._window = ReplayWindow(ORDER_WINDOW)
        self._expected = 0

    @classmethod
    def initiator(cls, credentials: Credentials, **options: object) -> SecurityContext:
        """The calling side, speaking as ``credentials.identity``."""
        return cls("initiator", credentials=credentials, **options)  # type: ignore[arg-type]

    @classmethod
    def acceptor(cls, lookup: Lookup, **options: object) -> SecurityContext:
        """The answering side: ``lookup(name)`` gives the caller's credentials or ``None``."""
        return cls("responder", lookup=lookup, **options)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        who = self.credentials.identity if self.credentials else "?"
        return f"<SecurityContext {self.role} {who} {self.state.value}>"

    # --- queries ------------------------------------------------------------

    @property
    def complete(self) -> bool:
        """The handshake is done (SSPI SEC_E_OK)."""
        return self.state is not ContextState.HANDSHAKE

    @property
    def identity(self) -> str | None:
        """The authenticated identity name (``None`` until complete)."""
        if self.state is ContextState.HANDSHAKE or self.credentials is None:
            return None
        return self.credentials.identity

    @property
    def sizes(self) -> Sizes:
        return Sizes(max_token=MAX_MESSAGE, max_signature=HEADER + TAGLEN, header=HEADER,
                     trailer=TAGLEN, max_message=self.max_message)

    # --- establishment --------------------------------------------------------

    def step(self, token: bytes | None = None) -> bytes | None:
        """Feed the peer's token (``None`` to start as initiator); returns ours, if any.

        Raises :class:`HandshakeFailed` (or :class:`UnknownIdentity`) and
        leaves the context FAILED on anything wrong; a failed context never
        holds keys.
        """
        if self.state is not ContextState.HANDSHAKE:
            raise ContextClosed(f"the handshake is over ({self.state.value})")
        try:
            out = self._step(token)
        except HandshakeFailed:
            self._fail()
            raise
        except ValueError as exc:      # malformed hello contents
            self._fail()
            raise HandshakeFailed(f"malformed handshake token: {exc}") from None
        if self._handshake is not None and self._handshake.finished:
            self._establish()
        return out

    def _step(self, token: bytes | None) -> bytes | None:
        if self._handshake is None:
            if self.role == "initiator":
                if token is not None:
                    raise HandshakeFailed("the initiator speaks first")
                return self._hello()
            if token is None:
                raise HandshakeFailed("the acceptor needs the caller's first token")
            token = self._read_hello(token)
        elif token is None:
            raise HandshakeFailed("a handshake step needs the peer's token")
        hs = self._handshake
        assert hs is not None
        hs.read_message(token)
        self._check_pinned(hs)
        if hs.finished:
            return None
        return hs.write_message()

    def _header(self, pattern_index: int, name: bytes) -> bytes:
        return MAGIC + bytes([pattern_index, self.rekey_shift, len(name)]) + name

    def _start(self, creds: Credentials, header: bytes, role: Role) -> Handshake:
        prologue = PROLOGUE + header
        return Handshake(protocol_name(creds.pattern, creds.suite), role, prologue=prologue,
                         static=creds.static, remote_static=creds.remote_static,
                         psk=creds.psk, ephemeral=self._ephemeral)

    def _hello(self) -> bytes:
        creds = self.credentials
        assert creds is not None
        header = self._header(PATTERN_NAMES.index(creds.pattern), creds.identity.encode())
        self._handshake = self._start(creds, header, "initiator")
        return header + self._handshake.write_message()

    def _read_hello(self, token: bytes) -> bytes:
        if len(token) < len(MAGIC) + 3 or not token.startswith(MAGIC):
            raise HandshakeFailed("not a modemctl session handshake")
        pattern_index, shift, size = token[len(MAGIC):len(MAGIC) + 3]
        end = len(MAGIC) + 3 + size
        if pattern_index >= len(PATTERN_NAMES) or len(token) < end or not 2 <= shift <= 48:
            raise HandshakeFailed("malformed handshake header")
        name = token[len(MAGIC) + 3:end].decode("utf-8", errors="replace")
        assert self._lookup is not None
        creds = self._lookup(name)
        if creds is None:
            raise UnknownIdentity(name)
        if creds.pattern != PATTERN_NAMES[pattern_index]:
            raise HandshakeFailed(f"identity {name!r} uses {creds.pattern}, the caller "
                                  f"offered {PATTERN_NAMES[pattern_index]}")
        self.credentials = creds
        self.rekey_shift = shift
        self._handshake = self._start(creds, token[:end], "responder")
        return token[end:]

    def _check_pinned(self, hs: Handshake) -> None:
        creds = self.credentials
        assert creds is not None
        if creds.pattern == "XX" and hs.rs is not None and hs.rs not in creds.pinned:
            raise HandshakeFailed(f"identity {creds.identity!r}: the peer's static key is not "
                                  "the one pinned")

    def _establish(self) -> None:
        assert self._handshake is not None
        result = self._handshake.result
        self._handshake = None
        self.handshake_hash = result.handshake_hash
        self.peer_static = result.remote_static
        self._send_key = bytearray(result.send_key)
        self._recv_keys = {0: bytearray(result.receive_key)}
        self._move(ContextState.ESTABLISHED)

    def _fail(self) -> None:
        self._handshake = None
        self._move(ContextState.FAILED)

    def _move(self, new: ContextState) -> None:
        check(CONTEXT_TRANSITIONS, self.state, new)
        self.state = new

    # --- messages ---------------------------------------------------------------

    def _require_keys(self) -> None:
        if self.state is not ContextState.ESTABLISHED:
            raise ContextClosed(f"the security context is {self.state.value}")

    def _next_send(self, kind: Kind) -> tuple[bytes, bytes]:
        """Header and key for our next message (rekeying at an epoch boundary)."""
        self._require_keys()
        assert self._send_key is not None
        seq = self._send_seq
        if seq >= 2 ** 64 - 1:
            raise ContextClosed("the message numbers are used up; start a new session")
        epoch = seq >> self.rekey_shift
        while self._send_epoch < epoch:
            self._send_key[:] = rekey(bytes(self._send_key))
            self._send_epoch += 1
        self._send_seq += 1
        return bytes([kind]) + seq.to_bytes(8, "big"), bytes(self._send_key)

    def sign(self, data: bytes) -> bytes:
        """A signature token over ``data`` (SSPI MakeSignature); ``data`` travels apart."""
        header, key = self._next_send(Kind.SIGNATURE)
        return header + aead_encrypt(key, int.from_bytes(header[1:], "big"), header + data, b"")

    def encrypt(self, data: bytes) -> bytes:
        """``data`` encrypted and authenticated as one token (SSPI EncryptMessage)."""
        if len(data) > self.max_message:
            raise ValueError(f"message of {len(data)} bytes exceeds max_message "
                             f"{self.max_message}")
        header, key = self._next_send(Kind.DATA)
        return header + aead_encrypt(key, int.from_bytes(header[1:], "big"), header, data)

    def verify(self, data: bytes, token: bytes, seq: int | None = None) -> int:
        """Check a signature token over ``data`` (SSPI VerifySignature); returns its number.

        ``seq``, if given, is the number the caller expects this message to have.
        """
        got, _ = self._open(token, data, {Kind.SIGNATURE})
        if seq is not None and got != seq:
            raise OutOfSequence(got, seq, "unexpected")
        return got

    def decrypt(self, token: bytes) -> bytes:
        """The plaintext of an encrypt() token (SSPI DecryptMessage).

        The peer's close token decrypts to ``b""`` and closes this context
        too (:attr:`peer_closed`); SSPI's "success with an empty buffer".
        """
        _seq, plain = self._open(token, b"", {Kind.DATA, Kind.CLOSE})
        return plain

    def _open(self, token: bytes, data: bytes, kinds: set[Kind]) -> tuple[int, bytes]:
        self._require_keys()
        if len(token) < HEADER + TAGLEN:
            raise MessageAltered(None, "token too short")
        header, body = token[:HEADER], token[HEADER:]
        seq = int.from_bytes(header[1:], "big")
        try:
            kind = Kind(header[0])
        except ValueError:
            raise MessageAltered(seq, "unknown message kind") from None
        if kind not in kinds:
            raise MessageAltered(seq, f"a {kind.name.lower()} token where "
                                 f"{'/'.join(k.name.lower() for k in sorted(kinds))} was expected")
        verdict = self._window.judge(seq)
        if verdict != "new":
            raise OutOfSequence(seq, self._expected, "replay")
        key = self._receive_key(seq)
        ad = header + data if kind is Kind.SIGNATURE else header
        plain = aead_decrypt(key, seq, ad, body) if key is not None else None
        if plain is None:
            raise MessageAltered(seq)
        self._commit_epoch(seq, key)
        self._window.accept(seq)
        expected, self._expected = self._expected, max(self._expected, seq + 1)
        if kind is Kind.CLOSE:
            self.peer_closed = True
            self._wipe()
            self._move(ContextState.CLOSED)
            return seq, b""
        if self.strict_order and seq != expected:
            raise OutOfSequence(seq, expected, "gap" if seq > expected else "reordered")
        return seq, plain

    def _receive_key(self, seq: int) -> bytes | None:
        """The key of ``seq``'s epoch, computed forward if needed (not yet kept)."""
        epoch = seq >> self.rekey_shift
        if epoch in self._recv_keys:
            return bytes(self._recv_keys[epoch])
        newest = max(self._recv_keys)
        if epoch < newest or epoch - newest > MAX_EPOCH_SKIP:
            return None
        key = bytes(self._recv_keys[newest])
        for _ in range(epoch - newest):
            key = rekey(key)
        return key

    def _commit_epoch(self, seq: int, key: bytes | None) -> None:
        """An authentic message of a new epoch: keep its key and the one before only."""
        epoch = seq >> self.rekey_shift
        if epoch in self._recv_keys or key is None:
            return
        self._recv_keys[epoch] = bytearray(key)
        for old in [e for e in self._recv_keys if e < epoch - 1]:
            self._recv_keys.pop(old)[:] = bytes(len(key))

    # --- ending -------------------------------------------------------------------

    def close(self) -> bytes | None:
        """End the context: returns the close token for the peer (``None`` if
        there is nothing to tell it) and wipes every key we hold."""
        token = None
        if self.state is ContextState.ESTABLISHED:
            header, key = self._next_send(Kind.CLOSE)
            token = header + aead_encrypt(key, int.from_bytes(header[1:], "big"), header, b"")
        self._wipe()
        self._handshake = None
        if self.state in (ContextState.HANDSHAKE, ContextState.ESTABLISHED):
            self._move(ContextState.CLOSED)
        return token

    def _wipe(self) -> None:
        """Zero the keys we hold.  Python may still hold copies we cannot reach
        (immutable temporaries); this removes ours."""
        if self._send_key is not None:
            self._send_key[:] = bytes(len(self._send_key))
            self._send_key = None
        for key in self._recv_keys.values():
            key[:] = bytes(len(key))
        self._recv_keys = {}

