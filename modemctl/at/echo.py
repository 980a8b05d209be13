"""What the core knows about echo, as one small piece of state.

Echo serves two ends.  It delimits: with echo on, whatever arrives for a
command before its echo cannot be that command's, which keeps a late
answer to an abandoned command from being taken for the next one's.  And
it is itself recognised and reported (:class:`~modemctl.at.events.Echo`),
on or off, so a modem that turns echo on by itself still frames.
"""

from __future__ import annotations

from functools import lru_cache

from modemctl.at.commands import REPEAT


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


@lru_cache(maxsize=256)
def is_echo(text: str, command: str) -> bool:
    """Whether ``text`` (a received line) is the echo of ``command``.

    Line noise before the echo (a stray byte) still leaves the echo at the end.
    Cached: asked for every line while an echo is awaited, of a handful of
    commands a session repeats.
    """
    if command.upper() == REPEAT:
        return _squash(text) == REPEAT
    got, want = _squash(text), _squash(command)
    return got == want or (len(want) >= 2 and got.endswith(want))


class EchoState:
    """Echo seen for the command in flight, echo believed on, last command
    abandoned, a result refused for coming before the echo."""

    __slots__ = ("aborted", "on", "refused", "seen")

    def __init__(self) -> None:
        self.seen = False            # the echo of the command in flight arrived
        self.on: bool | None = None  # echo is on / off / unknown
        self.aborted = False         # a command was abandoned since the last result
        self.refused = False         # a result came before this command's echo

    def command_sent(self) -> None:
        """A command line went out: its echo is awaited."""
        self.seen = False
        self.refused = False

    def escape_sent(self) -> None:
        """``+++`` went out: it is never echoed as a line, so nothing is awaited."""
        self.seen = True

    @property
    def stale(self) -> bool:
        """Whether a line arriving now is left over from an earlier command
        (echo is on and the command's echo has not come yet)."""
        return self.on is True and not self.seen

    def completed(self, on: bool | None) -> None:
        """The command in flight got its final result; echo is now ``on``."""
        self.aborted = False
        self.on = on

    def abandoned(self) -> None:
        """The engine gave up on the command in flight.

        Echo is forgotten (the next command frames whether it is echoed or
        not) after a second abandon in a row, since the echo itself may be
        what is garbled, or at once when this command's result was refused
        for coming before an echo that never came: that is what a modem
        whose echo went off looks like.  Either way a resync cannot be locked
        out by a wrong belief about echo.
        """
        if self.aborted or (self.refused and not self.seen):
            self.on = None
        self.aborted = True
