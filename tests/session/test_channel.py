"""Sessions over real calls on the fake exchange: connect/accept, faults, escape, refusal.

Both ends run the whole stack (driver, fake modem, line, session).  Faults
are injected on the data path as the session reads it (``FaultyCall``);
the faulty transfer is the issue's 10 MB (:data:`FAULT_TRANSFER_BYTES`), the
clean one :data:`TRANSFER_BYTES`; ``MODEMCTL_SESSION_TRANSFER`` sets both
(the secret-leak test re-runs these files with a small one).
"""

from __future__ import annotations

import asyncio
import os
import random
from typing import Any

import pytest

from modemctl.errors import HandshakeFailed, UnknownIdentity
from modemctl.fake import Dce, DceEvent, StateChange
from modemctl.session import Credentials, accept, connect
from tests.line.conftest import SCALE, PairFactory, wait_until
from tests.session.faulty import FaultyCall
from tests.session.keys import WRONG_PSK, pair

TRANSFER_BYTES = int(os.environ.get("MODEMCTL_SESSION_TRANSFER", 256 * 1024))
FAULT_TRANSFER_BYTES = int(os.environ.get("MODEMCTL_SESSION_TRANSFER", 10 * 1000 * 1000))


def transfer_limit(n: int) -> float:
    """Seconds a transfer of ``n`` bytes may take: generous, growing with the size."""
    return 60 + n / 50_000


TRANSFER_LIMIT = transfer_limit(TRANSFER_BYTES)


async def read_exactly(channel: Any, n: int, limit: float) -> bytes:
    out = bytearray()
    async with asyncio.timeout(limit):
        while len(out) < n:
            chunk = await channel.read(n - len(out))
            if not chunk:
                break
            out += chunk
    return bytes(out)


def watch_escapes(*dces: Dce) -> list[str]:
    """Record every time a fake modem actually leaves data mode by the escape
    (a guarded ``+++``, or a DTR drop under ``&D1``)."""
    left: list[str] = []
    for dce in dces:
        def escaped(change: StateChange, dce: Dce = dce) -> None:
            if change.event is DceEvent.ESCAPE:
                left.append(str(dce))
        dce.on_state_change(escaped)
    return left


async def open_session(pair_: Any, pattern: str = "KKpsk0", caller_wrap: Any = None,
                       answer_wrap: Any = None, caller_creds: Credentials | None = None
                       ) -> tuple[Any, Any, Any, Any]:
    caller, answerer = pair(pattern)
    near_call, far_call = await pair_.connect()
    a_call = caller_wrap(near_call) if caller_wrap else near_call
    b_call = answer_wrap(far_call) if answer_wrap else far_call
    async with asyncio.timeout(30):
        a, b = await asyncio.gather(connect(a_call, caller_creds or caller),
                                    accept(b_call, {answerer.identity: answerer}))
    return a, b, near_call, far_call


@pytest.mark.timeout(TRANSFER_LIMIT + 60)
async def test_connect_accept_transfer_and_close_restores_s2(make_pair: PairFactory) -> None:
    p = await make_pair("conexant-v92")
    s2_before = p.near_fake.registers[2], p.far_fake.registers[2]
    a, b, near_call, far_call = await open_session(p)
    assert b.peer_identity == "site-7" and a.peer_identity == "site-7"
    assert a.handshake_hash == b.handshake_hash
    assert p.near_fake.registers[2] > 127 and p.far_fake.registers[2] > 127
    payload = random.Random(2).randbytes(TRANSFER_BYTES)
    writer = asyncio.create_task(a.write(payload))
    got = await read_exactly(b, len(payload), TRANSFER_LIMIT)
    await writer
    assert got == payload
    await b.write(b"ack from far")
    assert await read_exactly(a, 12, 10) == b"ack from far"
    await a.close()
    assert await read_exactly(b, 1, 10) == b""          # the orderly end, not an error
    await b.close()
    async with asyncio.timeout(10):
        await near_call.wait_disconnected()
        await far_call.wait_disconnected()
    assert (p.near_fake.registers[2], p.far_fake.registers[2]) == s2_before


@pytest.mark.timeout(transfer_limit(FAULT_TRANSFER_BYTES) + 60)
async def test_faults_on_the_data_path_transfer_arrives_intact(make_pair: PairFactory) -> None:
    p = await make_pair("conexant-v92")
    wrapped: list[FaultyCall] = []

    def damage(call: Any) -> FaultyCall:
        f = FaultyCall(call, seed=4, flip=0.00005, drop=0.00002, replay_after=6,
                       reorder_after=10)
        wrapped.append(f)
        return f

    a, b, _, _ = await open_session(p, answer_wrap=damage)
    payload = random.Random(3).randbytes(FAULT_TRANSFER_BYTES)
    writer = asyncio.create_task(a.write(payload))
    got = await read_exactly(b, len(payload), transfer_limit(FAULT_TRANSFER_BYTES))
    await writer
    assert got == payload
    f = wrapped[0]
    assert f.flipped and f.dropped and f.replayed and f.reordered
    stats = b.conn.stats
    assert stats.bad_frames > 0, "corrupted frames were detected"
    assert stats.replays >= 1, "the replayed frame was rejected"
    assert a.conn.stream.stats.retransmitted > 0, "lost frames were resent"
    await b.write(b"still alive")                     # the session survived
    assert await read_exactly(a, 11, 10) == b"still alive"
    await a.close()
    await b.close()


async def test_ciphertext_with_every_escape_pattern_never_leaves_data_mode(
        make_pair: PairFactory) -> None:
    p = await make_pair("conexant-v92")
    a, b, _, _ = await open_session(p)
    # From here on (the session's own ATS2 escape is over), no escape may happen.
    left = watch_escapes(p.near_fake.dce, p.far_fake.dce)
    sent: list[bytes] = []
    original_write = a.call.write

    async def spy(data: bytes) -> None:
        sent.append(data)
        await original_write(data)
    a.call.write = spy                                  # type: ignore[method-assign]
    patterns = [b"+++", b"+++\r", b"ATH\r+++", b"+" * 100, bytes(range(256)) * 8]
    for pat in patterns:
        await a.write(pat)
        await asyncio.sleep(0.1)                          # the guard time either side
    total = sum(len(x) for x in patterns)
    assert len(await read_exactly(b, total, 20)) == total
    assert left == []
    assert p.near_fake.state == "online-data" and p.far_fake.state == "online-data"
    assert b"+" not in b"".join(sent), "frames never carry the escape character"
    await a.close()
    await b.close()


async def test_control_the_watcher_sees_a_guarded_escape_on_a_raw_call(
        make_pair: PairFactory) -> None:
    """Without a session, ``+++`` between guard times does take the modem out of
    data mode, and :func:`watch_escapes` sees it: the test above is not vacuous."""
    p = await make_pair("conexant-v92")
    near_call, _ = await p.connect()
    left = watch_escapes(p.near_fake.dce)
    guard = p.near_fake.registers[12] * 0.02 * SCALE * 1.5     # S12 at the test time scale
    await asyncio.sleep(guard)
    await near_call.write(b"+++")
    await wait_until(lambda: bool(left), "the fake modem to take the escape")
    assert p.near_fake.state == "online-command"


@pytest.mark.parametrize("case", ["wrong-key", "unknown-identity"])
async def test_refused_caller_is_hung_up_within_the_bound(make_pair: PairFactory,
                                                          case: str) -> None:
    p = await make_pair("conexant-v92")
    _, answerer = pair("NNpsk0")
    bad = (Credentials("site-7", "NNpsk0", psk=WRONG_PSK) if case == "wrong-key"
           else pair("NNpsk0", identity="intruder")[0])
    near_call, far_call = await p.connect()
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(30):
        results = await asyncio.gather(
            connect(near_call, bad, handshake_timeout=1.0, handshake_attempts=3),
            accept(far_call, {answerer.identity: answerer}, handshake_timeout=1.0,
                   handshake_attempts=3),
            return_exceptions=True)
        await far_call.wait_disconnected()
        await near_call.wait_disconnected()
    assert loop.time() - started < 1.0 * 3 + 5
    assert isinstance(results[0], HandshakeFailed)
    assert isinstance(results[1], UnknownIdentity if case == "unknown-identity"
                      else HandshakeFailed)
    assert p.far_fake.state != "online-data" and p.near_fake.state != "online-data"
