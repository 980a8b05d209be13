"""What the core knows about echo, as one small piece of state.

Echo serves two ends.  It delimits: with echo on, whatever arrives for a
command before its echo cannot be that command's, which keeps a late
answer to an abandoned command from being taken for the next one's.  And
it is itself recognised and reported (:class:`~modemctl.at.events.Echo`),
on or off, so a modem that turns echo on by itself still frames.
"""

from __future__ import annotations

from modemctl.at.commands import REPEAT


def _squash(text: str) -> str:
    return "".join(text.split()).upper()


def is_echo(text: str, command: str) -> bool:
    """Whether ``text`` (a received line) is the echo of ``command``.

    Line noise before the echo (a stray byte) still leaves the echo at the end.
    """
    if command.upper() == REPEAT:
        return _squash(text) == REPEAT
    got, want = _squash(text), _squash(command)
    return got == want or (len(want) >= 2 and got.endswith(want))


class EchoState:
    """Echo seen for the command in flight, echo believed on, last command abandoned."""

    __slots__ = ("aborted", "on", "seen")

    def __init__(self) -> None:
        self.seen = False            # the echo of the command in flight arrived
        self.on: bool | None = None  # echo is on / off / unknown
        self.aborted = False         # a command was abandoned since the last result

    def command_sent(self) -> None:
        """A command line went out: its echo is awaited."""
        self.seen = False

    def escape_sent(self) -> None:
        """``+++`` went out: it is never echoed as a line, so nothing is awaited."""
        self.seen = True

    @property
    def stale(self) -> bool:
        """Whether a line arriving now is left over from an earlier command
        (echo is on and the command's echo has not come yet)."""
        return self.on is True and not self.seen

    def completed(self, *, changes_echo: bool) -> None:
        """The command in flight got its final result.

        A command that may switch echo (E, Z, &F) leaves it unknown;
        otherwise whether its echo came is what echo now is.
        """
        self.aborted = False
        self.on = None if changes_echo else self.seen

    def abandoned(self) -> None:
        """The engine gave up on the command in flight.

        A second abandon in a row forgets what echo was (the echo itself may
        be what is garbled), so a resync cannot be locked out by it.
        """
        if self.aborted:
            self.on = None
        self.aborted = True
