"""Result codes beyond the universal 0-8, byte-exact per personality: the numeric CONNECT
tables (Conexant vs Lucent numbering), DELAYED/BLACKLISTED by X level, Agere's X7."""

from __future__ import annotations

import pytest

from modemctl.fake import DceState, Exchange, FaultError
from tests.fake.helpers import Harness
from tests.fake.test_dce_calls import dial_connected


@pytest.mark.parametrize(("personality", "rate", "code"), [
    ("agere-v92", 14400, b"13\r"), ("agere-v92", 7200, b"24\r"), ("agere-v92", 16800, b"86\r"),
    ("agere-v92", 28800, b"58\r"), ("conexant-v92", 14400, b"15\r"),
    ("conexant-v92", 7200, b"13\r"), ("conexant-v92", 28800, b"64\r"),
    ("usr-v90", 14400, b"25\r"), ("usr-v90", 28800, b"107\r"),
])
def test_numeric_connect_tables_differ_by_family(personality: str, rate: int,
                                                 code: bytes) -> None:
    _, out = dial_connected(b"V0", personality, rate)
    assert out == code


@pytest.mark.parametrize(("x", "out"), [(7, b"\r\nCONNECT\r\n"), (5, b"\r\nCONNECT 33600\r\n")])
def test_agere_x7_reports_plain_connect(x: int, out: bytes) -> None:
    _, got = dial_connected(f"X{x}".encode(), "agere-v92", 33600)
    assert got == out


def blacklisted(personality: str, result: str) -> Harness:
    h = Harness(personality)
    h.dce.blacklist["5551002"] = result
    h.send(b"ATE0\r")
    return h


@pytest.mark.parametrize(("personality", "x", "out"), [
    ("conexant-v92", 4, b"\r\nBLACKLISTED\r\n"),
    ("conexant-v92", 3, b"\r\nERROR\r\n"),
    ("conexant-v92", 0, b"\r\nERROR\r\n"),
    ("agere-v92", 5, b"\r\nBLACKLISTED\r\n"),
    ("agere-v92", 7, b"\r\nBLACKLISTED\r\n"),
    ("agere-v92", 4, b"\r\nERROR\r\n"),
])
def test_blacklisted_number_by_x_level(personality: str, x: int, out: bytes) -> None:
    h = blacklisted(personality, "BLACKLISTED")
    h.send(f"ATX{x}\r".encode())
    assert h.send(b"ATDT555-1002\r") == out
    assert not h.dce.off_hook and h.dce.state is DceState.COMMAND and not h.telco.placed
    h.advance(60)
    assert not h.telco.placed and h.out.take() == b""


@pytest.mark.parametrize(("personality", "x", "delayed", "black"), [
    ("conexant-v92", 4, b"24\r", b"32\r"), ("agere-v92", 5, b"88\r", b"89\r")])
def test_delayed_and_blacklisted_numeric(personality: str, x: int, delayed: bytes,
                                         black: bytes) -> None:
    h = blacklisted(personality, "DELAYED")
    h.dce.blacklist["5551003"] = "BLACKLISTED"
    h.send(f"ATX{x}V0\r".encode())
    assert h.send(b"ATD5551002\r") == delayed
    assert h.send(b"ATD5551003\r") == black


def test_other_numbers_still_dial_and_power_off_forgets_the_blacklist() -> None:
    h = blacklisted("conexant-v92", "DELAYED")
    assert h.send(b"ATDT5551003\r") == b""
    assert h.dce.state is DceState.DIALING
    h.send(b"ATH\r")
    h.dce.power_cycle()
    h.send(b"ATE0\r")
    assert h.send(b"ATDT5551002\r") == b""
    assert h.dce.state is DceState.DIALING


async def test_blacklist_fault_sets_and_lifts_and_is_refused_without_a_blacklist() -> None:
    async with Exchange(time_scale=0.05) as ex:
        con = await ex.add_line("5551001", "conexant-v92")
        usr = await ex.add_line("5551002", "usr-v90")
        con.inject("blacklist", number="5551002", result="delayed")
        assert con.dce.blacklist == {"5551002": "DELAYED"}
        con.inject("blacklist", number=5551002, result="none")
        assert con.dce.blacklist == {}
        with pytest.raises(FaultError, match="keeps no blacklist"):
            usr.inject("blacklist", number="5551001")
        with pytest.raises(FaultError, match="delayed, blacklisted or none"):
            con.inject("blacklist", number="5551002", result="maybe")
        with pytest.raises(FaultError, match="digits"):
            con.inject("blacklist", number="call me")


@pytest.mark.parametrize(("personality", "x", "out"), [
    ("agere-v92", 5, b"\r\nRRING\r\n"), ("agere-v92", 4, b""),
    ("usr-v90", 5, b"\r\nRINGING\r\n"), ("usr-v90", 4, b""),
    ("conexant-v92", 4, b""), ("hayes-basic", 4, b""),
])
def test_ringback_result_per_family(personality: str, x: int, out: bytes) -> None:
    h = Harness(personality)
    h.send(f"ATE0X{x}DT5551002\r".encode())
    h.advance(5)
    h.dce.ringback()
    assert h.out.take() == out
    h.dce.ringback()
    assert h.out.take() == out                      # once per ring cycle


def test_usr_ringing_numeric_and_no_ringback_outside_a_dial() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0X5V0\r")
    h.dce.ringback()                                # not dialling: nothing
    assert h.out.take() == b""
    h.send(b"ATDT5551002\r")
    h.advance(5)
    h.dce.ringback()
    assert h.out.take() == b"11\r"


@pytest.mark.parametrize(("ceased", "text"), [(False, b"NO ANSWER"), (True, b"NO CARRIER")])
def test_conexant_s7_expiry_after_ringback_continues_or_ceases(ceased: bool,
                                                               text: bytes) -> None:
    """Conexant: ringback until S7 is NO ANSWER; ringback that ceased (the far end went
    off-hook without a carrier) is NO CARRIER."""
    h = Harness("conexant-v92")
    h.send(b"ATE0S7=20DT5551002\r")
    h.advance(5)
    h.dce.ringback()
    if ceased:
        h.dce.ringback(False)
    assert h.advance(20) == b"\r\n" + text + b"\r\n"
