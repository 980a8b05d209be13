"""Probing treats the modem as untrusted (issue 8 item 2).

Against a scripted responder (``tests/driver/responder.py``) that answers
what a primitive or odd firmware answers: ``OK`` to anything, a test command
that offers values for a parameter it cannot read, register values framed
without the usual blank line.  The line queries before it sets, sets an
extended feature only once the modem has shown it understands it, and the
caps say what was inferred and from what.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from modemctl.line import Line, open_line
from tests.driver.responder import ScriptedDCE, scripted_dce

SCALE = 0.05


@pytest.fixture
async def dce() -> AsyncIterator[ScriptedDCE]:
    async with scripted_dce(SCALE) as d:
        yield d


def finding(line: Line, feature: str) -> tuple[bool, str]:
    assert line.caps is not None
    found = [f for f in line.caps.findings if f.feature == feature]
    assert len(found) == 1, line.caps.findings
    return found[0].supported, found[0].evidence


async def test_a_modem_that_says_ok_to_everything_gets_no_extended_feature_set(
        dce: ScriptedDCE) -> None:
    async with open_line(dce.port, "FR", SCALE, profile="conexant", name="yes-man") as line:
        caps = line.caps
        assert caps is not None
        assert not caps.v92 and caps.fax_classes == () and not caps.caller_id
        assert caps.modem_country is None
        assert finding(line, "v92-call-waiting") == (
            False, "AT+PCW=? answered a bare OK: no values offered")
        assert finding(line, "fax")[1].startswith("AT+FCLASS=? answered a bare OK")
        assert not finding(line, "caller-id")[0]
    sets = [c for c in dce.commands if "=" in c and not c.endswith("=?")]
    # Only the profile's basic init (S0=0) was set; no +VCID, +GCI, +PCW or +FCLASS.
    assert [c for c in sets if "+" in c] == [], sets


async def test_offered_values_for_a_parameter_it_cannot_read_are_not_trusted(
        dce: ScriptedDCE) -> None:
    dce.replies["AT+PCW=?"] = ["+PCW: (0-2)", "OK"]
    dce.replies["AT+PCW?"] = ["ERROR"]
    async with open_line(dce.port, "US", SCALE, name="liar") as line:
        assert line.caps is not None and not line.caps.v92
        supported, evidence = finding(line, "v92-call-waiting")
        assert not supported and "inconsistent" in evidence and "ERROR" in evidence


async def test_register_values_without_the_blank_line_and_zero_are_values(
        dce: ScriptedDCE) -> None:
    def bare_zero(_cmd: str) -> list[str]:
        dce.send_raw(b"000\r\n")              # no leading CR LF before the value
        return ["OK"]

    dce.replies["ATS9?"] = ["006", "OK"]
    dce.replies["ATS10?"] = bare_zero
    async with open_line(dce.port, "US", SCALE, name="terse") as line:
        assert line.caps is not None
        assert line.caps.s9 == 6 and line.caps.s10 == 0
        assert finding(line, "S10") == (True, "ATS10? read 0")


async def test_caller_id_is_set_only_when_offered_and_read_back_and_put_back_at_close(
        dce: ScriptedDCE) -> None:
    vcid = {"value": "0"}

    def set_vcid(cmd: str) -> list[str]:
        vcid["value"] = cmd.rsplit("=", 1)[1]
        return ["OK"]

    dce.replies["AT+VCID=?"] = ["+VCID: (0-2)", "OK"]
    dce.replies["AT+VCID?"] = lambda _cmd: [f"+VCID: {vcid['value']}", "OK"]
    dce.replies["AT+VCID=1"] = set_vcid
    dce.replies["AT+VCID=0"] = set_vcid
    async with open_line(dce.port, "US", SCALE, name="cid") as line:
        assert line.caps is not None and line.caps.caller_id
        assert vcid["value"] == "1"
        supported, evidence = finding(line, "caller-id")
        assert supported and "read back" in evidence
    first_query = dce.commands.index("AT+VCID?")
    assert first_query < dce.commands.index("AT+VCID=1")    # query before set
    assert vcid["value"] == "0"                               # as found
