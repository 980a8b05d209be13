"""Dial-string validation and dial-command building.

A number handed to ``make_call`` ends up inside an ``ATD`` command line, so
anything that is not a dial digit or modifier is a way to run commands on
the modem (``5551234;ATS0=1`` or an embedded CR).  Validation therefore
happens here, before a single byte reaches the modem, and is by whitelist:

* dial digits ``0-9 * # A B C D``, and ``+`` as the first digit only;
* modifiers ``T`` (tone), ``P`` (pulse), ``W`` (wait for dial tone),
  ``,`` (pause), ``!`` (hook flash), ``@`` (wait for quiet answer);
* ``( ) -`` and spaces, which are dropped.

Everything else - CR/LF, ``;`` (return to command mode, and the way to
chain commands), the letters ``AT``, any other letter - raises
:class:`~modemctl.errors.InvalidAddress` naming the position and character.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.errors import InvalidAddress

DIAL_DIGITS = frozenset("0123456789*#ABCD")
MODIFIERS = frozenset("TPW,!@")
IGNORED = frozenset("()- ")


@dataclass(frozen=True)
class DialString:
    """A validated number: the digits and modifiers, punctuation dropped."""

    text: str
    pulse: bool

    @property
    def digits(self) -> str:
        """Only the dial digits (what identifies the destination)."""
        return "".join(c for c in self.text if c in DIAL_DIGITS or c == "+")


def validate_number(number: str) -> DialString:
    """Check ``number`` and return it normalised; raise InvalidAddress otherwise.

    Lower-case modifiers and DTMF letters are accepted and upper-cased (modems
    accept both).  ``pulse`` is true when the last T/P modifier before the
    first digit selects pulse dialling, which picks the pulse cancel code.
    """
    if not isinstance(number, str):
        raise InvalidAddress(repr(number), None, "a number must be a string")
    upper = number.upper()
    out: list[str] = []
    pulse = False
    seen_digit = False
    for pos, ch in enumerate(upper):
        if ch in IGNORED:
            continue
        if upper.startswith("AT", pos):
            raise InvalidAddress(number, pos, "'AT' would start a modem command")
        if ch == "+":
            if seen_digit:
                raise InvalidAddress(number, pos, "'+' is allowed only before the first digit")
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
        raise InvalidAddress(number, pos, reason)
    if not seen_digit:
        raise InvalidAddress(number, None, "no dial digits")
    return DialString("".join(out), pulse)


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
    ``ATDP1170,5551234``.
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
        raise InvalidAddress(dial.text, None,
                             f"the dial command would be {len(command)} characters; this "
                             f"modem's command buffer takes {max_length}")
    return command
