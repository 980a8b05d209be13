"""Leave the modem as you found it (issue 8 item 6).

A modem's country is a regulatory setting many modems keep in non-volatile
memory: opening a line changes it only when the caller gives a location, and
closing the line puts back whatever opening changed (the country, the
S-registers of the profile's init).  The fake keeps +GCI and the registers
across connections, as a real modem does.
"""

from __future__ import annotations

import pytest

from modemctl.fake import Exchange, FakeLine
from modemctl.line import Line, open_line
from tests.line.conftest import NEAR, SCALE


async def _set(fake: FakeLine, command: str) -> None:
    """Change the fake modem's settings as another program would, before we open it."""
    async with open_line(fake.port, "US", SCALE, probe=False, name="other") as line:
        await line.engine.command(command)


async def _country(fake: FakeLine) -> str:
    async with open_line(fake.port, "US", SCALE, probe=False, name="look") as line:
        r = await line.engine.command("AT+GCI?")
    return r.info[0].removeprefix("+GCI:").strip()


async def test_probe_without_a_location_leaves_the_country_alone() -> None:
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="conexant-v92")
        await _set(fake, "AT+GCI=04")
        async with open_line(fake.port, time_scale=SCALE, name="near") as line:
            assert line.caps is not None and line.caps.modem_country == "04"
            assert await _country_now(line) == "04"
        assert await _country(fake) == "04"


async def _country_now(line: Line) -> str:
    r = await line.engine.command("AT+GCI?")
    return r.info[0].removeprefix("+GCI:").strip()


@pytest.mark.parametrize(("location", "t35"), [("GB", "B4"), ("FR", "3D")])
async def test_a_country_set_at_open_is_put_back_at_close(location: str, t35: str) -> None:
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="conexant-v92")
        await _set(fake, "AT+GCI=04")
        async with open_line(fake.port, location, SCALE, name="near") as line:
            assert line.caps is not None and line.caps.modem_country == t35
            assert await _country_now(line) == t35
        assert line.restore_failures == ()
        assert await _country(fake) == "04"


async def test_init_registers_are_put_back_at_close() -> None:
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="agere-v92")
        await _set(fake, "ATS0=2")
        assert fake.registers[0] == 2
        async with open_line(fake.port, "US", SCALE, name="near"):
            assert fake.registers[0] == 0           # no auto-answer while we hold the line
        assert fake.registers[0] == 2


async def test_an_untrusted_country_query_means_no_country_is_set() -> None:
    from modemctl.line.probe import settle_country
    from modemctl.locations import get_location
    from modemctl.profiles import get_profile
    from tests.line.test_probe import ScriptedModem

    cx = get_profile("conexant")
    bare_ok = ScriptedModem({"AT+GCI?": (), "AT+GCI=3D": ()})
    settled = await settle_country(bare_ok, cx, get_location("FR"), set_country=True)
    assert settled.country is None and "AT+GCI=3D" not in bare_ok.sent
    asked_only = ScriptedModem({"AT+GCI?": ("+GCI: 04",), "AT+GCI=3D": ()})
    settled = await settle_country(asked_only, cx, get_location("FR"), set_country=False)
    assert settled.country == "04" and asked_only.sent == ["AT+GCI?"]
    same = ScriptedModem({"AT+GCI?": ("+GCI: 3D",)})
    settled = await settle_country(same, cx, get_location("FR"), set_country=True)
    assert settled.country == "3D" and settled.previous is None and same.sent == ["AT+GCI?"]


@pytest.mark.parametrize(("found", "echo", "verbose"), [
    ("ATE1V1", 1, 1), ("ATE0V1", 0, 1), ("ATE1V0", 1, 0), ("ATE0V0", 0, 0)])
async def test_echo_and_verbosity_are_put_back_at_close(found: str, echo: int,
                                                       verbose: int) -> None:
    # The line runs the modem at E0 V1 for its parsers; whatever the modem said
    # before (another program's E1, a stored V0) is what it says afterwards.
    async with Exchange(time_scale=SCALE) as ex:
        fake = await ex.add_line(NEAR, personality="conexant-v92")
        await _set(fake, found)
        async with open_line(fake.port, "US", SCALE, name="near") as line:
            settings = fake.dce.settings
            assert (settings.echo, settings.verbose) == (0, 1)     # while we hold the line
        assert line.restore_failures == ()
        assert (fake.dce.settings.echo, fake.dce.settings.verbose) == (echo, verbose)
