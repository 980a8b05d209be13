"""Control channel: drive a running fake exchange from another process.

A running exchange listens on a Unix-domain socket (mode 0600 in a 0700
directory) and speaks JSON lines: one request object per line, one response
object per line, in order.  Every response has ``"ok"``; failures carry a
machine-readable ``"code"`` and a human ``"error"``::

    {"op": "ring", "number": "5551001", "caller": "5559999", "name": "ALICE"}
    {"op": "inject", "number": "5551001", "kind": "garbage", "params": {"count": 8}}
    {"op": "hangup", "number": "5551001"}              # the far end hangs up
    {"op": "carrier-loss", "number": "5551001", "duration": 0.5}
    {"op": "dead", "number": "5551001", "dead": true}  # NO DIALTONE
    {"op": "lines"}
    {"op": "party", "party": "p1"}                     # outcome of a ring
    {"op": "send", "party": "p1", "data": "hello"}     # the caller talks
    {"op": "recv", "party": "p1", "max": 1024, "timeout": 1.0}  # -> data, closed
    {"op": "party-hangup", "party": "p1"}

Error codes: ``bad-json``, ``bad-request`` (missing or mistyped field),
``too-long``, ``unknown-op``, ``unknown-number``, ``unknown-party``,
``not-connected`` (``send`` to a party without a call), ``refused`` (the
exchange said no: unknown fault kind, no call to hang up...), ``internal``.

``ring`` answers at once with a party id and its ``outcome`` so far (call
waiting and busy are decided at once); ``"wait": seconds`` makes it wait
(bounded) until the call is answered or otherwise settled.  It also takes
the :meth:`Exchange.ring_in` options ``max_rate``, ``moh_timeout`` (a V.92
caller that grants modem-on-hold) and ``max_rings``.  ``carrier-loss``
without ``duration`` loses the carrier for good; with one, it answers
whether every modem rode it out (``"survived"``).  ``send``/``recv`` carry
bytes as latin-1 text, so every byte value survives JSON.

Why a socket and not signals or files: requests need answers (unknown
number, busy line...), and several tools may drive one exchange at once.
Requests are capped at :data:`MAX_REQUEST` bytes; an over-long line gets a
``too-long`` error and the connection is closed (the stream cannot be
resynchronised without reading the rest).  No request, however malformed,
can stop the exchange: every failure becomes an error response.

The server side (:func:`serve_control`) runs inside the exchange's event
loop; the client side (:func:`request`) is plain blocking sockets, for the
CLI and for test processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import stat
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from modemctl.fake.exchange import Exchange, ExchangeError, RemoteParty
from modemctl.log import get_logger

_log = get_logger()

MAX_REQUEST = 64 * 1024
"""Largest request line the server accepts, in bytes (newline included)."""
MAX_RESPONSE = 4 * 1024 * 1024
"""Largest response line the client accepts."""
MAX_PARTIES = 256
"""Parties remembered for ``party``/``send``/``recv``; the oldest are forgotten."""
MAX_WAIT = 600.0
"""Upper bound, in seconds, for any ``wait``/``timeout`` a request asks for."""
_SUN_PATH_MAX = 107  # sizeof(sun_path) - 1 on Linux

class ControlError(Exception):
    """Base of the control channel's errors."""


class ControlUnavailable(ControlError):
    """No exchange listens on the socket (not running, or stopped)."""


class ControlProtocolError(ControlError):
    """The exchange answered something that is not a valid response, or not in time."""


class ControlRequestError(ControlError):
    """The exchange refused the request; :attr:`code` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class _BadRequest(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _check_path_length(path: Path) -> None:
    if len(os.fsencode(path)) > _SUN_PATH_MAX:
        raise ControlError(f"control socket path is too long for a Unix socket "
                           f"({len(os.fsencode(path))} > {_SUN_PATH_MAX} bytes): {path}")


# --------------------------------------------------------------------------- server


class ControlServer:
    """A listening control socket bound to one exchange; close it to unlink the socket."""

    def __init__(self, exchange: Exchange, path: Path) -> None:
        self.exchange = exchange
        self.path = path
        self._server: asyncio.Server | None = None
        self._parties: OrderedDict[str, RemoteParty] = OrderedDict()
        self._ids = itertools.count(1)
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "ring": self._ring, "inject": self._inject, "hangup": self._hangup,
            "carrier-loss": self._carrier_loss, "dead": self._dead, "lines": self._lines,
            "party": self._party, "send": self._send, "recv": self._recv,
            "party-hangup": self._party_hangup,
        }
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Bind and listen; a stale socket file left by a dead exchange is replaced."""
        _check_path_length(self.path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _claim_path(self.path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Bind under a private umask so the socket is never reachable by others, not
            # even briefly; nothing awaits in between, so no other task sees this umask.
            old_umask = os.umask(0o177)
            try:
                sock.bind(str(self.path))
            finally:
                os.umask(old_umask)
            sock.listen(64)
            self._server = await asyncio.start_unix_server(
                self._serve_client, sock=sock, limit=MAX_REQUEST)
        except BaseException:
            sock.close()
            raise
        _log.debug("control listening", path=str(self.path))

    async def close(self) -> None:
        """Stop listening, end open connections and remove the socket file."""
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def __aenter__(self) -> ControlServer:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def _serve_client(self, reader: asyncio.StreamReader,
                            writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                try:
                    raw = await reader.readline()
                except ValueError:  # LimitOverrunError surfaces as ValueError
                    await _send(writer, _error("too-long",
                                               f"request longer than {MAX_REQUEST} bytes"))
                    break
                if not raw:
                    break
                if not raw.strip():
                    continue
                await _send(writer, await self.handle(raw))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def handle(self, raw: bytes) -> dict[str, Any]:
        """Answer one request line; never raises (except on cancellation)."""
        try:
            try:
                req = json.loads(raw)
            except ValueError as e:  # UnicodeDecodeError included
                raise _BadRequest("bad-json", f"request is not valid JSON: {e}") from None
            except RecursionError:
                raise _BadRequest("bad-json", "request JSON is nested too deeply") from None
            if not isinstance(req, dict):
                raise _BadRequest("bad-request", "request must be a JSON object")
            op = req.get("op")
            if not isinstance(op, str):
                raise _BadRequest("bad-request", 'request needs an "op" string')
            handler = self._handlers.get(op)
            if handler is None:
                raise _BadRequest("unknown-op",
                                  f"unknown op {op!r}; known: {', '.join(self._handlers)}")
            _log.debug("control request", op=op)
            return await handler(req)
        except _BadRequest as e:
            return _error(e.code, str(e))
        except (ExchangeError, ValueError, TypeError, LookupError) as e:
            # The exchange rejected the request (bad kind, bad parameter, wrong state...).
            return _error("refused", _describe(e))
        except Exception as e:
            _log.exception("control request failed")
            return _error("internal", _describe(e))

    # ----------------------------------------------------------------- op handlers

    def _number(self, req: dict[str, Any]) -> str:
        number: str = _field(req, "number", str)
        if number not in self.exchange.lines:
            known = ", ".join(sorted(self.exchange.lines)) or "none"
            raise _BadRequest("unknown-number",
                              f"no line {number} on this exchange (lines: {known})")
        return number

    async def _ring(self, req: dict[str, Any]) -> dict[str, Any]:
        number = self._number(req)
        caller = _optional(req, "caller", str)
        name = _optional(req, "name", str)
        wait = _bounded_seconds(req, "wait", 0.0)
        extra: dict[str, int] = {}
        for key in ("max_rate", "moh_timeout", "max_rings"):
            value = _optional(req, key, int)
            if value is not None:
                if value < 0:
                    raise _BadRequest("bad-request", f'"{key}" must be >= 0')
                extra[key] = value
        party = await self.exchange.ring_in(number, caller=caller, name=name, **extra)
        pid = f"p{next(self._ids)}"
        self._parties[pid] = party
        while len(self._parties) > MAX_PARTIES:
            self._parties.popitem(last=False)
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(party.answered(), wait)
        return {"ok": True, "number": number, "party": pid, "outcome": party.outcome}

    async def _inject(self, req: dict[str, Any]) -> dict[str, Any]:
        number = self._number(req)
        kind = _field(req, "kind", str)
        params = req.get("params", {})
        if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
            raise _BadRequest("bad-request", '"params" must be an object')
        line = self.exchange.lines[number]
        if kind == "replug" and not params:
            await line.replug()     # answer once the device is back, so callers can open it
        else:
            line.inject(kind, **params)
        return {"ok": True, "number": number, "kind": kind}

    async def _hangup(self, req: dict[str, Any]) -> dict[str, Any]:
        number = self._number(req)
        await self.exchange.remote_hangup(number)
        return {"ok": True, "number": number}

    async def _carrier_loss(self, req: dict[str, Any]) -> dict[str, Any]:
        number = self._number(req)
        duration = _optional(req, "duration", float)
        if duration is not None and not 0 <= duration <= MAX_WAIT:
            raise _BadRequest("bad-request", f'"duration" must be 0..{MAX_WAIT:g} seconds')
        survived = await self.exchange.carrier_loss(number, duration=duration)
        return {"ok": True, "number": number, "survived": survived}

    async def _dead(self, req: dict[str, Any]) -> dict[str, Any]:
        number = self._number(req)
        dead = _optional(req, "dead", bool)
        self.exchange.set_line_dead(number, True if dead is None else dead)
        return {"ok": True, "number": number, "dead": True if dead is None else dead}

    async def _lines(self, req: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "pid": os.getpid(), "lines": [
            {"number": line.number, "personality": line.personality, "port": line.port,
             "url": line.url, "state": line.state, "dead": line.dead}
            for line in self.exchange.lines.values()]}

    def _get_party(self, req: dict[str, Any]) -> tuple[str, RemoteParty]:
        pid = _field(req, "party", str)
        party = self._parties.get(pid)
        if party is None:
            raise _BadRequest("unknown-party", f"no party {pid!r} (ring first)")
        return pid, party

    async def _party(self, req: dict[str, Any]) -> dict[str, Any]:
        pid, party = self._get_party(req)
        return {"ok": True, "party": pid, "outcome": party.outcome}

    async def _send(self, req: dict[str, Any]) -> dict[str, Any]:
        pid, party = self._get_party(req)
        text = _field(req, "data", str)
        try:
            data = text.encode("latin-1")
        except UnicodeEncodeError:
            raise _BadRequest("bad-request", '"data" must be latin-1 text (one char per byte)'
                              ) from None
        if party.outcome != "answered" or party.closed:
            # The party would drop the bytes silently; say so instead.
            state = "call over" if party.closed else party.outcome or "still ringing"
            raise _BadRequest("not-connected", f"party {pid} is not connected ({state})")
        party.write(data)
        return {"ok": True, "party": pid, "sent": len(data)}

    async def _recv(self, req: dict[str, Any]) -> dict[str, Any]:
        size = _optional(req, "max", int) or 4096
        if not 1 <= size <= MAX_REQUEST:
            raise _BadRequest("bad-request", f'"max" must be 1..{MAX_REQUEST}')
        timeout = _bounded_seconds(req, "timeout", 1.0)
        pid, party = self._get_party(req)
        try:
            data = await asyncio.wait_for(party.read(size), timeout)
        except TimeoutError:
            data = b""
        # "closed": the call is over and everything it carried has been read.
        return {"ok": True, "party": pid, "data": data.decode("latin-1"),
                "closed": party.closed and not data}

    async def _party_hangup(self, req: dict[str, Any]) -> dict[str, Any]:
        pid, party = self._get_party(req)
        await party.hangup()
        return {"ok": True, "party": pid, "outcome": party.outcome}


async def serve_control(exchange: Exchange, path: Path | str) -> ControlServer:
    """Start answering control requests for ``exchange`` on the socket ``path``.

    Use the result as an async context manager (or call ``close()``) to stop
    and remove the socket.  Raises :class:`ControlError` if another live
    exchange already listens on ``path`` or the path cannot be a socket.
    """
    server = ControlServer(exchange, Path(path))
    await server.start()
    return server


def _claim_path(path: Path) -> None:
    """Remove a stale socket at ``path``; refuse a live one or a non-socket."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise ControlError(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except OSError:
        path.unlink()  # nobody listens: left behind by a dead exchange
        return
    finally:
        probe.close()
    raise ControlError(f"another exchange already listens on {path}")


async def _send(writer: asyncio.StreamWriter, response: dict[str, Any]) -> None:
    writer.write(json.dumps(response).encode() + b"\n")
    await writer.drain()


def _error(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "code": code, "error": message}


def _describe(e: BaseException) -> str:
    # str(KeyError) adds quotes around its message.
    text = str(e.args[0]) if isinstance(e, KeyError) and len(e.args) == 1 else str(e)
    return text or type(e).__name__


def _field(req: dict[str, Any], key: str, kind: type[Any]) -> Any:
    value = _optional(req, key, kind)
    if value is None:
        raise _BadRequest("bad-request", f'request needs "{key}"')
    return value


def _optional(req: dict[str, Any], key: str, kind: type[Any]) -> Any:
    value = req.get(key)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is int and isinstance(value, bool):
        raise _BadRequest("bad-request", f'"{key}" must be an integer')
    if not isinstance(value, kind):
        raise _BadRequest("bad-request", f'"{key}" must be a {_KIND_NAMES.get(kind, "value")}')
    return value


_KIND_NAMES = {str: "string", float: "number", int: "integer", bool: "boolean"}


def _bounded_seconds(req: dict[str, Any], key: str, default: float) -> float:
    value = _optional(req, key, float)
    if value is None:
        return default
    if not 0 <= value <= MAX_WAIT:
        raise _BadRequest("bad-request", f'"{key}" must be 0..{MAX_WAIT:g} seconds')
    return float(value)


# --------------------------------------------------------------------------- client


def request(path: Path | str, op: str, fields: Mapping[str, Any] | None = None, *,
            timeout: float = 10.0) -> dict[str, Any]:
    """Send one request to the exchange listening on ``path`` and return its answer.

    ``timeout`` bounds connecting and waiting for the answer; make it longer
    than any ``wait``/``timeout`` inside the request.

    Raises :class:`ControlUnavailable` when nothing listens there,
    :class:`ControlRequestError` when the exchange refuses the request, and
    :class:`ControlProtocolError` on a malformed or late answer.
    """
    message = json.dumps({"op": op, **(fields or {})}).encode() + b"\n"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError) as e:
            raise ControlUnavailable(f"no fake exchange listens on {path} "
                                     f"({e.strerror or e})") from None
        except OSError as e:
            raise ControlUnavailable(f"cannot reach {path}: {e.strerror or e}") from None
        try:
            sock.sendall(message)
            raw = _read_line(sock, time.monotonic() + timeout)
        except TimeoutError:
            raise ControlProtocolError(f"no answer from {path} within {timeout:g} s") from None
        except OSError as e:
            raise ControlProtocolError(f"connection to {path} failed: {e.strerror or e}"
                                       ) from None
    finally:
        sock.close()
    try:
        response = json.loads(raw)
    except ValueError:
        raise ControlProtocolError(f"malformed answer from {path}: {raw[:80]!r}") from None
    if not isinstance(response, dict) or not isinstance(response.get("ok"), bool):
        raise ControlProtocolError(f"malformed answer from {path}: {raw[:80]!r}")
    if not response["ok"]:
        raise ControlRequestError(str(response.get("code", "error")),
                                  str(response.get("error", "request refused")))
    return response


def _read_line(sock: socket.socket, deadline: float) -> bytes:
    """One response line, however it is split, within ``deadline`` (monotonic)."""
    chunks: list[bytes] = []
    total = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        sock.settimeout(left)
        chunk = sock.recv(65536)
        if not chunk:
            raise ControlProtocolError("the exchange closed the connection without answering")
        nl = chunk.find(b"\n")
        if nl >= 0:
            chunks.append(chunk[:nl])
            return b"".join(chunks)
        chunks.append(chunk)
        total += len(chunk)
        if total > MAX_RESPONSE:
            raise ControlProtocolError(f"answer longer than {MAX_RESPONSE} bytes")
