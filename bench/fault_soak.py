"""Seeded randomized fault-injection runs against the fake exchange.

Each run (one seed, one fresh event loop) builds a small exchange with random
personalities on pty or RFC 2217 lines, opens both ends with ``open_line``,
and plays a few random steps - calls either way, securing before or during
a call, data both ways, a third party ringing in (call waiting), incoming
calls - while one fault the fake offers (``inject`` kinds, remote hang-up,
carrier loss, a dead line) strikes at a random moment.  It then records:

* **hangs**: a step or the idle check that overran its bound (``STEP_LIMIT``);
* **untyped**: any exception that is not a :class:`~modemctl.errors.ModemctlError`,
  including task exceptions nobody retrieved and loop callback errors (the
  loop's exception handler is ours for the run);
* **not idle**: after the faults are cleared, a line whose probe fails twice,
  that still holds a call, or whose fake modem stays off-hook;
* **data mismatches**: bytes that differ on a call that ended before any
  fault struck (byte-exact, both directions).

Typed errors are expected under faults and only counted.  The fake is used
through its public ``Exchange`` contract only (``docs/design.md``).

``python -m bench.fault_soak --seeds 2000`` (``make soak SEEDS=2000``) runs a
long series and prints the figures; ``tests/soak`` runs a short seed range.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import random
import sys
import time
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from modemctl.errors import ModemctlError
from modemctl.fake import Exchange, ExchangeError, FakeLine, FaultError, available_personalities
from modemctl.line import Call, CallState, Line, open_line

SCALE = 0.05
STEP_LIMIT = 10.0          # real seconds any one step may take before it counts as a hang
IDLE_LIMIT = 3.0           # real seconds the fake modem may take to go back on-hook
TRAINING = 0.5             # protocol seconds of modem training (the fake's default is 3)
NEAR, FAR, THIRD = "5551001", "5551002", "5559999"
T = TypeVar("T")


@dataclass
class Run:
    """What one seed did and what went wrong."""

    seed: int
    steps: list[str] = field(default_factory=list)
    fault: str | None = None
    fault_at: float | None = None
    hangs: list[str] = field(default_factory=list)
    untyped: list[str] = field(default_factory=list)
    not_idle: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    checked_calls: int = 0

    @property
    def ok(self) -> bool:
        return not (self.hangs or self.untyped or self.not_idle or self.mismatches)

    def report(self) -> str:
        """One paragraph: the scenario, then each finding."""
        lines = [f"seed {self.seed}: steps {self.steps}, fault {self.fault}"]
        for name in ("hangs", "untyped", "not_idle", "mismatches"):
            lines += [f"  {name}: {item}" for item in getattr(self, name)]
        return "\n".join(lines)


class _Harness:
    def __init__(self, run: Run, rng: random.Random, ex: Exchange) -> None:
        self.run = run
        self.rng = rng
        self.ex = ex
        self.started = time.monotonic()
        # Calls whose sender escaped (secure() mid-call): a modem passes the
        # escape's "+++" to the far end before it knows it is an escape.
        self.escaped: set[int] = set()
        self.calls: list[Call] = []       # every call made, dropped if left over at the end

    def struck(self) -> bool:
        return self.run.fault_at is not None

    async def cancellable(self, what: str, make: Callable[[], Awaitable[T]]) -> T | None:
        """A step that the user may give up on: one time in five it runs under a
        short ``asyncio.timeout`` of the user's own (a cancellation at a random
        moment), which is no hang; what it leaves behind the idle check judges."""
        if self.rng.random() >= 0.2:
            return await self.step(what, make)
        patience = self.rng.uniform(0.0, 0.6)
        self.run.steps.append(f"cancel {what} after {patience:.2f}s")

        async def impatient() -> T | None:
            try:
                async with asyncio.timeout(patience):
                    return await make()
            except TimeoutError:
                self.run.typed.append(f"{what}: cancelled by the user")
                return None

        return await self.step(what, impatient)

    async def step(self, what: str, make: Callable[[], Awaitable[T]],
                   limit: float = STEP_LIMIT, waits_on_far_end: bool = False) -> T | None:
        """Run one bounded step; record a hang or an untyped error; None on failure.

        ``waits_on_far_end``: the step waits for something only the other
        side can bring (data, its hang-up); once a fault has struck, that
        may never come (a wedged modem passes nothing), so running out of
        time is then not a hang - the idle check judges what is left.
        """
        try:
            async with asyncio.timeout(limit):
                return await make()
        except TimeoutError:
            if waits_on_far_end and self.struck():
                self.run.typed.append(f"{what}: nothing came under the fault")
            else:
                self.run.hangs.append(f"{what}: no result within {limit}s")
        except ModemctlError as e:
            self.run.typed.append(f"{what}: {type(e).__name__}: {e}")
        except (ExchangeError, FaultError) as e:
            self.run.typed.append(f"{what}: fake {type(e).__name__}")
        except Exception as e:  # finding untyped errors is the point
            self.run.untyped.append(f"{what}: {_describe(e)}")
        return None


def _describe(e: BaseException) -> str:
    frames = traceback.extract_tb(e.__traceback__)[-3:]
    where = " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}" for f in reversed(frames))
    return f"{type(e).__name__}: {e} [{where}]"


async def _read_exactly(call: Call, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        chunk = await call.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


async def _settle(task: asyncio.Task[Any]) -> None:
    """Cancel a helper task of ours and retrieve its outcome (never left unretrieved)."""
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


async def _connect(h: _Harness, caller: Line, callee: Line, number: str
                   ) -> tuple[Call, Call] | None:
    secure_dial = h.rng.choice([False, False, "best-effort"])
    secure_answer = h.rng.choice([False, "best-effort"])

    async def answer() -> Call:
        incoming = await callee.wait_for_call()
        h.calls.append(incoming)
        await incoming.answer(secure=secure_answer)
        return incoming

    answering = asyncio.create_task(answer())
    try:
        call = await h.cancellable(f"dial {number} secure={secure_dial}",
                                   lambda: caller.make_call(number, secure=secure_dial))
        if call is None or call.state is not CallState.CONNECTED:
            return None
        h.calls.append(call)
        incoming = await h.step("answer", lambda: asyncio.shield(answering))
        if incoming is None or incoming.state is not CallState.CONNECTED:
            await h.step("drop unanswered", call.drop)
            return None
        if secure_dial or secure_answer:
            # Securing may escape after CONNECT; the "+++" reaches the far end.
            h.escaped.update((id(call), id(incoming)))
        return call, incoming
    finally:
        await _settle(answering)


async def _exchange_data(h: _Harness, a: Call, b: Call, touched: bool = False) -> None:
    """Data both ways; checked byte for byte if no fault has struck yet and the
    call was not ``touched`` (call waiting may end an unsecured call: no fault)."""
    clean_before = not h.struck() and not touched
    for src, dst, tag in ((a, b, "a->b"), (b, a, "b->a")):
        payload = h.rng.randbytes(h.rng.choice([1, 64, 1000, 4096]))
        if payload.startswith(b"+"):    # keep an escape's "+++" ahead of it recognisable
            payload = b"-" + payload[1:]
        if await h.step(f"write {tag}", lambda s=src, p=payload: s.write(p)) is None \
                and src.state is not CallState.CONNECTED:
            return
        got = await h.step(f"read {tag}", lambda d=dst, p=payload: _read_exactly(d, len(p)),
                           limit=IDLE_LIMIT, waits_on_far_end=True)
        if got is None:
            return
        if id(src) in h.escaped:
            h.escaped.discard(id(src))
            if got and b"+++".startswith(got[:3]):
                rest = await h.step(f"read {tag} after +++", lambda d=dst: _read_exactly(d, 3),
                                    limit=IDLE_LIMIT, waits_on_far_end=True)
                got = (got + (rest or b""))[3:]
        if clean_before and not h.struck():
            h.run.checked_calls += 1
            if got != payload:
                h.run.mismatches.append(
                    f"{tag}: sent {len(payload)} bytes, got {len(got)}"
                    f" (first difference at {_first_difference(payload, got)}:"
                    f" {payload[:8].hex()} vs {got[:8].hex()})")


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)))


async def _hang_up(h: _Harness, call: Call, other: Call) -> None:
    how = h.rng.choice(["drop", "far-drop", "remote"])
    if how == "drop":
        await h.cancellable("drop", call.drop)
        if call.state is not CallState.DISCONNECTED:    # the user gave up on it: again
            await h.step("drop again", call.drop)
    elif how == "far-drop":
        await h.step("far drop", other.drop)
    else:
        await h.step("remote hang-up", lambda: h.ex.remote_hangup(FAR))
    for c in (call, other):
        await h.step("wait disconnected", c.wait_disconnected, waits_on_far_end=True)


async def _call_step(h: _Harness, near: Line, far: Line) -> None:
    outgoing = h.rng.random() < 0.7
    pair = await (_connect(h, near, far, FAR) if outgoing else _connect(h, far, near, NEAR))
    if pair is None:
        return
    call, other = pair if outgoing else (pair[1], pair[0])
    if h.rng.random() < 0.3:
        h.escaped.add(id(call))
        await h.cancellable("secure mid-call", lambda: call.secure("best-effort"))
    await _exchange_data(h, call, other)
    if h.rng.random() < 0.3:       # a third party rings in: call waiting
        party = await h.step("third party", lambda: h.ex.ring_in(NEAR, caller=THIRD))
        await asyncio.sleep(h.rng.uniform(0.0, 0.3))
        if party is not None:
            await h.step("third party hangs up", party.hangup)
        await _exchange_data(h, call, other, touched=True)
    if h.rng.random() < 0.15:      # the far end sends what nobody here will read
        size = h.rng.choice([64 << 10, 256 << 10])
        h.run.steps.append(f"{size >> 10} KiB left unread")
        flood = asyncio.create_task(other.write(h.rng.randbytes(size)))
        await asyncio.sleep(h.rng.uniform(0.05, 0.3))
        await _hang_up(h, call, other)
        await h.step("unread data writer", lambda: asyncio.shield(flood))
        await _settle(flood)
        return
    await _hang_up(h, call, other)


async def _incoming_step(h: _Harness, near: Line) -> None:
    party = await h.step("ring in", lambda: h.ex.ring_in(NEAR, caller=THIRD, name="SOAK"))
    if party is None:
        return
    incoming = await h.step("wait for call", near.wait_for_call, limit=IDLE_LIMIT,
                            waits_on_far_end=True)
    if incoming is not None:
        h.calls.append(incoming)
    if incoming is not None and h.rng.random() < 0.7:
        await h.step("answer ring-in", incoming.answer)
        if incoming.state is CallState.CONNECTED:
            payload = h.rng.randbytes(256)
            clean = not h.struck()
            party.write(payload)
            got = await h.step("read from party", lambda: _read_exactly(incoming, len(payload)),
                               limit=IDLE_LIMIT, waits_on_far_end=True)
            if got is not None and clean and not h.struck():
                h.run.checked_calls += 1
                if got != payload:
                    h.run.mismatches.append(f"party->near: sent 256 bytes, got {len(got)}")
            await h.step("drop ring-in", incoming.drop)
    # Only an offer left unanswered must end by itself (when the rings stop): an
    # answered call whose drop failed stays up by drop()'s contract, and is
    # dropped again once the faults are cleared, as a user would.
    unanswered = incoming is not None and incoming.state is CallState.OFFERING
    await h.step("party hangs up", party.hangup)
    if incoming is not None and unanswered:
        ended = await h.step("offer withdrawn", incoming.wait_disconnected, limit=IDLE_LIMIT)
        if ended is None:           # recorded; drop it so that the rest of the run goes on
            await h.step("drop stale offer", incoming.drop)


FAULTS = ("garbage", "stall", "lose-final", "unsolicited", "wedge", "unplug", "reboot", "slow",
          "remote-hangup", "carrier-loss", "dead-line")


async def _strike(h: _Harness, line: FakeLine, delay: float, steps_done: asyncio.Event) -> None:
    """One fault at a random moment (every kind the fake offers); at once when
    the steps are over before ``delay`` (a fault on an idle line)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(delay):
            await steps_done.wait()
    rng = h.rng
    kind = rng.choice(FAULTS)
    params: dict[str, Any] = {}
    if kind == "garbage":
        params = {"data": rng.choice([rng.randbytes(rng.randint(1, 64)), b"\r\nCONNECT 33600\r\n",
                                      b"\r\nNO CARRIER\r\n", b"\x00003\r"])}
    elif kind == "stall":
        params = {"duration": rng.uniform(0.5, 8.0)}
    elif kind == "lose-final":
        params = {"count": rng.randint(1, 3)}
    elif kind == "unsolicited":
        params = {"lines": rng.choice([["RING"], ["MESSAGE-WAITING"], ["CALL WAITING DETECTED"],
                                       ["RING", "DATE = 0101", "NMBR = 5559999"]])}
    elif kind == "unplug":
        params = {"duration": rng.uniform(0.5, 3.0)}
    elif kind == "slow":
        params = {"delay": rng.uniform(0.001, 0.02)}
    h.run.fault = f"{kind} {params}" if params else kind
    h.run.fault_at = time.monotonic() - h.started
    if kind == "remote-hangup":
        await h.step("fault remote-hangup", lambda: h.ex.remote_hangup(line.number))
    elif kind == "carrier-loss":
        duration = rng.choice([None, 0.2, 1.0])
        await h.step("fault carrier-loss", lambda: h.ex.carrier_loss(line.number, duration))
    elif kind == "dead-line":
        h.ex.set_line_dead(line.number, True)
    else:
        line.inject(kind, **params)


async def _back_to_idle(h: _Harness, name: str, line: Line, fake: FakeLine) -> None:
    """Faults cleared: the line must probe, hold no call, and its modem be on-hook."""
    for attempt in (1, 2):
        caps = await h.step(f"{name} probe #{attempt}", line.probe)
        if caps is not None:
            break
    else:
        h.run.not_idle.append(f"{name}: probe failed twice ({h.run.typed[-1]})")
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(IDLE_LIMIT):
            # The fake's state has no event to wait on: poll it, bounded.
            while fake.state != "command":  # noqa: ASYNC110
                await asyncio.sleep(0.02)
    if fake.state != "command":
        h.run.not_idle.append(f"{name}: fake modem still {fake.state}")


@contextlib.asynccontextmanager
async def _opened(h: _Harness, fake: FakeLine, name: str) -> AsyncIterator[Line | None]:
    url = fake.url if fake.url is not None else fake.port
    cm = open_line(url, time_scale=SCALE, name=name)
    line = await h.step(f"open {name}", cm.__aenter__)
    try:
        yield line
    finally:
        if line is not None:
            await h.step(f"close {name}", lambda: cm.__aexit__(None, None, None))


async def _scenario(run: Run, rng: random.Random) -> None:
    personalities = sorted(available_personalities())
    async with Exchange(time_scale=SCALE, training_time=TRAINING) as ex:
        h = _Harness(run, rng, ex)
        near_f = await ex.add_line(NEAR, personality=rng.choice(personalities),
                                   rfc2217=rng.random() < 0.4)
        far_f = await ex.add_line(FAR, personality=rng.choice(personalities),
                                  rfc2217=rng.random() < 0.2)
        run.steps.append(f"near {near_f.personality}{' rfc2217' if near_f.url else ''}, "
                         f"far {far_f.personality}{' rfc2217' if far_f.url else ''}")
        async with _opened(h, near_f, "near") as near, _opened(h, far_f, "far") as far:
            if near is None or far is None:
                run.not_idle.append("a line did not open on a healthy exchange: "
                                    + "; ".join(run.typed + run.hangs + run.untyped))
                return
            striking: asyncio.Task[None] | None = None
            steps_done = asyncio.Event()
            if rng.random() < 0.8:
                target = near_f if rng.random() < 0.8 else far_f
                striking = asyncio.create_task(
                    _strike(h, target, rng.uniform(0.0, 1.5), steps_done))
            try:
                for _ in range(rng.randint(1, 3)):
                    kind = rng.choice(["call", "call", "incoming", "probe"])
                    run.steps.append(kind)
                    if kind == "call":
                        await _call_step(h, near, far)
                    elif kind == "incoming":
                        await _incoming_step(h, near)
                    else:
                        await h.step("probe", near.probe)
            finally:
                steps_done.set()
                if striking is not None:
                    if not striking.done():
                        await h.step("fault", lambda: asyncio.shield(striking))
                    await _settle(striking)
            for fake in (near_f, far_f):
                fake.inject("clear")
                ex.set_line_dead(fake.number, False)
            if run.fault is not None and run.fault.startswith("unplug"):
                await asyncio.sleep(3.0 * SCALE + 0.2)      # the longest unplug replugs by then
            for call in h.calls:        # what a user would do with a call left over
                if call.state is not CallState.DISCONNECTED:
                    run.steps.append(f"drop left-over {call.state.name} call")
                    await h.step("drop left-over call", call.drop)
            await _back_to_idle(h, "near", near, near_f)
            await _back_to_idle(h, "far", far, far_f)


async def run_seed(seed: int) -> Run:
    """One seeded run in the running loop (its exception handler is taken over)."""
    run = Run(seed)
    loop = asyncio.get_running_loop()

    def on_loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        detail = _describe(exc) if exc is not None else ""
        run.untyped.append(f"loop: {context.get('message')} {detail}".strip())

    previous = loop.get_exception_handler()
    loop.set_exception_handler(on_loop_error)
    try:
        rng = random.Random(seed)
        try:
            async with asyncio.timeout(STEP_LIMIT * 4):
                await _scenario(run, rng)
        except TimeoutError:
            run.hangs.append(f"the whole run overran {STEP_LIMIT * 4}s")
        except Exception as e:  # a harness-level untyped error is a finding
            run.untyped.append(f"run: {_describe(e)}")
        for _ in range(3):        # tasks dropped unretrieved report when collected
            gc.collect()
            await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    return run


def run_seed_in_new_loop(seed: int) -> Run:
    """``run_seed`` in a loop of its own, so that nothing leaks between seeds."""
    box: list[Run] = []

    async def main() -> None:
        box.append(await run_seed(seed))

    with asyncio.Runner() as runner:
        runner.get_loop().set_exception_handler(None)
        runner.run(main())
    gc.collect()
    return box[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fault_soak", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=200, help="how many seeds (default 200)")
    parser.add_argument("--first", type=int, default=0, help="first seed (default 0)")
    args = parser.parse_args(argv)
    count = args.seeds
    started = time.perf_counter()
    failed: list[Run] = []
    totals = {"hangs": 0, "untyped": 0, "not_idle": 0, "mismatches": 0}
    typed = checked = 0
    for seed in range(args.first, args.first + count):
        run = run_seed_in_new_loop(seed)
        typed += len(run.typed)
        checked += run.checked_calls
        for key in totals:
            totals[key] += 1 if getattr(run, key) else 0
        if not run.ok:
            failed.append(run)
            print(run.report(), flush=True)
    wall = time.perf_counter() - started
    print(f"\n{count} runs (seeds {args.first}..{args.first + count - 1}) in {wall:.0f}s")
    print(f"{'runs with a hang':<28}{totals['hangs']:>6}")
    print(f"{'runs with an untyped error':<28}{totals['untyped']:>6}")
    print(f"{'runs not back to idle':<28}{totals['not_idle']:>6}")
    print(f"{'runs with a data mismatch':<28}{totals['mismatches']:>6}")
    print(f"{'typed errors (expected)':<28}{typed:>6}")
    print(f"{'transfers checked byte-exact':<28}{checked:>6}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
