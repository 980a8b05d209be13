"""Scripting a call like ``chat`` and ``expect``: what to send, what to wait for, when to stop.

A script that pipes a request into ``modemctl dial`` cannot know when the
call will be up, nor when the far end has finished answering.  ``chat`` and
``expect`` solve this with a list of steps (send this, wait for that, with a
timeout) and ``cu`` users with ``sleep``; modemctl offers the steps
(``--send``, ``--expect``, ``--expect-timeout``) and a quiet period
(``--idle``) that keeps the call up after end of input until the far end has
said nothing for that long.

:class:`Matcher` is sans-IO: the session feeds it the far end's bytes and
asks whether the awaited text has been seen, so matching can be tested byte
by byte.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Literal

from modemctl.cli.escape import ESCAPE

#: How much far-end text is kept to match against (longer texts cannot be expected).
WINDOW = 4096


@dataclass(frozen=True)
class Step:
    """One step of a call script: send ``data``, or wait until the far end sent ``data``."""

    kind: Literal["send", "expect"]
    data: bytes


@dataclass(frozen=True)
class SessionOptions:
    """How a terminal session behaves, beyond bridging bytes.

    ``escape`` is the escape character's byte (``None``: no escapes, every byte
    is data); ``echo`` shows what is sent; ``steps`` run once the call is up,
    before any input is read; ``expect_timeout`` bounds each ``expect`` step
    (real seconds); ``idle`` keeps the call up after end of input until the
    far end has been quiet that long (real seconds; ``None``: hang up at once).
    """

    escape: int | None = ESCAPE
    echo: bool = False
    steps: tuple[Step, ...] = ()
    expect_timeout: float = 30.0
    idle: float | None = None


def unescape(text: str) -> bytes:
    r"""A command-line text with C escapes (``\r``, ``\n``, ``\t``, ``\\``, ``\x1b``) as bytes.

    ``chat`` scripts spell a carriage return ``\r``; shells do not expand it in
    single quotes, so the option does.
    """
    try:
        decoded, _ = codecs.escape_decode(text.encode("utf-8"))
    except ValueError as exc:
        raise ValueError(f"bad escape in {text!r}: {exc}") from None
    return bytes(decoded)


class Matcher:
    """Looks for one text in the far end's bytes, across chunk boundaries."""

    def __init__(self) -> None:
        self._window = bytearray()

    def feed(self, data: bytes) -> None:
        """Far-end bytes, as they arrive."""
        self._window += data
        del self._window[:-WINDOW]

    def take(self, text: bytes) -> bool:
        """True if ``text`` was seen; what came up to its end is then consumed.

        Consuming means that a second ``expect`` of the same text waits for a
        new occurrence, as in chat.
        """
        at = self._window.find(text)
        if at < 0:
            return False
        del self._window[:at + len(text)]
        return True
