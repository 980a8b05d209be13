"""Answer-side access control on the fake exchange: caller ID, handshake, dial-back."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import structlog

from modemctl.line import CallState
from modemctl.session import Credentials, connect
from modemctl.session.access import AccessRefused, Account, answer_secured, await_dial_back
from modemctl.session.identities import IdentityConfig
from modemctl.session.noise import public_key
from tests.line.conftest import FAR, NEAR, PairFactory
from tests.session.keys import ANSWER_STATIC, WRONG_PSK, pair


def account(pattern: str = "KKpsk0", caller_ids: tuple[str, ...] = (),
            dialback: str | None = None) -> tuple[Credentials, Account]:
    caller, answerer = pair(pattern)
    cfg = IdentityConfig("site-7", pattern, caller_ids=caller_ids, dialback=dialback,
                         peer_public=answerer.remote_static)
    return caller, Account(cfg, answerer)


async def offered(p: Any) -> tuple[Any, Any]:
    """near dials far; returns the dialling task and far's offered call."""
    dialing = asyncio.create_task(p.near.make_call(FAR))
    async with asyncio.timeout(10):
        incoming = await p.far.wait_for_call()
    return dialing, incoming


async def test_caller_id_not_allowed_is_rejected_without_answering(
        make_pair: PairFactory) -> None:
    p = await make_pair("conexant-v92")
    _, acct = account(caller_ids=("5550000",))
    dialing, incoming = await offered(p)
    assert incoming.number == NEAR
    with structlog.testing.capture_logs() as logs, pytest.raises(AccessRefused) as info:
        await answer_secured(incoming, {"site-7": acct})
    assert "allow-list" in info.value.reason
    assert incoming.state is CallState.DISCONNECTED
    assert any(e["event"] == "access-refused" and e["caller"] == NEAR for e in logs)
    dialing.cancel()
    await asyncio.gather(dialing, return_exceptions=True)


@pytest.mark.parametrize("case", ["wrong-key", "unknown-identity", "key-from-other-number"])
async def test_handshake_refusal_hangs_up_within_the_bound(make_pair: PairFactory,
                                                           case: str) -> None:
    p = await make_pair("conexant-v92")
    caller, acct = account("NNpsk0", caller_ids=("5550000",) if case ==
                           "key-from-other-number" else ())
    if case == "wrong-key":
        caller = Credentials("site-7", "NNpsk0", psk=WRONG_PSK)
    elif case == "unknown-identity":
        caller = Credentials("nobody", "NNpsk0", psk=caller.psk)
    accounts = {"site-7": acct}
    if case == "key-from-other-number":      # another identity lets the number in
        _, other = account("NNpsk0")
        accounts["other"] = Account(IdentityConfig("other", "NNpsk0", caller_ids=(NEAR,)),
                                    other.credentials)
    dialing, incoming = await offered(p)
    loop = asyncio.get_running_loop()
    with structlog.testing.capture_logs() as logs:
        serving = asyncio.create_task(answer_secured(incoming, accounts, handshake_timeout=1,
                                                     handshake_attempts=3))
        near_call = await dialing
        started = loop.time()
        results = await asyncio.gather(
            connect(near_call, caller, handshake_timeout=1, handshake_attempts=3), serving,
            return_exceptions=True)
        assert loop.time() - started < 3 * 1 + 3
    assert isinstance(results[1], AccessRefused) and "handshake" in results[1].reason
    assert incoming.state is CallState.DISCONNECTED
    assert any(e["event"] == "access-refused" for e in logs)


async def test_dial_back_calls_the_number_on_record_and_secures_again(
        make_pair: PairFactory) -> None:
    p = await make_pair("conexant-v92")
    caller, acct = account("KK", caller_ids=(NEAR,), dialback=NEAR)
    assert acct.credentials.remote_static is not None
    dialing, incoming = await offered(p)
    serving = asyncio.create_task(answer_secured(incoming, {"site-7": acct}, line=p.far,
                                                 dial_back_delay=1.0))
    near_call = await dialing
    async with asyncio.timeout(40):
        first = await connect(near_call, caller)
        back, served = await asyncio.gather(await_dial_back(first, p.near, caller), serving)
    assert near_call.state is CallState.DISCONNECTED     # the first call was hung up
    assert back.peer_identity == served.peer_identity == "site-7"
    assert back.conn.context.peer_static == public_key(ANSWER_STATIC)
    await served.write(b"hello from the number on record")
    async with asyncio.timeout(10):
        assert await back.read() == b"hello from the number on record"
    await served.close()
    await back.close()
