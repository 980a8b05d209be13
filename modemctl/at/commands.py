"""Checking and formatting command lines before they reach the modem.

A command line is one physical line: a CR inside it would end the line early
and let the rest run as a second command, which is how a dial string turns
into arbitrary commands.  So nothing but printable ASCII gets through, the
line must start with ``AT`` (any case) or be ``A/``, and its length is
bounded (V.250 only promises 80 characters of body; the default limit is the
most permissive documented buffer, 255, and profiles may lower it).
"""

from __future__ import annotations

from modemctl.errors import InvalidCommand

DEFAULT_MAX_LENGTH = 255
REPEAT = "A/"


def validate_command(command: object, *, s3: int = 13,
                     max_length: int = DEFAULT_MAX_LENGTH) -> str:
    """Return ``command`` if it can be sent as one command line, else raise.

    Raises :class:`~modemctl.errors.InvalidCommand` with the reason.
    """
    if not isinstance(command, str):
        raise InvalidCommand(repr(command), "a command must be a str")
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


def command_letter(command: str) -> str:
    """The first basic command letter after ``AT`` (upper case), or "" if none.

    Used to tell dial/answer/online commands (D, A, O) from the rest.
    """
    body = command[2:].lstrip() if command[:2].upper() == "AT" else ""
    return body[:1].upper()
