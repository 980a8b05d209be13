"""Byte-exact table tests of the V.250 interpreter: command bytes in, DCE bytes out.

Each case runs on a fresh interpreter with a manual clock, so output is exact
and instantaneous.  Cases are parametrized over personalities where the
behaviour is common, and personality-specific where it is not.
"""

from __future__ import annotations

import pytest

from modemctl.fake import available_personalities
from tests.fake.helpers import Harness

ALL = available_personalities()
V92 = ["conexant-v92", "agere-v92"]
NON_V92 = ["usr-v90", "hayes-basic"]


def run(personality: str, *steps: bytes) -> list[bytes]:
    h = Harness(personality)
    return [h.send(step) for step in steps]


def test_all_four_personalities_are_bundled() -> None:
    assert set(ALL) >= {"conexant-v92", "agere-v92", "usr-v90", "hayes-basic"}


# Each row: (steps, expected outputs), run on every personality.
COMMON = [
    ([b"AT\r"], [b"AT\r\r\nOK\r\n"]),
    ([b"at\r"], [b"at\r\r\nOK\r\n"]),
    ([b"xyzAT\r"], [b"xyzAT\r\r\nOK\r\n"]),                          # junk before AT ignored
    ([b"ATE0\r", b"AT\r"], [b"ATE0\r\r\nOK\r\n", b"\r\nOK\r\n"]),     # ATE0 itself is echoed
    ([b"ATE0\r", b"ATE1\r", b"AT\r"], [b"ATE0\r\r\nOK\r\n", b"\r\nOK\r\n", b"AT\r\r\nOK\r\n"]),
    ([b"ATE\r", b"AT\r"], [b"ATE\r\r\nOK\r\n", b"\r\nOK\r\n"]),       # missing number = 0
    ([b"ATV0\r", b"AT\r"], [b"ATV0\r0\r", b"AT\r0\r"]),
    ([b"ATV0\r", b"ATS99?\r"], [b"ATV0\r0\r", b"ATS99?\r4\r"]),
    ([b"ATQ1\r", b"AT\r", b"ATQ0\r"], [b"ATQ1\r", b"AT\r", b"ATQ0\r\r\nOK\r\n"]),
    ([b"ATS99?\r"], [b"ATS99?\r\r\nERROR\r\n"]),
    ([b"ATS1=5\r"], [b"ATS1=5\r\r\nERROR\r\n"]),                     # S1 is read-only
    ([b"ATS3=200\r"], [b"ATS3=200\r\r\nERROR\r\n"]),                 # out of range
    ([b"ATS3=46\r", b"ATS3=13."], [b"ATS3=46\r.\nOK.\n", b"ATS3=13.\r\nOK\r\n"]),
    ([b"ATS4=33\r"], [b"ATS4=33\r\r!OK\r!"]),                        # new S4 used at once
    ([b"ATV0S99?E0\r", b"AT\r"], [b"ATV0S99?E0\r4\r", b"AT\r0\r"]),  # stops at first error
    ([b"A/"], [b"A/\r\nOK\r\n"]),                                   # nothing to repeat
    ([b"ATS0=3\r", b"A/"], [b"ATS0=3\r\r\nOK\r\n", b"A/\r\nOK\r\n"]),
    ([b"AT E0 V1\r"], [b"AT E0 V1\r\r\nOK\r\n"]),
    ([b"ATO\r"], [b"ATO\r\r\nERROR\r\n"]),                           # no call to go back to
    ([b"ATH\r", b"ATH0\r"], [b"ATH\r\r\nOK\r\n", b"ATH0\r\r\nOK\r\n"]),
    ([b"ATZ9\r"], [b"ATZ9\r\r\nERROR\r\n"]),
    ([b"ATE2\r"], [b"ATE2\r\r\nERROR\r\n"]),
    ([b"AT&D3&C0\r"], [b"AT&D3&C0\r\r\nOK\r\n"]),
    ([b"AT&D4\r"], [b"AT&D4\r\r\nERROR\r\n"]),
    ([b"AT+FCLASS?\r"], [b"AT+FCLASS?\r\r\n0\r\n\r\nOK\r\n"]),
    ([b"AT+FOO\r"], [b"AT+FOO\r\r\nERROR\r\n"]),
    ([b"ATI99\r"], [b"ATI99\r\r\nERROR\r\n"]),
]


@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize(("steps", "expected"), COMMON)
def test_common_commands(personality: str, steps: list[bytes], expected: list[bytes]) -> None:
    assert run(personality, *steps) == expected


@pytest.mark.parametrize("personality", ALL)
def test_control_characters_in_body_are_ignored(personality: str) -> None:
    assert run(personality, b"AT\x01E0\r", b"AT\r") == [b"AT\x01E0\r\r\nOK\r\n", b"\r\nOK\r\n"]


@pytest.mark.parametrize(("personality", "s7", "s10"), [
    ("conexant-v92", b"050", b"014"), ("agere-v92", b"050", b"020"),
    ("usr-v90", b"060", b"007"), ("hayes-basic", b"050", b"014")])
def test_register_defaults_read_as_three_digits(personality: str, s7: bytes, s10: bytes
                                                ) -> None:
    assert run(personality, b"ATS7?S10?S9?\r") == [
        b"ATS7?S10?S9?\r\r\n" + s7 + b"\r\n\r\n" + s10 + b"\r\n\r\n006\r\n\r\nOK\r\n"]


@pytest.mark.parametrize(("personality", "i0", "gmi"), [
    ("conexant-v92", b"56000", b"+GMI: CONEXANT"),
    ("agere-v92", b"LT V.92 1.0 MT5634ZBA Serial Data/Fax Modem Version 8.19i",
     b"Multi-Tech Systems"),
    ("usr-v90", b"5601", b"U.S. Robotics"),
    ("hayes-basic", b"144", b"HAYES")])
def test_identity(personality: str, i0: bytes, gmi: bytes) -> None:
    h = Harness(personality)
    assert h.send(b"ATE0I0\r") == b"ATE0I0\r\r\n" + i0 + b"\r\n\r\nOK\r\n"
    assert h.send(b"AT+GMI\r") == b"\r\n" + gmi + b"\r\n\r\nOK\r\n"
    assert h.send(b"AT+GMI=?\r") == b"\r\nOK\r\n"
    assert h.send(b"ATV0I0\r") == i0 + b"\r\n0\r"   # V0 info text: text CR LF


def test_conexant_ati3() -> None:
    assert run("conexant-v92", b"ATI3\r") == [
        b"ATI3\r\r\nCX93001-EIS_V0.2002-V92\r\n\r\nOK\r\n"]


def test_multiple_info_commands_one_final() -> None:
    assert run("conexant-v92", b"ATI0I3\r") == [
        b"ATI0I3\r\r\n56000\r\n\r\nCX93001-EIS_V0.2002-V92\r\n\r\nOK\r\n"]


@pytest.mark.parametrize(("personality", "x_max"), [
    ("conexant-v92", 4), ("agere-v92", 7), ("usr-v90", 7), ("hayes-basic", 4)])
def test_x_range(personality: str, x_max: int) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(f"ATX{x_max}\r".encode()) == b"\r\nOK\r\n"
    assert h.send(f"ATX{x_max + 1}\r".encode()) == b"\r\nERROR\r\n"


def test_a_slash_repeats_with_original_effect() -> None:
    h = Harness("conexant-v92")
    assert h.send(b"ATI0\r") == b"ATI0\r\r\n56000\r\n\r\nOK\r\n"
    assert h.send(b"A/") == b"A/\r\n56000\r\n\r\nOK\r\n"
    assert h.send(b"a/") == b"a/\r\n56000\r\n\r\nOK\r\n"


def test_backspace_edits_conexant_echoes_bs() -> None:
    assert run("conexant-v92", b"ATQ\x08I0\r") == [b"ATQ\x08I0\r\r\n56000\r\n\r\nOK\r\n"]


def test_backspace_edits_agere_echoes_bs_sp_bs() -> None:
    assert run("agere-v92", b"ATQ\x08E0\r") == [b"ATQ\x08 \x08E0\r\r\nOK\r\n"]


def test_backspace_cannot_delete_prefix() -> None:
    assert run("conexant-v92", b"AT\x08\x08\r") == [b"AT\x08\x08\r\r\nOK\r\n"]


@pytest.mark.parametrize("personality", ALL)
def test_line_length_limit(personality: str) -> None:
    h = Harness(personality)
    limit = h.dce.personality.max_line
    h.send(b"ATE0\r")
    body = b"V1" * (limit // 2) + b"V1"[: limit % 2]
    assert len(body) == limit
    assert h.send(b"AT" + body + b"\r") == b"\r\nOK\r\n"
    too_long = b"V0" + b"E1" * (limit // 2)          # one over: nothing may execute
    assert len(too_long) > limit
    assert h.send(b"AT" + too_long + b"\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT\r") == b"\r\nOK\r\n"         # still V1, still E0
    spaced = b" ".join([b"V1"] * (limit // 2))      # spaces do not count
    assert h.send(b"AT" + spaced + b"\r") == b"\r\nOK\r\n"


@pytest.mark.parametrize("personality", ALL)
def test_register_ranges_from_personality(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    for num, spec in h.dce.personality.registers.items():
        if num in (3, 4):
            continue  # they change the framing of the very result; tested byte-exactly above
        if spec.read_only:
            assert h.send(f"ATS{num}={spec.default}\r".encode()) == b"\r\nERROR\r\n"
            continue
        lo = min(r[0] for r in spec.ranges)
        hi = max(r[1] for r in spec.ranges)
        assert h.send(f"ATS{num}={lo}\r".encode()) == b"\r\nOK\r\n", num
        assert h.send(f"ATS{num}={hi}\r".encode()) == b"\r\nOK\r\n", num
        if hi < 255:
            assert h.send(f"ATS{num}={hi + 1}\r".encode()) == b"\r\nERROR\r\n", num
        if lo > 0:
            assert h.send(f"ATS{num}={lo - 1}\r".encode()) == b"\r\nERROR\r\n", num
        h.send(f"ATS{num}={spec.default}\r".encode())


def test_agere_s5_allows_only_0_32_and_127() -> None:
    h = Harness("agere-v92")
    h.send(b"ATE0\r")
    assert h.send(b"ATS5=100\r") == b"\r\nERROR\r\n"
    assert h.send(b"ATS5=127\r") == b"\r\nOK\r\n"


def test_agere_s10_255_is_out_of_range() -> None:
    assert run("agere-v92", b"ATS10=255\r") == [b"ATS10=255\r\r\nERROR\r\n"]


def test_conexant_s9_is_read_only() -> None:
    assert run("conexant-v92", b"ATS9=7\r") == [b"ATS9=7\r\r\nERROR\r\n"]


@pytest.mark.parametrize("personality", ALL)
def test_write_store_reset_factory(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"ATS0=2V0&W\r") == b"0\r"
    assert h.send(b"ATS0=5V1\r") == b"\r\nOK\r\n"
    assert h.send(b"ATZ\r") == b"0\r"                 # stored profile: V0, S0=2
    assert h.send(b"ATS0?\r") == b"002\r\n0\r"
    assert h.send(b"AT&F\r") == b"\r\nOK\r\n"        # factory: V1, E1, S0=0
    assert h.send(b"ATS0?\r") == b"ATS0?\r\r\n000\r\n\r\nOK\r\n"


def test_usr_does_not_store_s3_s4() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0\r")
    h.send(b"ATS4=33&W\r")
    assert h.send(b"ATZ\r") == b"\r\nOK\r\n"          # S4 back to 10, not stored


def test_amp_v_shows_active_and_stored_profiles() -> None:
    out = run("conexant-v92", b"AT&V\r")[0]
    assert out.startswith(b"AT&V\r\r\nACTIVE PROFILE:\r\nE1 Q0 V1 X4 &C1 &D2")
    assert b"S10:014" in out and b"STORED PROFILE 0:" in out and out.endswith(b"\r\nOK\r\n")


@pytest.mark.parametrize(("personality", "classes"), [
    ("conexant-v92", b"0,1,1.0"), ("agere-v92", b"0,1,1.0,2,2.0"), ("usr-v90", b"0,1,2.0"),
    ("hayes-basic", b"0")])
def test_fclass(personality: str, classes: bytes) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT+FCLASS=?\r") == b"\r\n" + classes + b"\r\n\r\nOK\r\n"
    last = classes.split(b",")[-1]
    assert h.send(b"AT+FCLASS=" + last + b"\r") == b"\r\nOK\r\n"
    assert h.send(b"AT+FCLASS?\r") == b"\r\n" + last + b"\r\n\r\nOK\r\n"
    assert h.send(b"AT+FCLASS=8\r") == b"\r\nERROR\r\n"
    assert h.send(b"ATZ\r") == b"\r\nOK\r\n"
    assert h.send(b"ATE0+FCLASS?\r") == b"ATE0+FCLASS?\r\r\n0\r\n\r\nOK\r\n"


def test_hayes_basic_rejects_fax_and_caller_id() -> None:
    assert run("hayes-basic", b"AT+FCLASS=1\r", b"AT+VCID=1\r") == [
        b"AT+FCLASS=1\r\r\nERROR\r\n", b"AT+VCID=1\r\r\nERROR\r\n"]


def test_extended_and_basic_commands_on_one_line() -> None:
    assert run("conexant-v92", b"AT+FCLASS=0;E0S0=1\r", b"ATS0?\r") == [
        b"AT+FCLASS=0;E0S0=1\r\r\nOK\r\n", b"\r\n001\r\n\r\nOK\r\n"]


def test_accepted_no_effect_commands() -> None:
    assert run("conexant-v92", b"ATM0L1&K3\r", b"ATM9\r") == [
        b"ATM0L1&K3\r\r\nOK\r\n", b"ATM9\r\r\nERROR\r\n"]


def test_usr_flow_control_commands() -> None:
    assert run("usr-v90", b"AT&H1&I0&R2\r", b"AT&K6\r") == [
        b"AT&H1&I0&R2\r\r\nOK\r\n", b"AT&K6\r\r\nERROR\r\n"]


# --- V.92 -----------------------------------------------------------------------------
@pytest.mark.parametrize(("personality", "pcw", "pmh"), [
    ("conexant-v92", b"0", b"0"), ("agere-v92", b"2", b"1")])
def test_v92_defaults_and_syntax(personality: str, pcw: bytes, pmh: bytes) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT+PCW?\r") == b"\r\n+PCW: " + pcw + b"\r\n\r\nOK\r\n"
    assert h.send(b"AT+PMH?\r") == b"\r\n+PMH: " + pmh + b"\r\n\r\nOK\r\n"
    assert h.send(b"AT+PCW=?\r") == b"\r\n+PCW: (0,1,2)\r\n\r\nOK\r\n"
    assert h.send(b"AT+PMHT=?\r") == b"\r\n+PMHT: (0-13)\r\n\r\nOK\r\n"
    assert h.send(b"AT+PQC=?\r") == b"\r\n+PQC: (0-3)\r\n\r\nOK\r\n"
    assert h.send(b"AT+PIG=?\r") == b"\r\n+PIG: (0,1)\r\n\r\nOK\r\n"
    assert h.send(b"AT+PMHT=13\r") == b"\r\nOK\r\n"
    assert h.send(b"AT+PMHT?\r") == b"\r\n+PMHT: 13\r\n\r\nOK\r\n"
    assert h.send(b"AT+PMHT=14\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT+PCW=3\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT+PCW=\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT+PMHR\r") == b"\r\nERROR\r\n"      # idle: no MOH to request


def test_agere_v92_values_survive_factory_reset() -> None:
    h = Harness("agere-v92")
    h.send(b"ATE0\r")
    h.send(b"AT+PCW=0\r")
    assert h.send(b"AT&F\r") == b"\r\nOK\r\n"
    assert h.send(b"AT+PCW?\r") == b"AT+PCW?\r\r\n+PCW: 0\r\n\r\nOK\r\n"


def test_conexant_v92_values_reset_by_factory() -> None:
    h = Harness("conexant-v92")
    h.send(b"ATE0\r")
    h.send(b"AT+PCW=2\r")
    h.send(b"AT&F\r")
    assert h.send(b"AT+PCW?\r") == b"AT+PCW?\r\r\n+PCW: 0\r\n\r\nOK\r\n"


@pytest.mark.parametrize("personality", NON_V92)
@pytest.mark.parametrize("command", [b"+PCW=2", b"+PCW?", b"+PCW=?", b"+PMH=1", b"+PMHT=1",
                                     b"+PMHR", b"+PQC=0", b"+PIG=1", b"+PMH?"])
def test_non_v92_rejects_every_p_command(personality: str, command: bytes) -> None:
    assert run(personality, b"AT" + command + b"\r") == [b"AT" + command + b"\r\r\nERROR\r\n"]


@pytest.mark.parametrize("personality", ["conexant-v92", "agere-v92", "usr-v90"])
def test_vcid_syntax(personality: str) -> None:
    assert run(personality, b"AT+VCID=?\r", b"AT+VCID=1\r", b"AT+VCID?\r", b"AT+VCID=3\r") == [
        b"AT+VCID=?\r\r\n(0-2)\r\n\r\nOK\r\n", b"AT+VCID=1\r\r\nOK\r\n",
        b"AT+VCID?\r\r\n1\r\n\r\nOK\r\n", b"AT+VCID=3\r\r\nERROR\r\n"]


@pytest.mark.parametrize(("data", "expected"), [
    (b"aT\r", b"aT\r\r\nOK\r\n"),                  # mixed case prefix
    (b"AAT\r", b"AAT\r\r\nOK\r\n"),                # repeated A still starts a prefix
    (b"AxT\r", b"AxT\r"),                          # broken prefix: no command line
    (b"\x80\xd4\r", b"\x80\xd4\r"),                # bit 7 stripped: "\0T" is no prefix
    (b"\xc1\xd4\r", b"\xc1\xd4\r\r\nOK\r\n"),      # "AT" with bit 7 set, echoed as received
])
def test_prefix_detection(data: bytes, expected: bytes) -> None:
    assert run("conexant-v92", data) == [expected]


@pytest.mark.parametrize("personality", ["conexant-v92", "agere-v92"])
def test_gci_country(personality: str) -> None:
    assert run(personality, b"ATE0+GCI?\r")[0].endswith(b"\r\n+GCI: B5\r\n\r\nOK\r\n")
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT+GCI=?\r") == b"\r\n+GCI: (B5,B4,04,3D,00,20)\r\n\r\nOK\r\n"
    assert h.send(b"AT+GCI=3d\r") == b"\r\nOK\r\n"
    assert h.send(b"AT+GCI?\r") == b"\r\n+GCI: 3D\r\n\r\nOK\r\n"
    assert h.send(b"AT+GCI=99\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT&FZ\r") == b"\r\nOK\r\n"       # country is not a profile setting
    assert h.send(b"AT+GCI?\r") == b"AT+GCI?\r\r\n+GCI: 3D\r\n\r\nOK\r\n"


@pytest.mark.parametrize("personality", NON_V92)
def test_gci_unsupported(personality: str) -> None:
    assert run(personality, b"AT+GCI?\r") == [b"AT+GCI?\r\r\nERROR\r\n"]


def test_ati5_shows_current_country() -> None:
    assert run("conexant-v92", b"ATI5\r", b"AT+GCI=B4;I5\r") == [
        b"ATI5\r\r\nB5\r\n\r\nOK\r\n", b"AT+GCI=B4;I5\r\r\nB4\r\n\r\nOK\r\n"]
