"""Locations for the world: the shipped dialing rules, and how the CLI names them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from modemctl.locations import builtin_locations
from tests.cli.fakes import FakeSwitch

EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
      "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}
ELSEWHERE = {"CH", "NO", "AU", "NZ", "JP", "IN", "BR", "MX", "ZA", "GB", "US", "CA"}


@pytest.mark.parametrize("code", sorted(EU | ELSEWHERE))
def test_each_country_has_sourced_rules(code: str) -> None:
    loc = builtin_locations().get(code)
    assert loc is not None, f"no location {code}"
    assert loc.sources, code
    # A cancel code, or the data says why there is none.
    assert loc.cancel_tone or "no per-call cancel code" in loc.call_waiting_note, code
    # A T.35 country for +GCI, or the data says why there is none.
    assert loc.modem_country or "no country code" in loc.modem_country_note, code
    # Its own numbers are dialled nationally, others through the international prefix.
    assert loc.dialable(f"+{loc.country_calling_code}2345") == loc.national_prefix + "2345"
    other = "44" if code != "GB" else "49"
    assert loc.dialable(f"+{other}2345") == loc.international_prefix + other + "2345"


def test_modem_countries_are_distinct_except_within_one_plan() -> None:
    seen: dict[str, str] = {}
    for code, loc in builtin_locations().items():
        if loc.modem_country is not None:
            assert loc.modem_country not in seen, (code, seen.get(loc.modem_country))
            seen[loc.modem_country] = code


@pytest.mark.parametrize("command", [["dial", "/dev/null", "5551234"], ["answer", "/dev/null"],
                                     ["probe", "/dev/null"],
                                     ["fax", "send", "/dev/null", "5551234", "/dev/null"]])
def test_an_unknown_location_is_a_usage_error_listing_the_known(runner: CliRunner,
                                                                command: list[str]) -> None:
    verb = 2 if command[0] == "fax" else 1
    result = runner.invoke(main, [*command[:verb], "--location", "XX", *command[verb:]])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "'XX' is not a known location (known: AT, AU," in result.output
    assert "ZA)" in result.output


def test_a_location_without_t35_code_leaves_the_modem_country(runner: CliRunner,
                                                             switch: FakeSwitch) -> None:
    dce = switch.exchange.lines["5551001"].dce
    before = dce.country
    result = runner.invoke(main, ["probe", "--json", "--location", "hr",
                                  switch.port("5551001")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    # The modem's own country, read and left as found: Croatia has no code to set.
    assert found["location"] == "HR" and found["modem_country"] == before
    assert dce.country == before
    assert any("assigns Croatia no country code" in n for n in found["notes"])
