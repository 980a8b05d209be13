"""Steps the conformance tests share: open and connect a pair, move data, wait with a bound.

Every wait is bounded in time and scaled to the rig: a real rig runs at
``time_scale=1`` and its calls take tens of seconds to train, the fake rig
runs 20 times faster.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from modemctl.hil.harness import Harness
from modemctl.hil.linesim.base import LineSimulator
from modemctl.hil.rig import Rig, RigModem, RigPair
from modemctl.line import Call, DisconnectReason, Line
from modemctl.line.call import SecureRequest
from modemctl.profiles import Profile

CALL_SETUP = 90.0
"""Protocol seconds a call may take to connect (dial, ring, answer, train)."""
MIN_WAIT = 5.0
"""Real seconds every wait gets at least, whatever the time scale."""
CW_INTERRUPTION_MS = 300
"""How long a call-waiting tone interrupts the carrier (reference §5.1)."""


def bound(seconds: float, time_scale: float) -> float:
    """Real seconds for a wait of ``seconds`` protocol seconds."""
    return max(seconds * time_scale, MIN_WAIT)


async def connect(caller: Line, answerer: Line, number: str, time_scale: float,
                  secure: SecureRequest = False) -> tuple[Call, Call]:
    """``caller`` dials ``number`` (``answerer``'s line), which answers; both CONNECTED."""
    async def answer() -> Call:
        incoming = await answerer.wait_for_call()
        await incoming.answer()
        return incoming

    answering = asyncio.create_task(answer())
    try:
        async with asyncio.timeout(bound(CALL_SETUP, time_scale)):
            call = await caller.make_call(number, secure=secure)
            if call.state.name != "CONNECTED":
                raise AssertionError(f"call to {number} did not connect: "
                                     f"{call.disconnect_reason}")
            incoming = await answering
    finally:
        answering.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await answering
    return call, incoming


@dataclass(frozen=True)
class OpenPair:
    """A pair's two lines, open and probed: where every pair test starts.

    ``a`` is the caller's line and ``b`` the answerer's; the waits and the
    call set-up are scaled to the rig, so a test reads as its own steps.
    """

    rig: Rig
    caller: RigModem
    answerer: RigModem
    a: Line
    b: Line
    simulator: LineSimulator | None = None

    @property
    def sim(self) -> LineSimulator:
        """The line simulator (the pair must have been opened with ``simulator=True``)."""
        if self.simulator is None:
            raise AssertionError("the pair was opened without the line simulator")
        return self.simulator

    def bound(self, seconds: float) -> float:
        """Real seconds for a wait of ``seconds`` protocol seconds on this rig."""
        return bound(seconds, self.rig.time_scale)

    async def connect(self, secure: SecureRequest = False) -> tuple[Call, Call]:
        """The caller dials the answerer, which answers: (outgoing, incoming), CONNECTED."""
        return await connect(self.a, self.b, self.answerer.line, self.rig.time_scale,
                             secure=secure)


@contextlib.asynccontextmanager
async def open_pair(harness: Harness, pair: RigPair,
                    simulator: bool = False) -> AsyncIterator[OpenPair]:
    """Open ``pair``'s lines (and first the line simulator, if asked), closed on exit."""
    rig = harness.rig
    caller, answerer = rig.modem(pair.caller), rig.modem(pair.answerer)
    async with contextlib.AsyncExitStack() as stack:
        sim = await stack.enter_async_context(harness.simulator()) if simulator else None
        a = await stack.enter_async_context(harness.open(caller))
        b = await stack.enter_async_context(harness.open(answerer))
        yield OpenPair(rig, caller, answerer, a, b, sim)


async def read_exactly(call: Call, n: int, limit: float) -> bytes:
    """Up to ``n`` bytes from ``call`` within ``limit`` real seconds (short if it ends)."""
    out = bytearray()
    async with asyncio.timeout(limit):
        while len(out) < n:
            chunk = await call.read(min(n - len(out), 65536))
            if not chunk:
                break
            out += chunk
    return bytes(out)


async def exchange_data(call: Call, incoming: Call, payload: bytes, limit: float,
                        far_prefix: bytes = b"") -> None:
    """``payload`` goes both ways, byte for byte (AssertionError otherwise).

    ``far_prefix`` is what the answering end sees first: a Hayes modem passes
    the ``+++`` of an escape on to the far end as data.
    """
    for sender, receiver, data, expect in (
            (call, incoming, payload, far_prefix + payload),
            (incoming, call, payload[::-1], payload[::-1])):
        writing = asyncio.create_task(sender.write(data))
        got = await read_exactly(receiver, len(expect), limit)
        await writing
        assert len(got) == len(expect), f"{len(got)} of {len(expect)} bytes arrived"
        if hashlib.sha256(got).digest() != hashlib.sha256(expect).digest():
            at = next(i for i, (x, y) in enumerate(zip(got, expect, strict=True)) if x != y)
            raise AssertionError(f"the data arrived changed from byte {at}: "
                                 f"{got[at:at + 8]!r} instead of {expect[at:at + 8]!r}")


def far_end_hangup_reasons(modem: RigModem) -> frozenset[DisconnectReason]:
    """How a line may report that the far end hung up.

    NORMAL, from the modem's NO CARRIER.  A port that does not really carry
    DCD may still report it, stuck low (ser2net in front of a pty, reference
    §2): the driver watches DCD on every ``rfc2217://`` port, so there it
    takes the low DCD as evidence and says CARRIERLOST.
    """
    if "dcd" in modem.modem_lines or not modem.url.startswith("rfc2217://"):
        return frozenset({DisconnectReason.NORMAL})
    return frozenset({DisconnectReason.NORMAL, DisconnectReason.CARRIERLOST})


def transfer_limit(nbytes: int, rate: int | None) -> float:
    """Real seconds ``nbytes`` may take at the connect ``rate`` (10 bits a byte), with room."""
    return MIN_WAIT + nbytes * 10 / (rate or 300) * 1.5


async def call_ends(call: Call, limit: float) -> None:
    """Wait (bounded) until ``call`` is DISCONNECTED."""
    async with asyncio.timeout(limit):
        await call.wait_disconnected()


def unsecured_call_drops(profile: Profile) -> bool:
    """Whether an unsecured data call on a modem at ``profile``'s factory settings
    is lost to call waiting (design.md, call-waiting rules 2 and 3).

    V.92 modems act on ``+PCW``: 2 ignores the tone, 1 hangs up, 0 asks the
    far end for modem-on-hold, which a far end at factory settings does not
    grant (so the call is lost).  Other modems ride the ~300 ms interruption
    out only if ``(S10 - S9) * 100 ms`` is longer.
    """
    v92 = profile.v92
    if v92.present and v92.pcw_default is not None:
        return v92.pcw_default != 2
    regs = profile.registers
    return (regs.s10_default - regs.s9_default) * 100 <= CW_INTERRUPTION_MS


def secure_after_connect_possible(profile: Profile) -> bool:
    """Whether a connected call can still be secured (``+PCW=2`` or an S10 raise)."""
    return profile.v92.present or profile.ride_through.safe


async def wait_until(condition: Callable[[], bool], what: str, limit: float) -> None:
    """Poll ``condition`` (bounded) for states nothing publishes an event for."""
    step = 0.01
    for _ in range(int(limit / step)):
        if condition():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"timed out after {limit}s waiting for {what}")
