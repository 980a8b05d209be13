"""What one identity needs to run a handshake: a name, a protocol and key material.

The secret parts (pre-shared key, our static private key) are kept out of
``repr`` and are registered with :func:`modemctl.log.register_secret` (in
both hex and base64, the two ways they are ever written) so that no log
line or byte trace can show them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from modemctl.log import register_secret
from modemctl.session.noise import KEYLEN, parse_name

#: The suite every modemctl session uses unless an identity says otherwise.
DEFAULT_SUITE = "25519_ChaChaPoly_BLAKE2s"
PATTERN_NAMES = ("NNpsk0", "KKpsk0", "KK", "XX")


def protocol_name(pattern: str, suite: str = DEFAULT_SUITE) -> str:
    """``Noise_<pattern>_<suite>``, checked."""
    name = f"Noise_{pattern}_{suite}"
    parse_name(name)
    return name


def register_key(key: bytes) -> None:
    """Make ``key`` unprintable in logs in every encoding we ever render it in."""
    register_secret(key.hex())
    register_secret(base64.b64encode(key).decode("ascii"))
    register_secret(key.decode("latin-1"))


@dataclass(frozen=True)
class Credentials:
    """One identity's handshake material (MAPI: the secure part of a profile section).

    ``pattern`` is one of :data:`PATTERN_NAMES`.  ``psk`` is needed by the
    ``psk0`` patterns, ``static`` (our private key) by KK and XX,
    ``remote_static`` (the peer's public key) by KK, and ``pinned`` (the
    public keys the peer may present) by XX.
    """

    identity: str
    pattern: str
    psk: bytes | None = field(default=None, repr=False)
    static: bytes | None = field(default=None, repr=False)
    remote_static: bytes | None = None
    pinned: frozenset[bytes] = frozenset()
    suite: str = DEFAULT_SUITE

    def __post_init__(self) -> None:
        if not self.identity or len(self.identity.encode("utf-8")) > 64 \
                or not self.identity.isprintable():
            raise ValueError("an identity name is 1-64 printable characters")
        if self.pattern not in PATTERN_NAMES:
            raise ValueError(f"pattern must be one of {', '.join(PATTERN_NAMES)}")
        protocol_name(self.pattern, self.suite)
        for what, key in (("psk", self.psk), ("static", self.static),
                          ("remote_static", self.remote_static)):
            if key is not None and len(key) != KEYLEN:
                raise ValueError(f"{what} must be {KEYLEN} bytes")
        if self.pattern.endswith("psk0") and self.psk is None:
            raise ValueError(f"identity {self.identity!r}: {self.pattern} needs a pre-shared key")
        if self.pattern.startswith(("KK", "XX")) and self.static is None:
            raise ValueError(f"identity {self.identity!r}: {self.pattern} needs a static key")
        if self.pattern.startswith("KK") and self.remote_static is None:
            raise ValueError(f"identity {self.identity!r}: {self.pattern} needs the peer's "
                             "public key")
        if self.pattern == "XX" and not self.pinned:
            raise ValueError(f"identity {self.identity!r}: XX needs the peer's public key "
                             "pinned")
        for key in (self.psk, self.static):
            if key is not None:
                register_key(key)

    @property
    def protocol(self) -> str:
        return protocol_name(self.pattern, self.suite)
