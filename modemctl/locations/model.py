"""The immutable shape of a location: the dialing rules of one country.

Only what modemctl needs is modelled: the modem's country code (some
firmware behaves differently per country, see the Conexant S10 quirk), the
prefixes that turn a canonical ``+CC...`` number into a dialable one, and
the per-call cancel-call-waiting code, the first and most portable way to
secure a call (TAPI's LINETRANSLATEOPTION_CANCELCALLWAITING does the same).

The cancel code differs by carrier in many countries (New Zealand: ``*52``
on one network, ``*70`` on another), so a line can carry its user's code
instead of the location's (:meth:`Location.with_cancel_code`).  Both kinds
pass the one check here, :func:`check_cancel_code`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from modemctl.errors import InvalidCancelCode

#: Where a location's cancel codes came from: its data file, or the user (for one line).
CancelSource = Literal["location", "user"]
#: What may follow a code: a pause (``,``) or a wait for dial tone (``W``), for
#: the stutter tone by which the exchange confirms it before the number.
PAUSES = ",W"
_TONE_DIGITS = frozenset("0123456789*#")
_CODE_LENGTH = (2, 8)


def check_cancel_code(code: str, *, pulse: bool) -> str:
    """``code`` as it is dialled before the number, or :class:`InvalidCancelCode`.

    A cancel code is 2-8 digits ``0-9 * #`` (only ``0-9`` for pulse
    dialling, which cannot send ``*`` or ``#``), optionally followed by one
    pause ``,`` or ``W``.  With none, a ``,`` is added: the exchange answers
    the code with a stutter dial tone that the number must wait for.  No
    other character is accepted (no ``AT``, ``;``, ``+``, other modifiers),
    so a code can never carry a command into the dial string.
    """
    if not isinstance(code, str):
        raise InvalidCancelCode(repr(code), None, "a cancel code must be a string")
    digits = code[:-1] if code[-1:] and code[-1] in PAUSES else code
    allowed = frozenset("0123456789") if pulse else _TONE_DIGITS
    for pos, ch in enumerate(digits):
        if ch not in allowed:
            reason = ("pulse dialling sends only the digits 0-9" if pulse and ch in _TONE_DIGITS
                      else "only the dial digits 0-9 * # and one trailing pause (',' or 'W') "
                      "are allowed")
            raise InvalidCancelCode(code, pos, reason)
    low, high = _CODE_LENGTH
    if not low <= len(digits) <= high:
        raise InvalidCancelCode(code, None, f"a cancel code has {low} to {high} digits")
    return digits + (code[len(digits):] or ",")


@dataclass(frozen=True)
class Location:
    """Dialing rules for one country."""

    code: str
    name: str
    country_calling_code: str
    #: The T.35 country code for ``+GCI``; ``None`` where T.35 assigns the country
    #: none (``modem_country_note`` then says so and the modem's setting is kept).
    modem_country: str | None
    international_prefix: str
    national_prefix: str
    cancel_tone: str | None
    cancel_pulse: str | None
    call_waiting_note: str
    sources: tuple[str, ...]
    modem_country_note: str = ""
    #: Anything else a user of this location must know to dial (carrier codes...).
    note: str = ""
    #: Whether ``cancel_tone``/``cancel_pulse`` are the location's or the user's.
    cancel_source: CancelSource = "location"

    def cancel_code(self, pulse: bool) -> str | None:
        """The per-call cancel code for the dial mode in use, or ``None``."""
        return self.cancel_pulse if pulse else self.cancel_tone

    def with_cancel_code(self, tone: str | None, pulse: str | None = None) -> Location:
        """This location with the user's carrier's cancel codes in place of its own.

        ``tone`` is the code dialled by tone (``"*52"``); ``pulse`` the one
        dialled by pulse.  Without ``pulse``, a tone code of digits only is
        dialled by pulse as it is, and one with ``*`` or ``#`` leaves pulse
        dialling with no code (pulse cannot send them; the location's own
        pulse code is for its default carrier, not the user's).  Each is
        checked by :func:`check_cancel_code` and gets its pause.  A pulse
        code needs a tone code, as in a location's data.
        """
        if tone is None:
            raise InvalidCancelCode(pulse or "", None,
                                    "a pulse cancel code needs the tone code too")
        tone_code = check_cancel_code(tone, pulse=False)
        if pulse is not None:
            pulse_code: str | None = check_cancel_code(pulse, pulse=True)
        elif tone_code.rstrip(PAUSES).isdigit():
            pulse_code = tone_code
        else:
            pulse_code = None
        return dataclasses.replace(self, cancel_tone=tone_code, cancel_pulse=pulse_code,
                                   cancel_source="user")

    def dialable(self, number: str) -> str:
        """Translate a canonical ``+<country><number>`` into what this location dials.

        Numbers not starting with ``+`` are returned unchanged: they are
        already in local form.  A number in this location's own country is
        dialled nationally (national prefix + subscriber number); any other
        country goes through the international prefix.
        """
        if not number.startswith("+"):
            return number
        rest = number[1:]
        if rest.startswith(self.country_calling_code):
            return self.national_prefix + rest[len(self.country_calling_code):]
        return self.international_prefix + rest
