"""Probe parsing and the probe against a scripted modem that refuses things."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from modemctl.errors import CommandError
from modemctl.line.probe import build_caps, gather, parse_fclass, parse_pcw_range
from modemctl.line.report import Mechanism
from modemctl.locations import get_location
from tests.line.conftest import PairFactory


@dataclass
class _Answer:
    info: tuple[str, ...]


class ScriptedModem:
    """Answers from a table; anything not in it gets ERROR (as a Hayes modem does)."""

    def __init__(self, table: dict[str, tuple[str, ...]]) -> None:
        self.table = table
        self.sent: list[str] = []

    async def command(self, command: str, timeout: float = 5.0) -> _Answer:  # noqa: ASYNC109
        self.sent.append(command)
        if command not in self.table:
            raise CommandError(command, "ERROR")
        return _Answer(self.table[command])


@pytest.mark.parametrize(("lines", "values"), [
    (("+PCW: (0-2)",), (0, 1, 2)),
    (("+PCW: (0,1,2)",), (0, 1, 2)),
    (("(0,1)",), (0, 1)),
    ((), ()),
])
def test_parse_pcw_range(lines: tuple[str, ...], values: tuple[int, ...]) -> None:
    assert parse_pcw_range(lines) == values


@pytest.mark.parametrize(("lines", "classes"), [
    (("0,1,1.0",), ("0", "1", "1.0")),
    (("(0,1,2.0)",), ("0", "1", "2.0")),
    (("+FCLASS: 0,1,2,2.0,8",), ("0", "1", "2", "2.0", "8")),
])
def test_parse_fclass(lines: tuple[str, ...], classes: tuple[str, ...]) -> None:
    assert parse_fclass(lines) == classes


async def test_probe_tolerates_error_everywhere() -> None:
    modem = ScriptedModem({})
    answers = await gather(modem)
    assert answers.identity == {} and answers.pcw_values == () and answers.fax_classes is None
    caps = build_caps(answers, get_location("US"), None, caller_id=False)
    assert caps.profile.name == "generic-hayes" and not caps.identified
    assert caps.s9 == 6                                 # profile default when S9? refused
    assert any("no identity answers" in n for n in caps.notes)
    assert any("no fax: AT+FCLASS=? answered ERROR" in n for n in caps.notes)
    assert caps.secure_at_dial == ("cancel-code",)


async def test_probe_conexant_answers() -> None:
    modem = ScriptedModem({
        "ATI0": ("56000",), "ATI3": ("CX93001-EIS_V0.2002-V92",),
        "AT+GMI": ("+GMI: CONEXANT",), "AT+PCW=?": ("+PCW: (0-2)",), "AT+PCW?": ("+PCW: 0",),
        "AT+FCLASS=?": ("0,1,1.0",), "AT+FCLASS?": ("0",), "ATS9?": ("006",),
        "ATS10?": ("014",),
    })
    answers = await gather(modem)
    assert answers.identity["gmi"] == "CONEXANT"
    caps = build_caps(answers, get_location("US"), "B5", caller_id=True)
    assert caps.profile.name == "conexant" and caps.identified and caps.v92
    assert caps.mechanism("s10-ride-through").value == "14"
    assert caps.fax_classes == ("0", "1", "1.0") and caps.s10 == 14
    # the probe only asks: nothing it sends changes a setting
    assert all("=" not in c or c.endswith("=?") for c in modem.sent)


async def test_country_confirmed_by_read_back() -> None:
    from modemctl.line.probe import settle_country
    from modemctl.profiles import get_profile

    cx = get_profile("conexant")
    fr = get_location("FR")
    ok = ScriptedModem({"AT+GCI?": ("+GCI: B5",), "AT+GCI=3D": ()})
    ok.table["AT+GCI=3D"] = ()
    settled = await settle_country(ok, cx, fr, set_country=True)
    # B5 is read before setting, and the read-back is what the modem says now.
    assert ok.sent == ["AT+GCI?", "AT+GCI=3D", "AT+GCI?"]
    assert settled.previous == "B5"
    other = ScriptedModem({"AT+GCI=3D": (), "AT+GCI?": ("+GCI: B5",)})
    settled = await settle_country(other, cx, fr, set_country=True)
    assert settled.country is None and "B5" in settled.note
    refused = ScriptedModem({"AT+GCI?": ("+GCI: B5",)})
    settled = await settle_country(refused, cx, fr, set_country=True)
    assert settled.country is None and "refused" in settled.note
    # the US quirk then applies whatever the location: S10 stays below 16
    caps = build_caps(await gather(refused), fr, settled.country, caller_id=False, profile=cx)
    assert caps.mechanism(Mechanism.S10_RIDE_THROUGH).value == "14"
    no_command = ScriptedModem({})
    settled = await settle_country(no_command, get_profile("usr"), fr, set_country=True)
    assert settled.country is None and no_command.sent == []


@pytest.mark.parametrize(("location", "t35"), [("US", "B5"), ("GB", "B4"), ("FR", "3D")])
async def test_probe_sets_and_confirms_the_country_on_a_v92_modem(
        make_pair: PairFactory, location: str, t35: str) -> None:
    # The Conexant S10 quirk depends on the modem's country: the probe sets it
    # from the location and only trusts it once +GCI? reads it back.
    pair = await make_pair("conexant-v92", location=location)
    assert pair.near.caps is not None and pair.near.caps.modem_country == t35
    r = await pair.near.engine.command("ATI5")
    assert r.info == (t35,)
