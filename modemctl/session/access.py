"""Answer-side access control, as dial-up security has long done it.

In order, each step cheaper than the next and each failure the end of the
call: the caller-ID allow-list (checked while the call is still offered, so
a stranger is rejected without the modem even answering), then the
authenticated handshake, then optionally dial-back to the number on record
for the identity (hang up, call that number, secure again), which proves
the caller is at that number and not just holding the key.

Bounds (documented in the README): a caller refused by caller ID is
rejected at once, never answered; one refused in the handshake is hung up
within ``handshake_timeout * handshake_attempts`` seconds of answering
(12 s by default), usually at the first token.  Every refusal is logged as
``access-refused`` with the reason, the number and the identity named.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from modemctl.errors import HandshakeFailed, SessionError
from modemctl.log import get_logger
from modemctl.session.channel import (
    HANDSHAKE_ATTEMPTS,
    HANDSHAKE_TIMEOUT,
    CallLike,
    SecureChannel,
    accept,
    connect,
)
from modemctl.session.credentials import Credentials
from modemctl.session.identities import IdentityConfig

DIAL_BACK_WAIT = 60.0
DIAL_BACK_DELAY = 3.0      # let the caller's modem go on-hook before we ring it
DIAL_BACK_TRIES = 3


class AccessRefused(SessionError):
    """A caller failed access control; ``reason`` says at which step."""

    def __init__(self, reason: str, number: str | None, identity: str | None = None) -> None:
        self.reason = reason
        self.number = number
        self.identity = identity
        super().__init__(f"access refused ({reason}) for caller {number or 'unknown'}"
                         + (f" as {identity!r}" if identity else ""))


@dataclass(frozen=True)
class Account:
    """One identity that may call in: its settings and its credentials."""

    config: IdentityConfig
    credentials: Credentials


class OfferedCall(CallLike, Protocol):
    """An incoming call not yet answered (:class:`~modemctl.line.Call` is one)."""

    number: str | None

    async def answer(self, secure: Any = False) -> None: ...


class Dialer(Protocol):
    """What dial-back needs of the line (:class:`~modemctl.line.Line` is one)."""

    async def make_call(self, number: str, secure: Any = False) -> Any: ...


def allowed_numbers(accounts: Mapping[str, Account]) -> frozenset[str] | None:
    """The caller-ID allow-list: ``None`` when no identity restricts numbers."""
    numbers = {n for a in accounts.values() for n in a.config.caller_ids}
    if not numbers or any(not a.config.caller_ids for a in accounts.values()):
        return None
    return frozenset(numbers)


async def answer_secured(call: OfferedCall, accounts: Mapping[str, Account], *,
                         line: Dialer | None = None, secure: Any = False,
                         dial_back_delay: float = DIAL_BACK_DELAY,
                         handshake_timeout: float = HANDSHAKE_TIMEOUT,
                         handshake_attempts: int = HANDSHAKE_ATTEMPTS) -> SecureChannel:
    """Take an offered call through caller ID, handshake and dial-back.

    Returns the secured channel (on the call back, for a dial-back
    identity; ``line`` is then required).  ``secure`` is passed to
    ``call.answer`` (protection against call waiting, as without a
    session).  Raises :class:`AccessRefused` with the call already ended.
    """
    log: Any = (getattr(call, "log", None) or get_logger()).bind(layer="access")
    number = call.number

    async def refuse(reason: str, identity: str | None = None) -> AccessRefused:
        log.warning("access-refused", reason=reason, caller=number, identity=identity)
        await call.drop()
        return AccessRefused(reason, number, identity)

    allow = allowed_numbers(accounts)
    if allow is not None and number not in allow:
        raise await refuse("caller ID not on the allow-list" if number
                           else "no caller ID and an allow-list is in force")

    def lookup(name: str) -> Credentials | None:
        account = accounts.get(name)
        if account is None:
            return None
        if account.config.caller_ids and number not in account.config.caller_ids:
            return None          # the key is right only from the numbers on record
        return account.credentials

    await call.answer(secure)
    try:
        channel = await accept(call, lookup, handshake_timeout=handshake_timeout,
                               handshake_attempts=handshake_attempts)
    except HandshakeFailed as exc:
        log.warning("access-refused", reason=f"handshake: {exc}", caller=number)
        await call.drop()
        raise AccessRefused(f"handshake: {exc}", number) from None
    identity = channel.peer_identity or ""
    account = accounts[identity]
    log.info("access-granted", caller=number, identity=identity,
             dialback=account.config.dialback)
    if not account.config.dialback:
        return channel
    if line is None:
        await channel.close()
        raise AccessRefused("dial-back is configured but no line to call back on", number,
                            identity)
    await channel.close()
    number_on_record = account.config.dialback
    for attempt in range(1, DIAL_BACK_TRIES + 1):
        await asyncio.sleep(dial_back_delay)
        log.info("dialing-back", identity=identity, number=number_on_record, attempt=attempt)
        back = await line.make_call(number_on_record)
        if getattr(back, "state", None) is not None and back.state.name == "CONNECTED":
            return await connect(back, account.credentials,
                                 handshake_timeout=handshake_timeout,
                                 handshake_attempts=handshake_attempts)
        reason = getattr(back, "disconnect_reason", None)
        log.warning("dial-back-failed", number=number_on_record, attempt=attempt,
                    reason=getattr(reason, "name", None))
    raise SessionError(f"dial-back to {number_on_record} failed after {DIAL_BACK_TRIES} "
                       "attempts")


class Answerer(Protocol):
    """What waiting for a call back needs of the line."""

    async def wait_for_call(self) -> Any: ...


async def await_dial_back(first: SecureChannel, line: Answerer, credentials: Credentials, *,
                          wait: float = DIAL_BACK_WAIT,
                          handshake_timeout: float = HANDSHAKE_TIMEOUT,
                          handshake_attempts: int = HANDSHAKE_ATTEMPTS) -> SecureChannel:
    """The calling side of dial-back: after the first session ends, answer the
    call back (within ``wait`` seconds) and authenticate it with the same
    credentials.  The call back must authenticate as the same identity."""
    async with asyncio.timeout(wait):
        while await first.read():
            pass                      # the answering side sends nothing before closing
        await first.close()
        back = await line.wait_for_call()
    await back.answer()
    return await accept(back, {credentials.identity: credentials},
                        handshake_timeout=handshake_timeout,
                        handshake_attempts=handshake_attempts)
