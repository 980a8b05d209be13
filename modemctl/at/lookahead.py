"""The one-byte lookahead of line framing, as one small piece of state.

In numeric mode a result code is ``<n> CR`` and information text ends in
``CR LF``, so what follows a CR decides what the line was (see
:mod:`modemctl.at.connection`).  Three facts carry that decision across
reads: bytes are *held* because the next byte is needed; the engine said
the input went *quiet* (resolve what is held as it stands); and a line
was already resolved at its CR, so one LF that still arrives belongs to
it and is *swallowed*.  The data-mode hold-back (a tail that may begin
``NO CARRIER``) uses the same held/quiet pair.
"""

from __future__ import annotations

from collections.abc import Container


class Lookahead:
    """Held / quiet / swallow-LF, and the rule that reads a line's terminator."""

    __slots__ = ("held", "quiet", "swallow_lf")

    def __init__(self) -> None:
        self.held = False        # bytes kept back until one more arrives
        self.quiet = False       # end_of_input: resolve what is held now
        self.swallow_lf = False  # a line ended at its CR; its LF may follow

    @staticmethod
    def line_end(buf: bytearray, i: int, *, lf: int,
                 padding: Container[int]) -> tuple[int, bool] | None:
        """Read the terminator at ``buf[i]``: (bytes consumed, ended by CR alone).

        None when the CR is the last significant byte (padding after it does
        not count): only the next byte can tell (LF: information; anything
        else: a result code).  The caller then holds the line or, if it
        cannot be a result code or the input went quiet, takes
        :meth:`ended_at_cr`.
        """
        if buf[i] == lf:
            return i + 1, False
        j = i + 1
        n = len(buf)
        if j < n and buf[j] == lf:
            return j + 1, False         # CR LF, the usual case: no padding to skip
        while j < n and buf[j] != lf and buf[j] in padding:
            j += 1
        if j < n:
            return (j + 1, False) if buf[j] == lf else (i + 1, True)
        return None

    def ended_at_cr(self, i: int) -> tuple[int, bool]:
        """Resolve a line at its CR (``buf[i]``) without the next byte; an LF
        that still comes is swallowed."""
        self.swallow_lf = True
        return i + 1, True

    def take_swallowed_lf(self, buf: bytearray, lf: int) -> None:
        """Drop the LF of a line already resolved at its CR, if it is next."""
        if self.swallow_lf and buf:
            if buf[0] == lf:
                del buf[0]
            self.swallow_lf = False
