"""Two fake DCEs in a Class 1 fax call on one manual clock, wired back to back.

This stands in for the exchange (which only routes :mod:`modemctl.fake.faxwire`
signals and applies interruptions), so T.31 behaviour can be checked byte for
byte and at exact protocol times.
"""

from __future__ import annotations

from modemctl.fake.clock import ManualClock
from modemctl.fake.dce import Dce
from modemctl.fake.faxwire import Signal, damage
from modemctl.fake.personality import load_personality
from tests.fake.helpers import StubOutput, StubTelco


class WiredTelco(StubTelco):
    """A stub network whose fax signals reach the other DCE (through any interruption)."""

    def __init__(self, pair: FaxPair) -> None:
        super().__init__()
        self.pair = pair
        self.peer: Dce | None = None
        self.offered = True

    def fax_send(self, signal: Signal) -> None:
        super().fax_send(signal)
        for start, end in self.pair.interruptions:
            signal = damage(signal, start, end)
        if self.peer is not None:
            self.peer.fax_signal(signal)


class FaxPair:
    """Caller ``a`` and answerer ``b``; :meth:`connect` makes the fax call."""

    def __init__(self, caller: str = "conexant-v92", answerer: str = "conexant-v92") -> None:
        self.clock = ManualClock()
        self.interruptions: list[tuple[float, float]] = []
        self.a_telco, self.b_telco = WiredTelco(self), WiredTelco(self)
        self.a_out, self.b_out = StubOutput(), StubOutput()
        self.a = Dce(load_personality(caller), self.clock, self.a_telco, self.a_out)
        self.b = Dce(load_personality(answerer), self.clock, self.b_telco, self.b_out)
        self.a_telco.peer, self.b_telco.peer = self.b, self.a
        for dce in (self.a, self.b):
            dce.settings.echo = 0

    def a_send(self, data: bytes) -> bytes:
        self.a.feed(data)
        return self.a_out.take()

    def b_send(self, data: bytes) -> bytes:
        self.b.feed(data)
        return self.b_out.take()

    def advance(self, seconds: float) -> tuple[bytes, bytes]:
        """Move time on; return what each DTE received meanwhile."""
        self.clock.advance(seconds)
        return self.a_out.take(), self.b_out.take()

    def connect(self) -> tuple[bytes, bytes]:
        """Both in class 1; a dials, b answers; the exchange puts the fax call through.

        Returns (a's output, b's output) up to b's CONNECT (after CED).
        """
        assert self.a_send(b"AT+FCLASS=1\r") == b"\r\nOK\r\n"
        assert self.b_send(b"AT+FCLASS=1\r") == b"\r\nOK\r\n"
        assert self.a_send(b"ATD5551002\r") == b""
        self.clock.advance(5.0)                  # dialled (no result yet)
        assert self.a_telco.placed, "the caller never placed the call"
        assert self.b_send(b"ATA\r") == b""
        self.b.fax_call_up()                     # what Exchange.answer does
        self.a.fax_call_up()
        return self.advance(3.1)
