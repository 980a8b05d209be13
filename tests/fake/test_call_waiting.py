"""Every call-waiting rule of modemctl.fake (design.md), on every personality.

A call is set up between a *target* line and a *far* line over real ptys; a
third party then calls the target (``ring_in``, or a third fake line dialling
it).  The rules decide, by register values, whether the call survives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from modemctl.fake import Exchange, available_personalities
from tests.fake.helpers import PtyClient
from tests.support import wait_until

ALL = available_personalities()
V92 = {"conexant-v92", "agere-v92"}
SCALE = 0.02
Opener = Callable[[str], PtyClient]


@pytest.fixture
async def ex() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as exchange:
        yield exchange


@dataclass
class Setup:
    target: PtyClient
    far: PtyClient


async def connect(ex: Exchange, opener: Opener, target: str, far: str = "conexant-v92",
                  target_cmd: bytes = b"", far_cmd: bytes = b"", target_dials: bool = True,
                  prefix: bytes = b"T") -> Setup:
    """Connect line 5551001 (target) with 5551002 (far); the dialler uses ``prefix``."""
    t = await ex.add_line("5551001", personality=target)
    f = await ex.add_line("5551002", personality=far)
    ct, cf = opener(t.port), opener(f.port)
    await ct.command(b"ATE0" + target_cmd + b"\r")
    await cf.command(b"ATE0" + far_cmd + b"\r")
    dialler, answerer = (ct, cf) if target_dials else (cf, ct)
    number = b"5551002" if target_dials else b"5551001"
    await answerer.command(b"ATS0=1\r")
    dialler.write(b"ATD" + prefix + number + b"\r")
    await ct.expect(b"\r\nCONNECT ")
    await cf.expect(b"\r\nCONNECT ")
    await ct.expect(b"\r\n")
    await cf.expect(b"\r\n")
    return Setup(ct, cf)


async def assert_survived(ex: Exchange, s: Setup) -> None:
    line = ex.lines["5551001"]
    # the 300 ms interruption is over: carrier back (a modem about to hang up never
    # gets it back, it says NO CARRIER instead)
    await wait_until(lambda: line.dce.carrier, "carrier back after the call-waiting tone")
    assert line.state == "online-data"
    s.far.write(b"still here")
    assert await s.target.read_exactly(10) == b"still here"
    s.target.write(b"and here")
    assert await s.far.read_exactly(8) == b"and here"


async def assert_dropped(ex: Exchange, s: Setup) -> None:
    await s.target.expect(b"\r\nNO CARRIER\r\n")
    await s.far.expect(b"\r\nNO CARRIER\r\n")
    assert ex.lines["5551001"].state == "command"
    assert ex.lines["5551001"].call_log[0].ended_by == "call-waiting"


def default_outcome(personality: str) -> str:
    """With factory settings and a non-granting far end (design.md summary)."""
    return {"conexant-v92": "waiting-dropped", "agere-v92": "waiting-ignored",
            "usr-v90": "waiting-dropped", "hayes-basic": "waiting-ignored"}[personality]


# --- rule 1: the cancel code ------------------------------------------------------------
@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize("prefix", [b"T*70,", b"P1170,", b"T*70W"])
async def test_rule1_cancel_code_makes_third_party_busy(ex: Exchange, open_client: Opener,
                                                        personality: str, prefix: bytes) -> None:
    s = await connect(ex, open_client, personality, prefix=prefix)
    record = ex.lines["5551001"].call_log[0]
    assert record.cancel_code and record.peer == "5551002"
    party = await ex.ring_in("5551001", caller="5559999")
    assert not await party.answered()
    assert party.outcome == "busy"
    await assert_survived(ex, s)


@pytest.mark.parametrize("personality", ALL)
async def test_rule1_dialling_third_line_hears_busy(ex: Exchange, open_client: Opener,
                                                    personality: str) -> None:
    s = await connect(ex, open_client, personality, prefix=b"T*70,")
    third = await ex.add_line("5551003", personality="hayes-basic")
    c3 = open_client(third.port)
    await c3.command(b"ATE0\r")
    c3.write(b"ATDT5551001\r")
    await c3.expect(b"\r\nBUSY\r\n")
    await assert_survived(ex, s)


@pytest.mark.parametrize("personality", ALL)
async def test_rule1_cancel_code_protects_only_the_line_that_dialled_it(
        ex: Exchange, open_client: Opener, personality: str) -> None:
    """The far end dialled *70; the target answered, so the target is not protected."""
    s = await connect(ex, open_client, personality, target_dials=False, prefix=b"T*70,")
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == default_outcome(personality)
    if party.outcome == "waiting-dropped":
        await assert_dropped(ex, s)
    else:
        await assert_survived(ex, s)


async def test_rule1_the_codes_are_the_line_carriers(ex: Exchange, open_client: Opener) -> None:
    """A line whose carrier cancels with *52 is protected by *52; *70 is mere digits there."""
    nz = await ex.add_line("5551001", personality="hayes-basic", cancel_codes=(("T", "*52"),))
    far = await ex.add_line("5551002", personality="hayes-basic")
    client, far_client = open_client(nz.port), open_client(far.port)
    await client.command(b"ATE0S7=1\r")
    await far_client.command(b"ATE0S0=1\r")
    client.write(b"ATDT*70,5551002\r")              # no such number: S7 runs out
    await client.expect(b"\r\nNO CARRIER\r\n")
    assert not nz.call_log[-1].cancel_code and nz.call_log[-1].peer == "*705551002"
    await client.command(b"ATS7=50\r")
    client.write(b"ATDT*52,5551002\r")
    await client.expect(b"\r\nCONNECT ")
    assert nz.call_log[-1].cancel_code and nz.call_log[-1].peer == "5551002"
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == "busy"


async def test_add_line_refuses_a_cancel_code_that_is_no_dial_code(ex: Exchange) -> None:
    with pytest.raises(ValueError, match="cancel code"):
        await ex.add_line("5551001", cancel_codes=(("T", "*52;ATH"),))
    with pytest.raises(ValueError, match="cancel code"):
        await ex.add_line("5551001", cancel_codes=(("X", "*52"),))


# --- factory defaults, every personality ---------------------------------------------------
@pytest.mark.parametrize("personality", ALL)
async def test_unprotected_call_with_factory_settings(ex: Exchange, open_client: Opener,
                                                      personality: str) -> None:
    s = await connect(ex, open_client, personality)
    party = await ex.ring_in("5551001", caller="5559999", name="ALICE")
    assert party.outcome == default_outcome(personality)
    if personality in {"conexant-v92", "usr-v90"}:
        await assert_dropped(ex, s)
    else:
        await assert_survived(ex, s)


# --- rule 2: +PCW on V.92 personalities; rule 4: ERROR elsewhere ---------------------------
@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize(("cmd", "outcome"), [
    (b"+PCW=2", "waiting-ignored"),
    (b"+PCW=1;+PMH=0", "waiting-dropped"),       # S10 irrelevant: hang up at once
    (b"+PCW=0;+PMH=0", "waiting-dropped"),       # far end does not grant MOH
])
async def test_rule2_pcw(ex: Exchange, open_client: Opener, personality: str, cmd: bytes,
                         outcome: str) -> None:
    if personality not in V92:
        t = await ex.add_line("5551001", personality=personality)
        c = open_client(t.port)
        assert await c.command(b"ATE0" + cmd + b"\r", b"ERROR\r\n") == b"ATE0" + cmd + \
            b"\r\r\nERROR\r\n"
        return
    s = await connect(ex, open_client, personality, target_cmd=cmd + b";S10=50")
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == outcome
    if outcome == "waiting-dropped":
        await assert_dropped(ex, s)
    else:
        await assert_survived(ex, s)


@pytest.mark.parametrize("personality", sorted(V92))
@pytest.mark.parametrize(("far", "far_cmd", "outcome"), [
    ("agere-v92", b"+PMHT=1", "waiting-held"),       # V.92 far end granting MOH
    ("conexant-v92", b"+PMHT=2", "waiting-held"),      # held 20 s, then retrain
    ("agere-v92", b"+PMHT=0", "waiting-dropped"),    # V.92 but denies MOH
    ("usr-v90", b"", "waiting-dropped"),             # not V.92: never grants
])
async def test_rule2_modem_on_hold(ex: Exchange, open_client: Opener, personality: str,
                                   far: str, far_cmd: bytes, outcome: str) -> None:
    s = await connect(ex, open_client, personality, far=far,
                      target_cmd=b"+PCW=0;+PMH=0;S10=50", far_cmd=far_cmd)
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == outcome
    if outcome == "waiting-held":
        assert ex.lines["5551001"].dce.on_hold
        await assert_survived(ex, s)
        assert ex.lines["5551001"].call_log[0].call_waiting == ["held"]
    else:
        await assert_dropped(ex, s)


@pytest.mark.parametrize("personality", sorted(V92))
async def test_indefinite_hold_resumes_on_pmhf(ex: Exchange, open_client: Opener,
                                              personality: str) -> None:
    """+PMHT=13 on the far end: held until the target flashes back with +PMHF."""
    s = await connect(ex, open_client, personality, far="agere-v92",
                      target_cmd=b"+PCW=0;+PMH=0", far_cmd=b"+PMHT=13")
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == "waiting-held"
    line = ex.lines["5551001"]
    assert line.dce.on_hold and not line.dce.carrier
    s.far.write(b"during hold")
    await wait_until(lambda: line.dce.held_backlog == 11, "far data kept during the hold")
    await ex.clock.sleep(1.5)                        # S12 guard before +++
    s.target.write(b"+++")
    await s.target.expect(b"\r\nOK\r\n")
    await s.target.command(b"AT+PMHF\r")
    await wait_until(lambda: line.dce.carrier, "carrier back after +PMHF and the retrain")
    s.target.write(b"ATO\r")
    assert await s.target.expect(b"during hold") == b"\r\nCONNECT 33600\r\nduring hold"
    assert await s.far.read_exactly(3) == b"+++"     # escape characters go to the line (§1.7)
    await assert_survived(ex, s)


# --- rule 3: S10 ride-through and the Conexant quirk ---------------------------------------
def rule3_cmd(personality: str, s10: int) -> bytes:
    """Registers for rule 3: V.92 personalities need +PCW=0 +PMH=1 to get there."""
    v92 = b"+PCW=0;+PMH=1;" if personality in V92 else b""
    return v92 + f"S10={s10}".encode()


@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize(("s10", "survives"), [(9, False), (10, True), (7, False), (14, True)])
async def test_rule3_ride_through(ex: Exchange, open_client: Opener, personality: str, s10: int,
                                  survives: bool) -> None:
    """S9=6 everywhere: survive iff (S10-6)*100 ms > 300 ms (S10 < 16 avoids the quirk)."""
    s = await connect(ex, open_client, personality, target_cmd=rule3_cmd(personality, s10))
    party = await ex.ring_in("5551001", caller="5559999")
    if survives:
        assert party.outcome == "waiting-ignored"
        await assert_survived(ex, s)
        assert ex.lines["5551001"].call_log[0].call_waiting == ["rode-through"]
    else:
        assert party.outcome == "waiting-dropped"
        await assert_dropped(ex, s)


@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize("s10", [16, 50, 254])
async def test_rule3_high_s10_and_conexant_us_quirk(ex: Exchange, open_client: Opener,
                                                    personality: str, s10: int) -> None:
    """S10 >= 16 rides through everywhere except Conexant with a US country code."""
    s = await connect(ex, open_client, personality, target_cmd=rule3_cmd(personality, s10))
    party = await ex.ring_in("5551001", caller="5559999")
    if personality == "conexant-v92":
        assert party.outcome == "waiting-dropped"
        await assert_dropped(ex, s)
    else:
        assert party.outcome == "waiting-ignored"
        await assert_survived(ex, s)


@pytest.mark.parametrize("personality", ["usr-v90", "hayes-basic", "conexant-v92"])
async def test_rule3_s10_255_never_hangs_up(ex: Exchange, open_client: Opener,
                                            personality: str) -> None:
    s = await connect(ex, open_client, personality, target_cmd=rule3_cmd(personality, 255))
    party = await ex.ring_in("5551001", caller="5559999")
    expected = "waiting-dropped" if personality == "conexant-v92" else "waiting-ignored"
    assert party.outcome == expected                 # Conexant: the quirk comes first
    if expected == "waiting-ignored":
        await assert_survived(ex, s)


def test_agere_rejects_s10_255() -> None:
    """Agere's S10 range is 1-254, so 'never hang up' is not available there."""
    from tests.fake.helpers import Harness
    assert Harness("agere-v92").send(b"ATE0S10=255\r") == b"ATE0S10=255\r\r\nERROR\r\n"


# --- a third fake line calling a line in a call ------------------------------------------
@pytest.mark.parametrize("personality", ALL)
async def test_third_line_meets_call_waiting_and_times_out(ex: Exchange, open_client: Opener,
                                                           personality: str) -> None:
    s = await connect(ex, open_client, personality)
    third = await ex.add_line("5551003", personality="usr-v90")
    c3 = open_client(third.port)
    await c3.command(b"ATE0S7=5\r")
    c3.write(b"ATDT5551001@\r")
    await c3.expect(b"\r\nNO ANSWER\r\n")            # rings until S7, never busy
    if default_outcome(personality) == "waiting-dropped":
        await assert_dropped(ex, s)
    else:
        await assert_survived(ex, s)


# --- Agere X5: CALL WAITING DETECTED -----------------------------------------------------
async def test_agere_x5_reports_call_waiting_in_online_command(ex: Exchange,
                                                               open_client: Opener) -> None:
    s = await connect(ex, open_client, "agere-v92", target_cmd=b"X5S12=0")  # no guard time
    s.target.write(b"+++")
    await s.target.expect(b"\r\nOK\r\n")
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == "waiting-ignored"
    await s.target.expect(b"\r\nCALL WAITING DETECTED\r\n")
    assert await s.target.command(b"ATO\r", b"\r\nCONNECT 33600\r\n")


async def test_agere_x4_is_silent_about_call_waiting(ex: Exchange, open_client: Opener) -> None:
    s = await connect(ex, open_client, "agere-v92", target_cmd=b"S12=0")    # no guard time
    s.target.write(b"+++")
    await s.target.expect(b"\r\nOK\r\n")
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == "waiting-ignored"           # decided (and reported) by now
    assert await s.target.command(b"AT\r") == b"\r\nOK\r\n"   # and nothing came before


async def test_call_waiting_on_line_not_yet_connected_is_busy(ex: Exchange,
                                                             open_client: Opener) -> None:
    t = await ex.add_line("5551001", personality="conexant-v92")
    c = open_client(t.port)
    await c.command(b"ATE0H1\r")                      # off-hook, no call: plain busy
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == "busy"


@pytest.mark.parametrize(("country", "outcome"), [("B5", "waiting-dropped"),
                                                  ("B4", "waiting-ignored")])
async def test_conexant_quirk_needs_us_country_code(ex: Exchange, open_client: Opener,
                                                    country: str, outcome: str) -> None:
    cmd = b"+GCI=" + country.encode() + b";" + rule3_cmd("conexant-v92", 30)
    s = await connect(ex, open_client, "conexant-v92", target_cmd=cmd)
    party = await ex.ring_in("5551001", caller="5559999")
    assert party.outcome == outcome
    if outcome == "waiting-ignored":
        await assert_survived(ex, s)
    else:
        await assert_dropped(ex, s)
