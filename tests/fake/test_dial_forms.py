"""``DL`` (redial), ``&Zn=`` / ``DS=n`` (stored numbers) and ``R`` (reverse), byte-exact
per personality on a manual clock, and ``R`` through the exchange."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modemctl.fake import DceState, Exchange, available_personalities
from modemctl.fake.dialstring import DialStringError, expand_dial_string
from tests.fake.helpers import Harness, PtyClient
from tests.fake.test_dce_calls import DIAL_TIME
from tests.support import wait_until

ALL = available_personalities()


@pytest.mark.parametrize("personality", ALL)
def test_ds_dials_the_stored_number_not_the_digit(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT&Z2=555-1002\r") == b"\r\nOK\r\n"
    h.send(b"ATDS=2\r")
    h.advance(DIAL_TIME)
    assert h.telco.placed[0].digits == "5551002"


@pytest.mark.parametrize("personality", ALL)
def test_amp_z_forms_and_errors(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"AT&Z=T9,1234\r") == b"\r\nOK\r\n"       # no n: location 0
    assert h.dce.numbers[0] == "T9,1234"
    assert h.send(b"AT&Z4=1\r") == b"\r\nERROR\r\n"           # only 0-3
    assert h.send(b"AT&ZX=1\r") == b"\r\nERROR\r\n"
    too_long = b"1" * (h.dce.personality.stored_number_len + 1)
    assert h.send(b"AT&Z1=" + too_long + b"\r") == b"\r\nERROR\r\n"
    assert h.send(b"AT&Z0=\r") == b"\r\nOK\r\n"               # no string clears it
    assert h.send(b"ATDS=0\r") == b"\r\nERROR\r\n"            # empty location
    assert not h.dce.off_hook


@pytest.mark.parametrize("personality", ALL)
def test_stored_numbers_survive_reset_and_power_cycle_last_number_does_not(
        personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0&Z1=5551002\r")
    h.send(b"ATDT5559999\r")
    h.advance(DIAL_TIME)
    h.send(b"ATH\r")
    h.send(b"ATZ\r")
    h.send(b"ATE0\r")
    assert h.send(b"ATDL\r") == b""                           # L survives ATZ
    h.advance(DIAL_TIME)
    assert h.telco.placed[-1].digits == "5559999"
    h.send(b"ATH\r")
    h.dce.power_cycle()
    h.send(b"ATE0\r")
    assert h.send(b"ATDL\r") == b"\r\nERROR\r\n"              # nothing dialled since power-up
    h.send(b"ATDS=1\r")
    h.advance(DIAL_TIME)
    assert h.telco.placed[-1].digits == "5551002"


def test_dl_redials_the_last_string_with_its_modifiers() -> None:
    h = Harness()
    h.send(b"ATE0DP*70,5551002@\r")
    h.advance(30)
    h.send(b"ATH\r")
    h.out.take()
    h.send(b"ATDL\r")
    h.advance(30)
    last = h.telco.placed[-1]
    assert last.segments == (("P", "705551002"),) and last.quiet_answer
    assert last.dial_string == "P*70,5551002@"


def test_expand_only_treats_a_leading_l_as_redial() -> None:
    assert expand_dial_string("L", last="T123", stored=()) == "T123"
    assert expand_dial_string(" L,9", last="5", stored=()) == "5,9"
    assert expand_dial_string("T9,S=1", last=None, stored=("", "555")) == "T9,555"
    with pytest.raises(DialStringError):
        expand_dial_string("S=", last=None, stored=("1",))


def test_r_is_a_reverse_request() -> None:
    h = Harness()
    h.send(b"ATE0DT5551002R\r")
    h.advance(DIAL_TIME)
    assert h.telco.placed[0].reverse and h.telco.placed[0].digits == "5551002"


async def test_reverse_call_never_trains_with_an_answering_modem(
        open_client: Callable[[str], PtyClient]) -> None:
    """Both modems in answer mode: no CONNECT, each ends with NO CARRIER after its S7."""
    async with Exchange(time_scale=0.05) as ex:
        a = await ex.add_line("5551001", "conexant-v92")
        b = await ex.add_line("5551002", "conexant-v92")
        ca, cb = open_client(a.tty_path), open_client(b.tty_path)
        await ca.command(b"ATE0S7=10\r")
        await cb.command(b"ATE0S7=10\r")
        ca.write(b"ATDT5551002R\r")
        await cb.expect(b"\r\nRING\r\n", within=10)
        cb.write(b"ATA\r")
        out_b = await cb.expect(b"\r\nNO CARRIER\r\n", within=10)
        out_a = await ca.expect(b"\r\nNO CARRIER\r\n", within=10)
        assert b"CONNECT" not in out_a + out_b
        await wait_until(lambda: a.dce.state is DceState.COMMAND, "caller back in command state")
        assert a.call_log[-1].outcome == "unanswered"
