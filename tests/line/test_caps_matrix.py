"""The securing matrix, probed for real: every personality in every location."""

from __future__ import annotations

import pytest

from modemctl.fake import Exchange
from modemctl.line import Mechanism, open_line
from tests.line.conftest import SCALE

NANP = ("US", "CA")
LOCATIONS = ("US", "CA", "GB", "DE", "FR")

#: personality -> (profile, at dial without cancel code, after connect)
EXPECTED = {
    "conexant-v92": ("conexant", ("pcw-ignore", "s10-ride-through"),
                     ("pcw-ignore", "s10-ride-through")),
    "agere-v92": ("agere", ("pcw-ignore", "s10-ride-through"),
                  ("pcw-ignore", "s10-ride-through")),
    "usr-v90": ("usr", ("s10-ride-through",), ("s10-ride-through",)),
    "hayes-basic": ("generic-hayes", (), ()),
}


@pytest.mark.parametrize("personality", sorted(EXPECTED))
async def test_matrix(personality: str) -> None:
    profile, dial, after = EXPECTED[personality]
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line("5551001", personality=personality)
        for location in LOCATIONS:
            async with open_line(fake.port, location, SCALE) as line:
                caps = line.caps
                assert caps is not None
                assert caps.profile.name == profile
                expected_dial = (("cancel-code", *dial) if location in NANP else dial)
                assert caps.secure_at_dial == expected_dial, location
                assert caps.secure_after_connect == after, location
                s10 = caps.mechanism(Mechanism.S10_RIDE_THROUGH)
                if profile in ("conexant", "usr"):      # ride-through offered everywhere ...
                    assert s10.value is not None, location
                    assert int(s10.value) < 16          # ... under 16: the US quirk, always


async def test_forced_profile_and_unprobed_line() -> None:
    from modemctl import ConfigError, InvalidCallState

    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line("5551001", personality="hayes-basic")
        async with open_line(fake.port, "US", SCALE, profile="usr") as line:
            assert line.caps is not None and line.caps.profile.name == "usr"
            assert any("forced" in n for n in line.caps.notes)
        async with open_line(fake.port, "US", SCALE, probe=False) as line:
            assert line.caps is None
            with pytest.raises(InvalidCallState, match="probe"):
                await line.make_call("5551002")
            caps = await line.probe()
            assert caps.profile.name == "generic-hayes"
        with pytest.raises(ConfigError, match="no profile"):
            async with open_line(fake.port, "US", SCALE, profile="nonesuch"):
                pass
        with pytest.raises(ConfigError, match="no location"):
            async with open_line(fake.port, "XX", SCALE):
                pass
