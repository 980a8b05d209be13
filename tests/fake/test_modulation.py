"""``+MS`` modulation selection per personality, and a CONNECT rate that follows it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modemctl.fake import Exchange
from tests.fake.helpers import Harness, PtyClient

V92 = ("conexant-v92", "agere-v92")


def ok(h: Harness, cmd: bytes) -> bytes:
    return h.send(b"AT" + cmd + b"\r")


@pytest.mark.parametrize("personality", V92)
def test_ms_read_default_and_partial_set(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert ok(h, b"+MS?") == b"\r\n+MS: V92,1,0,0,0,0\r\n\r\nOK\r\n"
    assert ok(h, b"+MS=V34,1,0,28800") == b"\r\nOK\r\n"
    assert ok(h, b"+MS=,0") == b"\r\nOK\r\n"            # left-out subparameters are kept
    assert ok(h, b"+MS?") == b"\r\n+MS: V34,0,0,28800,0,0\r\n\r\nOK\r\n"
    assert h.dce.max_rate == 28800


@pytest.mark.parametrize("personality", V92)
@pytest.mark.parametrize("bad", [b"V99", b"V34,2", b"V34,1,0,14000", b"V34,1,0,0,0,0,0",
                                 b"V34,x"])
def test_ms_rejects_bad_values(personality: str, bad: bytes) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert ok(h, b"+MS=" + bad) == b"\r\nERROR\r\n"
    assert ok(h, b"+MS?") == b"\r\n+MS: V92,1,0,0,0,0\r\n\r\nOK\r\n"


@pytest.mark.parametrize(("personality", "carrier", "cap"), [
    ("conexant-v92", b"V92", 33600),     # V.92 needs a digital far end: V.34 between modems
    ("conexant-v92", b"V90", 33600),
    ("conexant-v92", b"V34", 33600),
    ("conexant-v92", b"V32B", 14400),
    ("conexant-v92", b"V32", 9600),
    ("conexant-v92", b"V22B", 2400),
    ("conexant-v92", b"V21", 300),
    ("agere-v92", b"V32B", 19200),        # Agere's V.32bis list goes to 19200 (V.32terbo)
    ("agere-v92", b"V32", 14400),
    ("agere-v92", b"V34,1,0,0,0,24000", 24000),
])
def test_ms_caps_the_rate(personality: str, carrier: bytes, cap: int) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert ok(h, b"+MS=" + carrier) == b"\r\nOK\r\n"
    assert h.dce.max_rate == cap


@pytest.mark.parametrize("personality", ["usr-v90", "hayes-basic"])
def test_no_ms_on_older_personalities(personality: str) -> None:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert ok(h, b"+MS?") == b"\r\nERROR\r\n"
    assert ok(h, b"+MS=V34") == b"\r\nERROR\r\n"


def test_ms_is_stored_by_amp_w_and_restored_by_z() -> None:
    h = Harness()
    h.send(b"ATE0\r")
    ok(h, b"+MS=V32B")
    ok(h, b"&W")
    ok(h, b"+MS=V34")
    ok(h, b"Z")
    h.send(b"ATE0\r")
    assert ok(h, b"+MS?") == b"\r\n+MS: V32B,1,0,0,0,0\r\n\r\nOK\r\n"
    ok(h, b"&FE0")
    assert ok(h, b"+MS?") == b"\r\n+MS: V92,1,0,0,0,0\r\n\r\nOK\r\n"


@pytest.mark.parametrize(("near", "far", "far_ms", "rate", "numeric"), [
    ("conexant-v92", "conexant-v92", b"+MS=V32B", 14400, b"15\r"),
    ("agere-v92", "conexant-v92", b"+MS=V34,1,0,0,0,26400", 26400, b"57\r"),   # Lucent
    ("conexant-v92", "agere-v92", b"+MS=V32B", 19200, b"16\r"),
])
async def test_connect_rate_follows_ms(open_client: Callable[[str], PtyClient], near: str,
                                       far: str, far_ms: bytes, rate: int,
                                       numeric: bytes) -> None:
    """Both ends print CONNECT at the lower of their caps; the caller in V0 gets the
    personality's numeric code for that rate."""
    async with Exchange(time_scale=0.05) as ex:
        a = await ex.add_line("5551001", near)
        b = await ex.add_line("5551002", far)
        ca, cb = open_client(a.tty_path), open_client(b.tty_path)
        await ca.command(b"ATE0V0\r", b"0\r")
        await cb.command(b"ATE0S0=1" + far_ms + b"\r")
        ca.write(b"ATDT5551002\r")
        assert await cb.expect(f"\r\nCONNECT {rate}\r\n".encode(), within=10)
        assert (await ca.expect(numeric, within=10)).endswith(numeric)
        assert a.call_log[-1].rate == rate
