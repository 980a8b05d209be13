"""The control channel's protocol: requests, typed errors, limits, robustness.

These tests drive :class:`ControlServer` with a recording stand-in exchange,
so each request's mapping onto the exchange API and each failure path can be
checked exactly; ``test_control_exchange.py`` runs the same channel against
the real :class:`modemctl.fake.Exchange`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from modemctl.fake import control
from modemctl.fake.control import (
    ControlError,
    ControlProtocolError,
    ControlRequestError,
    ControlUnavailable,
    request,
    serve_control,
)
from modemctl.fake.exchange import NoCall


@dataclass
class StandInLine:
    number: str
    personality: str = "conexant-v92"
    port: str = "/dev/pts/42"
    url: str | None = None
    state: object = "idle"
    dead: bool = False
    injected: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def inject(self, kind: str, **params: Any) -> None:
        if kind not in ("garbage", "stall"):
            raise ValueError(f"unknown fault {kind!r}")
        self.injected.append((kind, params))


class StandInParty:
    def __init__(self) -> None:
        self.outcome: str | None = None
        self.closed = False
        self.sent = bytearray()
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()
        self.settled = asyncio.Event()

    async def answered(self) -> bool:
        await self.settled.wait()
        return self.outcome == "answered"

    def write(self, data: bytes) -> None:
        self.sent += data

    async def read(self, n: int) -> bytes:
        if self.closed and self.incoming.empty():
            return b""
        return (await self.incoming.get())[:n]

    async def hangup(self) -> None:
        self.outcome = "hung-up"
        self.closed = True


class StandInExchange:
    def __init__(self) -> None:
        self._lines = {"5551001": StandInLine("5551001"),
                       "5551002": StandInLine("5551002", "agere-v92", "/dev/pts/43",
                                              "rfc2217://127.0.0.1:4242")}
        self.calls: list[tuple[Any, ...]] = []
        self.parties: list[StandInParty] = []
        self.rung = asyncio.Event()
        self.explode: BaseException | None = None

    @property
    def lines(self) -> dict[str, StandInLine]:
        return self._lines

    async def ring_in(self, number: str, caller: str | None = None,
                      name: str | None = None, **extra: int) -> StandInParty:
        if self.explode is not None:
            raise self.explode
        self.calls.append(("ring_in", number, caller, name, *sorted(extra.items())))
        party = StandInParty()
        self.parties.append(party)
        self.rung.set()
        return party

    async def remote_hangup(self, number: str) -> None:
        self.calls.append(("remote_hangup", number))

    async def carrier_loss(self, number: str, duration: float | None = None) -> bool:
        self.calls.append(("carrier_loss", number, duration))
        return duration is not None

    def set_line_dead(self, number: str, dead: bool) -> None:
        self.calls.append(("set_line_dead", number, dead))


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # Short path: a Unix socket path must fit in 107 bytes, pytest's tmp_path may not.
    with tempfile.TemporaryDirectory(prefix="mc-", dir="/tmp") as d:
        yield Path(d)


@pytest.fixture
async def served(sock_dir: Path) -> AsyncIterator[tuple[StandInExchange, Path]]:
    ex = StandInExchange()
    path = sock_dir / "ctl.sock"
    async with await serve_control(ex, path):  # type: ignore[arg-type]
        yield ex, path
    assert not path.exists()


async def ask(path: Path, op: str, **fields: Any) -> dict[str, Any]:
    return await asyncio.to_thread(request, path, op, fields, timeout=5.0)


async def raw_exchange(path: Path, payload: bytes) -> list[dict[str, Any]]:
    """Send raw bytes, half-close, and return every response line."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(payload)
    await writer.drain()
    writer.write_eof()
    out = await asyncio.wait_for(reader.read(), 5.0)
    writer.close()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


async def test_socket_is_private(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    assert path.stat().st_mode & 0o777 == 0o600


async def test_ring_maps_onto_ring_in(served: tuple[StandInExchange, Path]) -> None:
    ex, path = served
    r = await ask(path, "ring", number="5551001", caller="5559999", name="ALICE")
    assert r == {"ok": True, "number": "5551001", "party": "p1", "outcome": None}
    assert ex.calls == [("ring_in", "5551001", "5559999", "ALICE")]
    r = await ask(path, "ring", number="5551002", max_rate=28800, moh_timeout=2)
    assert r["party"] == "p2"
    assert ex.calls[-1] == ("ring_in", "5551002", None, None, ("max_rate", 28800),
                            ("moh_timeout", 2))
    with pytest.raises(ControlRequestError, match="max_rings"):
        await ask(path, "ring", number="5551002", max_rings=-1)


async def test_ring_wait_returns_settled_outcome(served: tuple[StandInExchange, Path]) -> None:
    ex, path = served

    async def answer_soon() -> None:
        await asyncio.wait_for(ex.rung.wait(), 5)     # answer only once it really rang
        ex.parties[0].outcome = "answered"
        ex.parties[0].settled.set()

    task = asyncio.create_task(answer_soon())
    r = await ask(path, "ring", number="5551001", wait=5)
    await task
    assert r["outcome"] == "answered"


async def test_ring_wait_is_bounded(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    r = await ask(path, "ring", number="5551001", wait=0.2)
    assert r["ok"] and r["outcome"] is None
    with pytest.raises(ControlRequestError) as e:
        await ask(path, "ring", number="5551001", wait=10_000)
    assert e.value.code == "bad-request"


async def test_party_send_recv_hangup(served: tuple[StandInExchange, Path]) -> None:
    ex, path = served
    pid = (await ask(path, "ring", number="5551001"))["party"]
    party = ex.parties[0]
    with pytest.raises(ControlRequestError, match=r"not connected \(still ringing\)") as e:
        await ask(path, "send", party=pid, data="early")
    assert e.value.code == "not-connected"
    party.outcome = "answered"
    assert (await ask(path, "send", party=pid, data="hi\xff\x00"))["sent"] == 4
    assert bytes(party.sent) == b"hi\xff\x00"
    party.incoming.put_nowait(b"\x01abc\xfe")
    r = await ask(path, "recv", party=pid, max=100, timeout=2)
    assert r["data"] == "\x01abc\xfe" and r["closed"] is False
    r = await ask(path, "recv", party=pid, timeout=0.1)  # bounded wait
    assert r["data"] == "" and r["closed"] is False
    assert (await ask(path, "party-hangup", party=pid))["outcome"] == "hung-up"
    r = await ask(path, "recv", party=pid, timeout=5)
    assert r["data"] == "" and r["closed"] is True
    assert (await ask(path, "party", party=pid))["outcome"] == "hung-up"
    with pytest.raises(ControlRequestError) as e:
        await ask(path, "send", party=pid, data="€")
    assert e.value.code == "bad-request"
    with pytest.raises(ControlRequestError, match="call over") as e:
        await ask(path, "send", party=pid, data="late")
    assert e.value.code == "not-connected"
    with pytest.raises(ControlRequestError) as e:
        await ask(path, "party", party="p99")
    assert e.value.code == "unknown-party"


async def test_inject_passes_kind_and_params(served: tuple[StandInExchange, Path]) -> None:
    ex, path = served
    r = await ask(path, "inject", number="5551002", kind="garbage", params={"count": 8})
    assert r == {"ok": True, "number": "5551002", "kind": "garbage"}
    assert ex.lines["5551002"].injected == [("garbage", {"count": 8})]
    await ask(path, "inject", number="5551002", kind="stall")
    assert ex.lines["5551002"].injected[-1] == ("stall", {})


async def test_exchange_refusal_is_a_typed_error(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    with pytest.raises(ControlRequestError, match="unknown fault 'meteor'") as e:
        await ask(path, "inject", number="5551001", kind="meteor")
    assert e.value.code == "refused"


async def test_hangup_carrier_loss_dead(served: tuple[StandInExchange, Path]) -> None:
    ex, path = served
    await ask(path, "hangup", number="5551001")
    assert (await ask(path, "carrier-loss", number="5551001", duration=2))["survived"] is True
    assert (await ask(path, "carrier-loss", number="5551002"))["survived"] is False
    assert (await ask(path, "dead", number="5551002", dead=False))["dead"] is False
    await ask(path, "dead", number="5551002")
    assert ex.calls == [("remote_hangup", "5551001"), ("carrier_loss", "5551001", 2.0),
                        ("carrier_loss", "5551002", None), ("set_line_dead", "5551002", False),
                        ("set_line_dead", "5551002", True)]


async def test_lines(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    r = await ask(path, "lines")
    assert r["pid"] == os.getpid()
    assert r["lines"] == [
        {"number": "5551001", "personality": "conexant-v92", "port": "/dev/pts/42",
         "url": None, "state": "idle", "dead": False},
        {"number": "5551002", "personality": "agere-v92", "port": "/dev/pts/43",
         "url": "rfc2217://127.0.0.1:4242", "state": "idle", "dead": False}]


@pytest.mark.parametrize(("fields", "code", "message"), [
    ({"op": "ring", "number": "5550000"}, "unknown-number", "no line 5550000"),
    ({"op": "ring"}, "bad-request", 'needs "number"'),
    ({"op": "ring", "number": 5551001}, "bad-request", '"number" must be a string'),
    ({"op": "ring", "number": "5551001", "wait": "soon"}, "bad-request", "must be a number"),
    ({"op": "dead", "number": "5551001", "dead": "yes"}, "bad-request", "boolean"),
    ({"op": "recv", "party": "p1", "max": True}, "bad-request", "integer"),
    ({"op": "inject", "number": "5551001", "kind": "garbage", "params": [1]},
     "bad-request", "params"),
    ({"op": "carrier-loss", "number": "5551001", "duration": -1}, "bad-request", "duration"),
    ({"op": "teleport"}, "unknown-op", "unknown op 'teleport'"),
    ({"number": "5551001"}, "bad-request", '"op"'),
])
async def test_bad_requests_get_typed_errors(served: tuple[StandInExchange, Path],
                                             fields: dict[str, Any], code: str,
                                             message: str) -> None:
    _, path = served
    op = fields.pop("op", None)
    (resp,) = await raw_exchange(path, json.dumps({"op": op, **fields} if op else fields
                                                  ).encode() + b"\n")
    assert resp["ok"] is False
    assert resp["code"] == code
    assert message in resp["error"]


async def test_malformed_lines_do_not_end_the_connection(
        served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    out = await raw_exchange(path, b'{nope\n[1,2]\n\xff\xfe\n\n{"op":"lines"}\n')
    assert [r.get("code") for r in out] == ["bad-json", "bad-request", "bad-json", None]
    assert out[-1]["ok"] is True


async def test_deeply_nested_json_is_bad_json(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    (resp,) = await raw_exchange(path, b"[" * 60000 + b"\n")
    assert resp["code"] == "bad-json"
    assert (await ask(path, "lines"))["ok"]


async def test_oversized_request_is_refused_and_server_survives(
        served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    big = b'{"op":"ring","number":"' + b"1" * (control.MAX_REQUEST + 10) + b'"}\n'
    (resp,) = await raw_exchange(path, big)
    assert resp["code"] == "too-long"
    assert (await ask(path, "lines"))["ok"]


async def test_unexpected_exchange_failure_is_internal_error(
        served: tuple[StandInExchange, Path]) -> None:
    ex, path = served
    ex.explode = ZeroDivisionError("boom")
    with pytest.raises(ControlRequestError, match="boom") as e:
        await ask(path, "ring", number="5551001")
    assert e.value.code == "internal"
    ex.explode = NoCall("line 5551001 has no call")
    with pytest.raises(ControlRequestError) as e:
        await ask(path, "ring", number="5551001")
    assert e.value.code == "refused"
    ex.explode = None
    assert (await ask(path, "ring", number="5551001"))["ok"]


async def test_client_disconnect_mid_request_is_harmless(
        served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    for _ in range(5):
        s = socket.socket(socket.AF_UNIX)
        s.connect(str(path))
        s.sendall(b'{"op":"li')
        s.close()
    assert (await ask(path, "lines"))["ok"]


async def test_many_concurrent_clients(served: tuple[StandInExchange, Path]) -> None:
    _, path = served
    results = await asyncio.gather(*(ask(path, "lines") for _ in range(20)))
    assert all(r["ok"] for r in results)


async def test_party_memory_is_bounded(served: tuple[StandInExchange, Path],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = served
    monkeypatch.setattr(control, "MAX_PARTIES", 3)
    ids = [(await ask(path, "ring", number="5551001"))["party"] for _ in range(5)]
    with pytest.raises(ControlRequestError):
        await ask(path, "party", party=ids[0])
    assert (await ask(path, "party", party=ids[-1]))["ok"]


# ------------------------------------------------------------------ client side and socket life


def test_client_without_server_is_unavailable(sock_dir: Path) -> None:
    with pytest.raises(ControlUnavailable, match="no fake exchange listens"):
        request(sock_dir / "missing.sock", "lines")


@contextlib.contextmanager
def listener(path: Path, backlog: int = 1,
             serve: Callable[[socket.socket], None] | None = None) -> Iterator[socket.socket]:
    """A Unix socket listening at ``path`` that is no control server: it answers only
    as ``serve`` (run on a thread, joined on exit) does, or never."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(path))
    srv.listen(backlog)
    thread = threading.Thread(target=serve, args=(srv,), daemon=True) if serve else None
    try:
        if thread is not None:
            thread.start()
        yield srv
    finally:
        if thread is not None:
            thread.join(5)
        srv.close()


def test_client_times_out_on_silent_server(sock_dir: Path) -> None:
    path = sock_dir / "silent.sock"
    with listener(path), pytest.raises(ControlProtocolError, match="no answer"):
        request(path, "lines", timeout=0.2)


def test_client_deadline_covers_a_dribbling_server(sock_dir: Path) -> None:
    path = sock_dir / "slow.sock"
    stop = threading.Event()

    def dribble(srv: socket.socket) -> None:
        conn, _ = srv.accept()
        conn.recv(1000)
        while not stop.is_set():  # one byte every 50 ms, never a newline
            conn.sendall(b" ")
            stop.wait(0.05)
        conn.close()

    with listener(path, serve=dribble):
        try:
            with pytest.raises(ControlProtocolError, match="no answer"):
                request(path, "lines", timeout=0.5)
        finally:
            stop.set()


def test_client_rejects_malformed_answers(sock_dir: Path) -> None:
    path = sock_dir / "liar.sock"
    answers = [b"not json\n", b'{"no_ok": 1}\n', b""]

    def serve(srv: socket.socket) -> None:
        for answer in answers:
            conn, _ = srv.accept()
            conn.recv(1000)
            conn.sendall(answer)
            conn.close()

    with listener(path, backlog=4, serve=serve):
        with pytest.raises(ControlProtocolError, match="malformed"):
            request(path, "lines", timeout=5)
        with pytest.raises(ControlProtocolError, match="malformed"):
            request(path, "lines", timeout=5)
        with pytest.raises(ControlProtocolError, match="closed"):
            request(path, "lines", timeout=5)


async def test_stale_socket_is_replaced_live_one_refused(sock_dir: Path) -> None:
    path = sock_dir / "ctl.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # file stays, nobody listens
    async with await serve_control(StandInExchange(), path):  # type: ignore[arg-type]
        assert (await ask(path, "lines"))["ok"]
        with pytest.raises(ControlError, match="already listens"):
            await serve_control(StandInExchange(), path)  # type: ignore[arg-type]
    (sock_dir / "file").write_text("")
    with pytest.raises(ControlError, match="not a socket"):
        await serve_control(StandInExchange(), sock_dir / "file")  # type: ignore[arg-type]


async def test_too_long_socket_path_is_a_clear_error(sock_dir: Path) -> None:
    with pytest.raises(ControlError, match="too long"):
        await serve_control(StandInExchange(), sock_dir / ("x" * 120))  # type: ignore[arg-type]
