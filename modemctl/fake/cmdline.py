"""Command-line assembly (V.250 5.2): DTE bytes in command state → echo + command lines.

Separate from the interpreter because it is a small state machine of its own:
find the ``AT``/``at`` prefix (anything before it is ignored, case may mix),
collect the body up to the S3 terminator, apply S5 editing (the prefix cannot
be deleted; the echo is the BS itself, or BS SP BS on Agere-family modems),
drop other control characters, count the body against the personality's line
limit (spaces do not count), and recognise ``A/`` (repeat the previous line,
no terminator) and, on modems that have it, ``A>`` (repeat it continuously, USR
5637 [V5]; the DCE does the repeating).  Only the low 7 bits of a byte are significant; the echo is
the byte as received.
"""

from __future__ import annotations

from dataclasses import dataclass

_A, _T, _SLASH, _GT, _SP = ord("A"), ord("T"), ord("/"), ord(">"), 0x20


@dataclass(frozen=True)
class CommandLine:
    """A complete command line: its body (after ``AT``), and how it ended."""

    body: bytes
    overflow: bool = False   # longer than the limit: answer ERROR, execute nothing
    repeat: bool = False     # ``A>``: run it again after each result until CONNECT or a key


class LineAssembler:
    """Turn command-state bytes into echo bytes and complete :class:`CommandLine` s."""

    def __init__(self, max_line: int, backspace_echo: str, repeat_continuous: bool = False
                 ) -> None:
        self._max_line = max_line
        self._repeat_continuous = repeat_continuous
        self._bs_sp_bs = backspace_echo == "bs-sp-bs"
        self._stage = 0           # 0: want A, 1: got A, 2: collecting the body
        self._body = bytearray()
        self._counted = 0         # non-space characters, for the line limit
        self._last = b""

    def reset(self) -> None:
        """Forget a half-typed line (reset, reboot)."""
        self._stage = 0
        self._body.clear()
        self._counted = 0

    def push(self, byte: int, s3: int, s5: int) -> tuple[bytes, CommandLine | None]:
        """One byte from the DTE: return what to echo (if E1) and a finished line, if any."""
        c = byte & 0x7F
        raw = bytes([byte])
        if self._stage == 2:
            if c == s3:                               # S3 is checked before S5
                line = CommandLine(bytes(self._body), overflow=self._counted > self._max_line)
                self._last = line.body
                self.reset()
                return raw, line
            if c == s5:
                if not self._body:
                    return (b"" if self._bs_sp_bs else raw), None
                if self._body.pop() != _SP:
                    self._counted -= 1
                return (bytes([byte, _SP, byte]) if self._bs_sp_bs else raw), None
            if c >= 0x20 and c != 0x7F:
                self._body.append(c)
                if c != _SP:
                    self._counted += 1
            return raw, None
        upper = c - 0x20 if 0x61 <= c <= 0x7A else c
        if self._stage == 0:
            if upper == _A:
                self._stage = 1
        elif upper == _T:
            self._stage = 2
        elif c == _SLASH:
            self._stage = 0
            return raw, CommandLine(self._last)
        elif c == _GT and self._repeat_continuous:
            self._stage = 0
            return raw, CommandLine(self._last, repeat=True)
        elif upper != _A:
            self._stage = 0
        return raw, None
