"""Two Class 1 sessions over a pair of simulated T.31 modems, in memory.

A deliberately small model of what a Class 1 modem does with each op, so
the sessions' command sequences are checked against each other end to end:
V.21 frames cross as frames (with a good or, on request, a bad FCS), TCF and
page data cross as high-speed bursts tagged with their carrier code, a
``+FRM`` that meets V.21 says ``+FCERROR``, a ``+FRH=3`` that meets a
high-speed burst says ``+FCERROR`` and drops it.  Timers run on a virtual
clock that jumps only when both sides are blocked.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from modemctl.at import ResultCode
from modemctl.fax.class1 import (
    AbortReceive,
    AtCommand,
    Class1Session,
    Data,
    DleDecoder,
    Op,
    PageEnded,
    ReadData,
    ReadResult,
    ReceivePageData,
    Report,
    Result,
    SendPageData,
    T30Notice,
    Timeout,
    WriteData,
    frame_to_wire,
)
from modemctl.fax.class1.hdlc import fcs16
from modemctl.fax.class1.modulation import CARRIERS
from modemctl.fax.t30 import (
    CancelTimer,
    Finished,
    PageQuality,
    StartTimer,
    Timer,
    TimerExpired,
)

LINES = 1143
GOOD_PAGE = PageQuality()


@dataclass
class Burst:
    kind: str                      # "v21" or "hs"
    data: bytes = b""
    code: int = 3
    page: tuple[int, int] | None = None
    fcs_ok: bool = True


@dataclass
class _Modem:
    name: str
    session: Class1Session
    inbox: deque[Burst] = field(default_factory=deque)
    blocked: Op | None = None      # an op waiting for the far end
    tx_code: int | None = 3        # after ATA the modem is already sending V.21
    pushback: Op | None = None
    rx_payload: bytes = b""
    rx_result: ResultCode = ResultCode.OK
    timers: dict[Timer, float] = field(default_factory=dict)
    commands: list[str] = field(default_factory=list)


def _unstuff(data: bytes) -> bytes:
    decoder = DleDecoder()
    out = decoder.feed(data)
    assert decoder.ended and decoder.leftover == b"", data
    return out


class T31Pair:
    """Runs a caller session and an answerer session until both finish."""

    def __init__(self, caller: Class1Session, answerer: Class1Session, *,
                 page_quality: Callable[[int, int], PageQuality] = lambda i, a: GOOD_PAGE,
                 damage: Callable[[str, bytes], str | None] = lambda side, frame: None) -> None:
        self.modems = {"S": _Modem("S", caller), "R": _Modem("R", answerer)}
        self.page_quality = page_quality
        self.damage = damage        # -> None, "lose" or "bad-fcs" for a frame sent by side
        self.now = 0.0
        self.wire: list[str] = []

    def _other(self, m: _Modem) -> _Modem:
        return self.modems["R" if m.name == "S" else "S"]

    def _send(self, m: _Modem, burst: Burst) -> None:
        if burst.kind == "v21":
            what = self.damage(m.name, burst.data)
            self.wire.append(f"{m.name}>{burst.data[2]:02x}" + (f"({what})" if what else ""))
            if what == "lose":
                return
            burst.fcs_ok = what != "bad-fcs"
        else:
            self.wire.append(f"{m.name}>hs{burst.code}" + (f"p{burst.page}" if burst.page else ""))
        self._other(m).inbox.append(burst)

    def _do(self, m: _Modem, op: Op) -> Report | None:
        """Perform ``op``; None when it must wait for the far end."""
        if isinstance(op, T30Notice):
            a = op.action
            if isinstance(a, StartTimer):
                m.timers[a.timer] = self.now + a.seconds
            elif isinstance(a, CancelTimer):
                m.timers.pop(a.timer, None)
            elif isinstance(a, Finished):
                m.timers.clear()
            return None
        if isinstance(op, AtCommand):
            m.commands.append(op.command)
            cmd = op.command
            if cmd.startswith("AT+FTS="):
                return Result(ResultCode.OK)
            if cmd.startswith(("AT+FTH=", "AT+FTM=")):
                m.tx_code = int(cmd.split("=")[1])
                return Result(ResultCode.CONNECT)
            return self._listen(m, op)
        if isinstance(op, WriteData):
            payload = _unstuff(op.data)
            if m.tx_code == 3:
                self._send(m, Burst("v21", payload))
                return Result(ResultCode.CONNECT if payload[1] == 0x03 else ResultCode.OK)
            assert m.tx_code is not None
            self._send(m, Burst("hs", payload, m.tx_code))
            return Result(ResultCode.OK)
        if isinstance(op, SendPageData):
            assert m.tx_code is not None
            self._send(m, Burst("hs", code=m.tx_code, page=(op.index, op.attempt)))
            return Result(ResultCode.OK)
        if isinstance(op, ReadData):
            if not m.rx_payload:             # implied +FRH=3 right after ATD
                ready = self._listen(m, AtCommand("AT+FRH=3"))
                if ready is None:
                    return None
                assert ready == Result(ResultCode.CONNECT), ready
            payload, m.rx_payload = m.rx_payload, b""
            return Data(payload)
        if isinstance(op, ReadResult):
            return Result(m.rx_result)
        if isinstance(op, ReceivePageData):
            burst = m.inbox.popleft()
            assert burst.page is not None
            return PageEnded(LINES, self.page_quality(*burst.page))
        if isinstance(op, AbortReceive):
            return Result(ResultCode.OK)
        raise AssertionError(f"unknown op {op!r}")

    def _listen(self, m: _Modem, op: AtCommand) -> Report | None:
        if not m.inbox:
            return None
        head = m.inbox[0]
        code = int(op.command.split("=")[1])
        if op.command.startswith("AT+FRH="):
            m.inbox.popleft()
            if head.kind != "v21":
                return Result(ResultCode.FCERROR)
            return self._frame_ready(m, head)
        if head.kind == "v21":
            return Result(ResultCode.FCERROR)          # +FRM met V.21: frame stays
        if CARRIERS[code] != CARRIERS[head.code]:
            m.inbox.popleft()
            return Result(ResultCode.FCERROR)
        if head.page is None:
            m.inbox.popleft()
            m.rx_payload = frame_to_wire(head.data) + b"\r\nNO CARRIER\r\n"
            m.rx_result = ResultCode.NO_CARRIER
        return Result(ResultCode.CONNECT)

    def _frame_ready(self, m: _Modem, burst: Burst) -> Report:
        m.rx_payload = frame_to_wire(burst.data + fcs16(burst.data)) + b"\r\nOK\r\n"
        m.rx_result = ResultCode.OK if burst.fcs_ok else ResultCode.ERROR
        return Result(ResultCode.CONNECT)

    def _step(self, m: _Modem) -> bool:
        moved = False
        while True:
            if m.blocked is not None:
                report = self._do(m, m.blocked)
                if report is None:
                    return moved
                m.blocked = None
                m.session.receive(report)
                moved = True
                continue
            op, m.pushback = m.pushback or m.session.next_op(), None
            if op is None:
                return moved
            moved = True
            report = self._do(m, op)
            if report is None and not isinstance(op, T30Notice):
                m.blocked = op
            elif report is not None:
                m.session.receive(report)

    def run(self, max_steps: int = 5000) -> None:
        for m in self.modems.values():
            m.session.start()
        for _ in range(max_steps):
            if all(m.session.finished for m in self.modems.values()):
                return
            if any([self._step(m) for m in self.modems.values()]):
                continue
            deadlines = [(t, m, timer) for m in self.modems.values()
                         for timer, t in m.timers.items()]
            if not deadlines:
                raise AssertionError(f"deadlock at t={self.now}: {self.wire}")
            when, m, timer = min(deadlines, key=lambda d: d[0])
            self.now = max(self.now, when)
            del m.timers[timer]
            m.session.receive(Timeout(TimerExpired(timer)))
            op = m.session.next_op()
            if op is not None and m.blocked is not None:
                # The session moved on: the blocked receive ends, and the
                # first thing it asks must be to abort it.
                assert isinstance(op, AbortReceive), op
                m.blocked = None
            m.pushback = op
        raise AssertionError(f"no end after {max_steps} steps: {self.wire}")
