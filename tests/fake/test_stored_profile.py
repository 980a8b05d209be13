"""The stored profile: &W stores, ATZ and a power cycle restore, and a fault rewrites it.

V.250 §6.1.1 (Z) and §6.1.2 (&F): the OK of the reset is sent "using the new
values for parameters that affect the format of result codes (e.g. Q, V, S3,
S4)", so a modem whose stored profile says V0 answers ``ATZ`` with ``0``.
Agere: Z goes on-hook and restores the profile of the last &W; Z0 and Z1 are
the same single profile; USR does not store S3/S4 (reference
modem-firmware-facts.md §1.4).  These tests give a driver (issue 8 item 1)
the modem that comes up in a format it did not set.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modemctl.fake import Exchange, FaultError, available_personalities
from tests.fake.helpers import Harness, PtyClient, link_exists

ALL = available_personalities()
Opener = Callable[[str], PtyClient]


@pytest.mark.parametrize("personality", ALL)
def test_atz_answers_in_the_restored_format_and_restores_e_q_v(personality: str) -> None:
    h = Harness(personality)
    assert h.send(b"ATE0V0\r") == b"ATE0V0\r0\r"          # echoed as typed, OK numeric
    assert h.send(b"AT&W\r") == b"0\r"
    assert h.send(b"ATE1V1\r") == b"\r\nOK\r\n"           # typed unechoed (E0 then)
    assert h.send(b"ATZ\r") == b"ATZ\r0\r"                # echo of E1, OK in the stored V0
    assert h.send(b"AT\r") == b"0\r"                      # E0 restored too
    assert h.send(b"ATQ1&W1\r") == b""                    # &W1: the same single profile
    assert h.send(b"ATQ0\r") == b"0\r"
    assert h.send(b"ATZ1\r") == b""                       # quiet restored: no result at all
    assert h.send(b"ATQ0V1E1\r") == b"\r\nOK\r\n"


@pytest.mark.parametrize("personality", ALL)
def test_atz_restores_the_stored_x_level(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0X0&W\r")
    assert h.send(b"ATX4\r") == b"\r\nOK\r\n"
    assert h.send(b"ATZ\r") == b"\r\nOK\r\n"
    h.send(b"ATD5551002\r")
    h.advance(10)                        # blind dialling (X0): S6, then the digits
    assert [r.digits for r in h.telco.placed] == ["5551002"]
    h.dce.call_failed("busy")
    assert h.out.take() == b"\r\nNO CARRIER\r\n"         # X0 cannot say BUSY; X4 would


@pytest.mark.parametrize("personality", ALL)
def test_power_cycle_restores_the_stored_profile_and_forgets_the_rest(personality: str) -> None:
    h = Harness(personality)
    assert h.send(b"ATE0V0S0=3S7=45&W\r") == b"ATE0V0S0=3S7=45&W\r0\r"
    assert h.send(b"ATE1V1S0=0S7=60\r") == b"\r\nOK\r\n"
    h.dce.ring(True)
    assert h.out.take() == b"\r\nRING\r\n"
    assert h.dce.registers[1] == 1
    h.dce.power_cycle()
    assert h.out.take() == b""                            # no banner from the interpreter
    assert h.send(b"ATS0?S7?S1?\r") == b"003\r\n045\r\n000\r\n0\r"
    assert not h.dce.ri


def test_usr_stored_profile_leaves_s3_s4_at_their_defaults_after_a_power_cycle() -> None:
    h = Harness("usr-v90")
    h.send(b"ATE0\r")
    assert h.send(b"ATS4=13&W\r") == b"\r\rOK\r\r"        # LF is now CR: the reply shows it
    h.dce.power_cycle()
    assert h.send(b"AT\r") == b"\r\nOK\r\n"               # S4 not stored: back to LF


@pytest.mark.parametrize("personality", ALL)
async def test_injected_stored_profile_shows_after_atz(exchange: Exchange, open_client: Opener,
                                                       personality: str) -> None:
    line = await exchange.add_line("5551001", personality=personality)
    c = open_client(line.port)
    assert await c.command(b"ATE0V1\r") == b"ATE0V1\r\r\nOK\r\n"   # the driver's format
    line.inject("stored-profile", v=0, e=1, s0=2)
    assert await c.command(b"AT\r") == b"\r\nOK\r\n"               # nothing changes yet...
    assert await c.command(b"ATZ\r", final=b"0\r") == b"0\r"       # ...until ATZ
    assert await c.command(b"ATS0?\r", final=b"0\r") == b"ATS0?\r002\r\n0\r"


async def test_injected_stored_profile_with_reboot_comes_up_quiet(exchange: Exchange,
                                                                  open_client: Opener) -> None:
    line = await exchange.add_line("5551001", personality="agere-v92")
    c = open_client(line.port)
    await c.command(b"ATE0\r")
    line.inject("stored-profile", q=1, e=0, reboot=True)
    c.write(b"AT\r")                                    # no result (Q1), no echo (E0)...
    assert await c.command(b"ATQ0\r") == b"\r\nOK\r\n"  # ...so the first bytes are this OK
    line.inject("clear")                                # not a standing fault: it stays
    line.inject("reboot")
    c.write(b"AT\r")
    assert await c.command(b"ATQ0\r") == b"\r\nOK\r\n"


async def test_stored_profile_survives_unplug_and_replug(exchange: Exchange,
                                                         open_client: Opener) -> None:
    line = await exchange.add_line("5551001", personality="usr-v90")
    line.inject("stored-profile", v=0)
    line.inject("unplug")
    await line.replug()
    c = open_client(line.port)
    assert await c.command(b"AT\r", final=b"0\r") == b"AT\r0\r"   # came up in V0


@pytest.mark.parametrize("params", [
    {"v": 2}, {"q": "1"}, {"x": 9}, {"s1": 5}, {"s99": 1}, {"w": 1}, {"reboot": 1},
    {"e": True}])
async def test_stored_profile_rejects_what_the_firmware_would(exchange: Exchange,
                                                              params: dict[str, object]) -> None:
    line = await exchange.add_line("5551001", personality="conexant-v92")
    before = line.dce.stored.copy()
    with pytest.raises(FaultError):
        line.inject("stored-profile", **params)
    assert line.dce.stored == before


async def test_unplug_is_permanent_until_replug_and_clear_does_not_replug(
        exchange: Exchange, open_client: Opener) -> None:
    line = await exchange.add_line("5551001")
    other = await exchange.add_line("5551002")
    seen: list[list[str]] = []
    exchange.on_plugging_changed(
        lambda: seen.append([ln.number for ln in exchange.plugged_lines()]))
    line.inject("unplug")
    assert seen == [["5551002"]]                        # told at once, synchronously
    assert not link_exists(line.port) and line.state == "unplugged"
    line.inject("clear")
    assert line.state == "unplugged" and seen == [["5551002"]]
    await line.replug()
    assert seen == [["5551002"], ["5551001", "5551002"]]
    assert link_exists(line.port) and line.state == "command"
    assert await open_client(line.port).command(b"AT\r") == b"AT\r\r\nOK\r\n"
    await line.replug()                                 # plugged in: nothing happens
    assert len(seen) == 2 and other.state == "command"
