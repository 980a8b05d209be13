"""Checking and formatting command lines before they reach the modem.

A command line is one physical line: a CR inside it would end the line early
and let the rest run as a second command, which is how a dial string turns
into arbitrary commands.  So nothing but printable ASCII gets through, the
line must start with ``AT`` (any case) or be ``A/``, and its length is
bounded (V.250 only promises 80 characters of body; the default limit is the
most permissive documented buffer, 255, and profiles may lower it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from modemctl.errors import InvalidCommand

DEFAULT_MAX_LENGTH = 255
REPEAT = "A/"


def validate_command(command: object, *, s3: int = 13,
                     max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Return ``command`` if it can be sent as one command line, else raise.

    Raises :class:`~modemctl.errors.InvalidCommand` with the reason.
    Cached: the engine checks a command before it queues for the command
    lock and the core again as it sends it, and a session repeats a handful
    of commands (only accepted lines are remembered).
    """
    if not isinstance(command, str):
        raise InvalidCommand(repr(command), "a command must be a str")
    return _validate(command, s3, max_length)


@lru_cache(maxsize=256)
def _validate(command: str, s3: int, max_length: int) -> str:
    if not command:
        raise InvalidCommand(command, "empty command")
    for i, ch in enumerate(command):
        if ch in "\r\n" or ord(ch) == s3:
            raise InvalidCommand(command, f"line terminator inside the command at {i + 1}")
        if not (0x20 <= ord(ch) <= 0x7E):
            raise InvalidCommand(command, f"non-printable or non-ASCII character "
                                          f"{ch!r} at {i + 1}")
    if command.upper() == REPEAT:
        return command
    if command[:2].upper() != "AT":
        raise InvalidCommand(command, "a command line starts with AT (or is A/)")
    body = command[2:]
    if len(body) > max_length:
        raise InvalidCommand(command, f"body is {len(body)} characters, limit {max_length}")
    return command


def encode_command(command: str, *, s3: int = 13) -> bytes:
    """The bytes that send an already validated ``command`` (A/ has no terminator)."""
    if command.upper() == REPEAT:
        return command.encode("ascii")
    return command.encode("ascii") + bytes([s3])


@lru_cache(maxsize=256)
def command_letter(command: str) -> str:
    """The first basic command letter after ``AT`` (upper case), or "" if none.

    Used to tell dial/answer/online commands (D, A, O) from the rest; cached
    like :func:`validate_command`, it is asked on every command.
    """
    body = command[2:].lstrip() if command[:2].upper() == "AT" else ""
    return body[:1].upper()


_FAX_DATA = re.compile(r"^AT\s*\+F([TR])([HM])\s*=\s*\d+\s*$", re.IGNORECASE)


def fax_data_direction(command: str) -> str | None:
    """``"tx"`` or ``"rx"`` for a T.31 carrier command (``AT+FTH=3``,
    ``AT+FRM=96``...), whose CONNECT starts DLE-framed data; else None.

    Only the bare command: a T.31 carrier command must end its line
    (T.31 8.3), so ``AT+FRH=3;+FRM=96`` is not one.
    """
    m = _FAX_DATA.match(command.strip())
    if m is None:
        return None
    return "tx" if m.group(1).upper() == "T" else "rx"


@dataclass(frozen=True)
class FormatRequest:
    """What a command line asks of the result format: ``echo`` (E0/E1) and
    ``verbose`` (V0/V1) when it sets them, and ``resets`` when it restores
    a stored profile (Z, &F), after which the format is whatever that says."""

    echo: bool | None = None
    verbose: bool | None = None
    resets: bool = False


_EXTENDED = "+-#*$"      # +VCID=1, -SEC=0, #CID=1 ... run to the next ';'
_PREFIXES = "&%\\"       # &F, %C0, \N3: a prefix character and a letter


def _basic_commands(body: str) -> Iterator[tuple[str, str]]:
    """The basic commands of a command line's body (after ``AT``, upper case),
    as (name, argument): ``S7=60`` is ("S", "7=60"), ``&F`` ("&F", "").

    Extended commands are skipped to their ``;``; a dial command (D) ends the
    scan, since the rest of the line is its dial string (its argument).
    """
    i = 0
    while i < len(body):
        c = body[i]
        if c in " ;":
            i += 1
            continue
        if c in _EXTENDED:
            end = body.find(";", i)
            i = len(body) if end < 0 else end + 1
            continue
        if c == "D":
            yield "D", body[i + 1:]
            return
        name = c
        if c in _PREFIXES and i + 1 < len(body):
            i += 1
            name += body[i]
        # The argument: digits, S-register forms (S7=60, S0?) or a query.
        end = i + 1
        while end < len(body) and (body[end].isdigit() or body[end] in "=?"):
            end += 1
        yield name, body[i + 1:end]
        i = end


def _body(command: str) -> str:
    return command[2:].upper() if command[:2].upper() == "AT" else ""


@lru_cache(maxsize=256)
def requested_format(command: str) -> FormatRequest:
    """Scan a command line's basic commands for E, V, Z and &F.

    Cached: the core asks once per result, and a session repeats a handful
    of commands.
    """
    echo: bool | None = None
    verbose: bool | None = None
    resets = False
    for name, arg in _basic_commands(_body(command)):
        if name == "E":
            echo = arg.startswith("1")
        elif name == "V":
            verbose = arg.startswith("1")
        elif name in ("Z", "&F"):
            resets = True
    return FormatRequest(echo, verbose, resets)


#: Basic commands whose final result may be CONNECT: dial, answer, online
#: (O0, or O1 to retrain), and the &T test loops that connect a loopback.
_CONNECTING_BASIC = frozenset({"D", "A", "O", "&T"})
#: Extended commands that start a carrier and answer it with CONNECT: T.31
#: fax data (+FTH, +FTM, +FRH, +FRM), Class 2 page transfer (+FDT, +FDR) and
#: voice transmit/receive (+VTX, +VRX, Rockwell's #VTX, #VRX).
_CONNECTING_EXTENDED = re.compile(r"(?:\+F(?:[TR][HM]|D[TR])|[+#]V[TR]X)(?![A-Z])")


@lru_cache(maxsize=256)
def may_connect(command: str) -> bool:
    """Whether ``CONNECT`` can be the final result of ``command``.

    Everything else (``ATS0?``, ``ATE0``, ``ATH``, ``AT+GCI?``) answers in
    command state, so a CONNECT that arrives while it is in flight is not its
    answer: noise, or a modem that answered a call as the command went out
    (the core's business, see :meth:`ATConnection.abort_command`).  ``A/``
    repeats the last command, which may have been a dial.
    """
    if command.upper() == REPEAT:
        return True
    body = _body(command)
    if _CONNECTING_EXTENDED.search(body):
        return True
    return any(name in _CONNECTING_BASIC for name, _ in _basic_commands(body))
