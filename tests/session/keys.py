"""Known test key material for the session tests (never used anywhere else).

The secret-scanning test looks for exactly these values in every log line,
trace line and exception message the session tests produce.
"""

from __future__ import annotations

import base64

from modemctl.session.credentials import Credentials
from modemctl.session.noise import public_key

PSK = bytes.fromhex("5e" * 16 + "c2" * 16)
WRONG_PSK = bytes.fromhex("77" * 32)
CALLER_STATIC = bytes.fromhex("a1" * 31 + "41")
ANSWER_STATIC = bytes.fromhex("b2" * 31 + "42")
SECRETS = (PSK, WRONG_PSK, CALLER_STATIC, ANSWER_STATIC)


def renderings(secret: bytes) -> list[str]:
    """Every way a key could be printed: hex (both cases), base64, repr."""
    return [secret.hex(), secret.hex().upper(), base64.b64encode(secret).decode(),
            repr(secret)[2:-1]]


def pair(pattern: str, identity: str = "site-7") -> tuple[Credentials, Credentials]:
    """Matching caller and answerer credentials for ``pattern``."""
    psk = PSK if pattern.endswith("psk0") else None
    if pattern.startswith("KK"):
        return (Credentials(identity, pattern, psk=psk, static=CALLER_STATIC,
                            remote_static=public_key(ANSWER_STATIC)),
                Credentials(identity, pattern, psk=psk, static=ANSWER_STATIC,
                            remote_static=public_key(CALLER_STATIC)))
    if pattern == "XX":
        return (Credentials(identity, pattern, static=CALLER_STATIC,
                            pinned=frozenset({public_key(ANSWER_STATIC)})),
                Credentials(identity, pattern, static=ANSWER_STATIC,
                            pinned=frozenset({public_key(CALLER_STATIC)})))
    return Credentials(identity, pattern, psk=psk), Credentials(identity, pattern, psk=psk)
