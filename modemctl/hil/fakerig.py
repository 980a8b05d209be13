"""The fake rig: the fake exchange dressed as a rig, for CI and for trying the suite.

With no rig file the suite runs against this: one fake line per personality
and transport -- a pty (no modem lines), an RFC 2217 line (DCD, RI and DTR
carried) and a pty line served by ser2net (data only, as reference §2
measured).  The exchange runs on an event loop of its own in a thread, so the
suite's tests, each with its own loop, reach it the way they reach a real rig:
through ports and through the line simulator and power switch drivers here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from modemctl.fake import Exchange, FakeLine
from modemctl.hil import ser2net
from modemctl.hil.linesim.base import (
    CALL_WAITING,
    DEAD_LINE,
    REMOTE_HANGUP,
    RING,
    SILENCE,
)
from modemctl.hil.rig import DeviceSpec, Rig, RigModem, RigPair

T = TypeVar("T")

PERSONALITIES = ("conexant-v92", "agere-v92", "usr-v90", "hayes-basic")
TRANSPORTS = ("pty", "rfc2217", "ser2net")
PROFILE_OF = {"conexant-v92": "conexant", "agere-v92": "agere", "usr-v90": "usr",
              "hayes-basic": "generic-hayes"}
"""The profile each personality must probe as."""
SUBSETS: dict[str, tuple[tuple[str, str], ...]] = {
    "full": tuple((p, t) for t in TRANSPORTS for p in PERSONALITIES),
    # Every personality once and every transport at least once, V.92 on both a
    # line with modem lines and one without: what CI runs to stay well under a minute.
    "ci": (("conexant-v92", "rfc2217"), ("agere-v92", "pty"), ("usr-v90", "ser2net"),
           ("hayes-basic", "pty")),
}
TIME_SCALE = 0.05
DATA_BYTES = 64 * 1024
"""Bytes each way in the data test on the fake (instant lines: size proves nothing more)."""
FIRST_NUMBER = 5551001
CARRIER_BACK_POLLS = 1000
"""5 ms polls for the carrier to come back after a call-waiting tone (5 s)."""


class FakeRigHost:
    """Runs an exchange in a thread and describes it as a :class:`Rig`."""

    def __init__(self, combos: Sequence[tuple[str, str]], time_scale: float = TIME_SCALE,
                 data_bytes: int = DATA_BYTES) -> None:
        self.combos = tuple(combos)
        self.time_scale = time_scale
        self.data_bytes = data_bytes
        self.lines: dict[str, FakeLine] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-rig",
                                        daemon=True)
        self._exchange: Exchange | None = None
        self._ser2net: ser2net.Ser2net | None = None

    @property
    def exchange(self) -> Exchange:
        if self._exchange is None:
            raise RuntimeError("the fake rig is not started")
        return self._exchange

    def start(self) -> Rig:
        """Start the exchange, its lines and ser2net; the rig that describes them."""
        self._thread.start()
        return self.call(self._start())

    async def _start(self) -> Rig:
        self._exchange = Exchange(time_scale=self.time_scale)
        await self._exchange.start()
        modems: list[RigModem] = []
        served: list[tuple[int, str]] = []
        for i, (personality, transport) in enumerate(self.combos):
            number = str(FIRST_NUMBER + i)
            line = await self._exchange.add_line(number, personality=personality,
                                                 rfc2217=transport == "rfc2217")
            self.lines[number] = line
            if transport == "ser2net":
                served.append((i, line.port))
            url = line.url if transport == "rfc2217" and line.url else line.port
            modems.append(RigModem(
                name=f"{personality}-{transport}", url=url, profile=PROFILE_OF[personality],
                line=number, model=personality,
                modem_lines=("dcd", "ri", "dtr") if transport == "rfc2217" else (),
                outlet=number, removable=True))
        if served:
            self._ser2net = ser2net.Ser2net([path for _, path in served])
            await asyncio.to_thread(self._ser2net.start)
            for (i, _), port in zip(served, self._ser2net.ports, strict=True):
                m = modems[i]
                modems[i] = RigModem(m.name, ser2net.url(port), m.profile, m.line, m.model,
                                     m.modem_lines, m.outlet, m.removable)
        n = len(modems)
        pairs = tuple(RigPair(modems[i].name, modems[(i + 1) % n].name)
                      for i in range(n)) if n > 1 else ()
        return Rig(name="fake", modems=tuple(modems), pairs=pairs,
                   line_simulator=DeviceSpec("fake"), power_switch=DeviceSpec("fake"),
                   location="US", time_scale=self.time_scale, data_bytes=self.data_bytes)

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the exchange's loop and wait for it (from a plain thread)."""
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return fut.result(timeout=60)

    async def acall(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Run ``fn()`` on the exchange's loop, awaited from another event loop."""
        async def run() -> T:
            return await fn()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))

    def close(self) -> None:
        """Stop our ser2net, the exchange and its thread."""
        if self._ser2net is not None:
            self._ser2net.stop()
            self._ser2net = None
        if self._thread.is_alive():
            if self._exchange is not None:
                self.call(self._exchange.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()


class FakeSimulator:
    """The line simulator of the fake rig: the exchange's own hooks."""

    name = "fake"
    capabilities = frozenset({RING, CALL_WAITING, DEAD_LINE, REMOTE_HANGUP, SILENCE})

    def __init__(self, host: FakeRigHost) -> None:
        self.host = host

    async def ring(self, line: str, caller: str) -> None:
        async def go() -> None:
            await self.host.exchange.ring_in(line, caller=caller)
        await self.host.acall(go)

    async def call_waiting(self, line: str, caller: str) -> None:
        """Returns once the tone is over: a call that rode it out has its carrier back."""
        async def go() -> None:
            party = await self.host.exchange.ring_in(line, caller=caller)
            if party.outcome in ("waiting-ignored", "waiting-held"):
                fake = self.host.lines[line]
                for _ in range(CARRIER_BACK_POLLS):
                    if fake.dce.carrier:
                        return
                    await asyncio.sleep(0.005)
        await self.host.acall(go)

    async def set_dead(self, line: str, dead: bool) -> None:
        async def go() -> None:
            self.host.exchange.set_line_dead(line, dead)
        await self.host.acall(go)

    async def remote_hangup(self, line: str) -> None:
        async def go() -> None:
            await self.host.exchange.remote_hangup(line)
        await self.host.acall(go)

    async def silence(self, line: str) -> None:
        async def go() -> None:
            self.host.lines[line].inject("wedge")
        await self.host.acall(go)

    async def close(self) -> None:
        """Nothing to release: the host owns the exchange."""


class FakePowerSwitch:
    """The fake rig's power switch: a fake line is a USB modem, so off unplugs it."""

    name = "fake"

    def __init__(self, host: FakeRigHost) -> None:
        self.host = host

    async def off(self, modem: RigModem) -> None:
        async def go() -> None:
            self.host.lines[modem.line].inject("unplug")
        await self.host.acall(go)

    async def on(self, modem: RigModem) -> None:
        async def go() -> None:
            await self.host.lines[modem.line].replug()
        await self.host.acall(go)
