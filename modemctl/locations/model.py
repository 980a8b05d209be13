"""The immutable shape of a location: the dialing rules of one country.

Only what modemctl needs is modelled: the modem's country code (some
firmware behaves differently per country, see the Conexant S10 quirk), the
prefixes that turn a canonical ``+CC...`` number into a dialable one, and
the per-call cancel-call-waiting code, the first and most portable way to
secure a call (TAPI's LINETRANSLATEOPTION_CANCELCALLWAITING does the same).
"""

from __future__ import annotations

from dataclasses import dataclass


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

    def cancel_code(self, pulse: bool) -> str | None:
        """The per-call cancel code for the dial mode in use, or ``None``."""
        return self.cancel_pulse if pulse else self.cancel_tone

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
