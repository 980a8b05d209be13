"""cu-style tilde escapes, as a sans-IO parser.

In a terminal connected to a call every keystroke goes to the far end, so
local commands need an escape that cannot occur by accident.  ``cu`` (and
``ssh``) recognise ``~`` only at the start of a line: ``~.`` hangs up,
``~~`` sends one ``~``, and a ``~`` followed by anything else is sent as
typed.  Users know this, so ``modemctl dial``/``answer`` do the same, adding
``~s`` (secure the call that is up) and ``~?`` (help).

The escape character can be changed (cu ``-E``, picocom ``-e``) or turned
off: piped input is data, and a file that happens to hold ``\n~.`` must
reach the far end unchanged, so the commands give piped sessions no escape
unless one is asked for.

The parser holds no I/O: it turns keyboard bytes into :class:`Send` chunks
and :class:`Command` actions, so it can be tested byte by byte and the
terminal session stays a thin loop around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

ESCAPE = ord("~")
_LINE_ENDS = frozenset(b"\r\n\x03\x04\x15")   # CR, LF, ^C, ^D, ^U reset the line, as in cu


class Command(Enum):
    """A local action asked for with a tilde escape."""

    HANGUP = "."
    SECURE = "s"
    HELP = "?"


@dataclass(frozen=True)
class Send:
    """Bytes to send to the far end."""

    data: bytes


Action = Send | Command

_COMMANDS = {ord(c.value): c for c in Command}


def help_text(escape: int = ESCAPE) -> str:
    """The ``~?`` help, spelt with the escape character in use."""
    e = chr(escape)
    return (f"{e}.  hang up and exit\n"
            f"{e}s  secure the call that is up (call waiting can no longer drop it), "
            "show the report\n"
            f"{e}?  this help\n"
            f"{e}{e}  send a single {e}\n"
            "(escapes are recognised only at the start of a line)")


class EscapeParser:
    """Split keyboard input into data for the call and local commands.

    ``escape`` is the escape character's byte; ``None`` turns escapes off, so
    every byte is data.
    """

    def __init__(self, escape: int | None = ESCAPE) -> None:
        self._escape = escape
        self._at_line_start = True
        self._pending_escape = False
        #: Bytes after ``~.`` in the last :meth:`feed`, which were not parsed.
        self.unconsumed = b""

    @property
    def pending(self) -> bool:
        """True while a ``~`` has been typed at line start and its meaning is not known."""
        return self._pending_escape

    def feed(self, data: bytes) -> list[Action]:
        """Consume keyboard bytes; return what to send and what to do, in order."""
        actions: list[Action] = []
        out = bytearray()
        self.unconsumed = b""
        if self._escape is None:
            return [Send(bytes(data))] if data else []

        def flush() -> None:
            if out:
                actions.append(Send(bytes(out)))
                out.clear()

        for index, byte in enumerate(data):
            if self._pending_escape:
                self._pending_escape = False
                command = _COMMANDS.get(byte)
                if command is not None:
                    flush()
                    actions.append(command)
                    self._at_line_start = True
                    if command is Command.HANGUP:
                        # The session ends here: what follows was typed for whoever
                        # reads the keyboard next (the AT console), not for the call.
                        self.unconsumed = bytes(data[index + 1:])
                        return actions
                    continue
                if byte != self._escape:
                    out.append(self._escape)
                out.append(byte)
                self._at_line_start = byte in _LINE_ENDS
                continue
            if byte == self._escape and self._at_line_start:
                self._pending_escape = True
                continue
            out.append(byte)
            self._at_line_start = byte in _LINE_ENDS
        flush()
        return actions

    def finish(self) -> list[Action]:
        """End of input: a ``~`` still held back is sent as typed."""
        if self._pending_escape and self._escape is not None:
            self._pending_escape = False
            return [Send(bytes([self._escape]))]
        return []
