"""Dial-string validation and dial-command building.

A number handed to ``make_call`` ends up inside an ``ATD`` command line, so
anything that is not a dial digit or modifier is a way to run commands on
the modem (``5551234;ATS0=1`` or an embedded CR).  Validation therefore
happens here, before a single byte reaches the modem, and is by whitelist:

* dial digits ``0-9 * # A B C D``;
* one ``+``, as the first digit only (after the tone/pulse modifier at
  most): ``+`` anywhere else is no digit, and ``+++`` inside a dial command
  is the modem's escape sequence;
* modifiers ``T`` (tone), ``P`` (pulse), ``W`` (wait for dial tone),
  ``,`` (pause), ``!`` (hook flash), ``@`` (wait for quiet answer);
* ``( ) -`` and spaces, which are dropped - and are dropped *before* the
  checks, so that ``A T`` cannot join into the ``AT`` a modem command starts
  with;
* ``{`` ``}`` around secret digits (see below), also dropped.

Everything else - CR/LF, ``;`` (return to command mode, and the way to
chain commands), the letters ``AT``, any other letter - raises
:class:`~modemctl.errors.InvalidAddress` naming the position and character.

Secret digits: a calling-card PIN dialled after the number
(``5558102,,,{1234}#``) must reach the modem but never a log, a byte trace
or an error message.  Braces mark such a span; the :class:`DialString`
keeps where it is (:attr:`DialString.secrets`), shows ``***`` in its place
(:attr:`DialString.redacted`), and the line layer registers the digits with
:func:`modemctl.log.register_secret` before dialling, so every log event,
trace line and error text masks them.  A span needs at least
:data:`MIN_SECRET` characters: shorter ones would mask every occurrence of
a digit or two in the trace.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.errors import InvalidAddress

DIAL_DIGITS = frozenset("0123456789*#ABCD")
MODIFIERS = frozenset("TPW,!@")
IGNORED = frozenset("()- ")
SECRET_OPEN, SECRET_CLOSE = "{", "}"
MIN_SECRET = 3
REDACTED = "***"


@dataclass(frozen=True)
class DialString:
    """A validated number: the digits and modifiers, punctuation dropped.

    ``secret_spans`` are ``(start, end)`` slices of ``text`` that must not
    be shown (see the module docstring).
    """

    text: str
    pulse: bool
    secret_spans: tuple[tuple[int, int], ...] = ()

    @property
    def digits(self) -> str:
        """Only the dial digits (what identifies the destination)."""
        return "".join(c for c in self.text if c in DIAL_DIGITS or c == "+")

    @property
    def secrets(self) -> tuple[str, ...]:
        """The secret parts of ``text``, for registering with the log's redaction."""
        return tuple(self.text[a:b] for a, b in self.secret_spans)

    @property
    def redacted(self) -> str:
        """``text`` with each secret span shown as ``***``: what may be printed."""
        out, at = [], 0
        for a, b in self.secret_spans:
            out += [self.text[at:a], REDACTED]
            at = b
        return "".join([*out, self.text[at:]])

    def localised(self, text: str) -> DialString:
        """This number with its head rewritten (``+1`` → ``1``, ``+44`` → ``01144``).

        The secret spans move with the tail; a span reaching into the
        rewritten head is refused rather than guessed at.
        """
        shift = len(text) - len(self.text)
        spans = tuple((a + shift, b + shift) for a, b in self.secret_spans)
        for (a, b), secret in zip(spans, self.secrets, strict=True):
            if a < 0 or text[a:b] != secret:
                raise InvalidAddress(self.redacted, None,
                                     "secret digits cannot include the country code")
        return DialString(text, self.pulse, spans)


def validate_number(number: str) -> DialString:
    """Check ``number`` and return it normalised; raise InvalidAddress otherwise.

    Lower-case modifiers and DTMF letters are accepted and upper-cased (modems
    accept both).  ``pulse`` is true when the last T/P modifier before the
    first digit selects pulse dialling, which picks the pulse cancel code.
    """
    if not isinstance(number, str):
        raise InvalidAddress(repr(number), None, "a number must be a string")
    upper = number.upper()
    shown = _mask_secrets(number)
    out: list[str] = []
    last_pos = -1                       # where in ``number`` the last kept character was
    spans: list[tuple[int, int]] = []
    secret_start: int | None = None
    pulse = False
    seen_digit = False

    def bad(pos: int | None, reason: str) -> InvalidAddress:
        return InvalidAddress(shown, pos, reason)

    for pos, ch in enumerate(upper):
        if ch in IGNORED:
            continue
        if ch == SECRET_OPEN:
            if secret_start is not None:
                raise bad(pos, "secret digits cannot be nested")
            secret_start = len(out)
            continue
        if ch == SECRET_CLOSE:
            if secret_start is None:
                raise bad(pos, "'}' closes no '{'")
            if len(out) - secret_start < MIN_SECRET:
                raise bad(pos, f"secret digits need at least {MIN_SECRET} characters")
            spans.append((secret_start, len(out)))
            secret_start = None
            continue
        if ch == "T" and out and out[-1] == "A":
            raise bad(last_pos, "'AT' would start a modem command")
        last_pos = pos
        if ch == "+":
            if seen_digit or any(c not in "TP" for c in out) or secret_start is not None:
                raise bad(pos, "'+' is allowed only once, as the first digit "
                               "('+++' would be the modem's escape)")
            out.append(ch)
            continue
        if ch in DIAL_DIGITS:
            seen_digit = True
            out.append(ch)
            continue
        if ch in MODIFIERS:
            if ch in "TP" and not seen_digit:
                pulse = ch == "P"
            out.append(ch)
            continue
        if ch in "\r\n":
            reason = "a line break would end the dial command"
        elif ch == ";":
            reason = "';' returns the modem to command mode and can chain commands"
        elif ch.isalpha():
            reason = "letters other than A-D and the modifiers T P W are not dialable"
        else:
            reason = "not a dial digit or modifier"
        raise bad(pos, reason)
    if secret_start is not None:
        raise bad(None, "'{' is not closed by '}'")
    if not seen_digit:
        raise bad(None, "no dial digits")
    return DialString("".join(out), pulse, tuple(spans))


def _mask_secrets(number: str) -> str:
    """``number`` as an error may show it: characters between braces as ``*``
    (one for one, so that an error's position still points at the right place)."""
    out: list[str] = []
    inside = False
    for ch in number:
        if ch == SECRET_CLOSE:
            inside = False
        out.append("*" if inside and ch not in IGNORED else ch)
        if ch == SECRET_OPEN:
            inside = True
    return "".join(out)


def has_prefix_code(dial: DialString, code: str) -> bool:
    """True when the number already starts with ``code`` (e.g. the user typed ``*70``).

    Leading T/P/W modifiers are skipped; the code's own trailing pause is
    not required, so ``*705551234`` counts as carrying ``*70``.
    """
    body = dial.text.lstrip("TPW")
    return body.startswith(code.rstrip(",W"))


def build_dial_command(dial: DialString, prefix: str, max_length: int) -> str:
    """``ATD`` + tone/pulse + prefix + number, checked against the modem's buffer.

    The leading T/P modifiers of the number are kept in front of the prefix
    so that a pulse-dialled ``P5551234`` with the pulse cancel code becomes
    ``ATDP1170,5551234``.  The result holds the secret digits: it is for the
    modem, and is logged only through the redacting logger.
    """
    body = dial.text
    mode = ""
    while body and body[0] in "TP":
        mode = body[0]
        body = body[1:]
    if not mode:
        mode = "P" if dial.pulse else "T"
    command = f"ATD{mode}{prefix}{body}"
    if len(command) > max_length:
        raise InvalidAddress(dial.redacted, None,
                             f"the dial command would be {len(command)} characters; this "
                             f"modem's command buffer takes {max_length}")
    return command
