"""The async Class 1 runner on real ports: two engines, two scripted T.31 modems.

Each test runs a sending and a receiving runner against each other through
:mod:`tests.fax.t31_modem`, so every byte goes through the AT core's fax
states, the engine's fax methods and a pty.  Pages are compared pel for pel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from modemctl.driver.engine import Engine
from modemctl.fax.class1 import Class1Session
from modemctl.fax.page import Page, Resolution
from modemctl.fax.runner import run_session
from modemctl.fax.t30 import FCF, T30, Capabilities, Cause, Outcome, T30Config
from tests.fax.pages import halftone_image, text_image
from tests.fax.t31_modem import Burst, T31Pair

SCALE = 0.5        # T4 1.5 s real: a loaded machine must not make T.30 repeat itself


def _pages(resolution: Resolution, n: int = 2) -> list[Page]:
    height = 300 if resolution is Resolution.STANDARD else 600
    images = [text_image(height, seed=3), halftone_image(height)]
    return [Page.from_image(images[i % 2], resolution) for i in range(n)]


@contextlib.asynccontextmanager
async def _connected(pair: T31Pair, scale: float = SCALE) -> AsyncIterator[tuple[Engine, Engine]]:
    """Engines on ``pair``'s two modems in Class 1, the caller's call answered;
    both engines and the pair closed on exit."""
    a = await Engine.open(pair.caller.port, time_scale=scale, lock=False)
    b = await Engine.open(pair.answerer.port, time_scale=scale, lock=False)
    try:
        for engine in (a, b):
            await engine.command("AT+FCLASS=1")
        dial = asyncio.ensure_future(a.originate("ATD5550199"))
        await asyncio.sleep(0)
        await b.originate("ATA")
        await dial
        yield a, b
    finally:
        await a.close()
        await b.close()
        pair.close()


async def _call(pages: list[Page], *, resolution: Resolution = Resolution.STANDARD,
                mr: bool = True, fine: bool = True,
                damage: Callable[[str, Burst], str | None] | None = None,
                xoff_at_connect: bool = False) -> tuple[Outcome, Outcome, dict, T31Pair]:
    pair = T31Pair(damage=damage, xoff_at_connect=xoff_at_connect)
    async with _connected(pair) as (a, b):
        sender = Class1Session(T30.sender(
            T30Config(local_id="+1 555 0100", resolution=resolution), len(pages)))
        receiver = Class1Session(T30.receiver(T30Config(
            local_id="+1 555 0199", capabilities=Capabilities(mr=mr, fine=fine))))
        async with asyncio.timeout(30):
            (sent, _), (got, received) = await asyncio.gather(
                run_session(a, sender, pages=pages), run_session(b, receiver))
        for engine in (a, b):
            await engine.fax_command("ATH", 5)
    return sent, got, received, pair


@pytest.mark.parametrize("resolution", [Resolution.STANDARD, Resolution.FINE])
@pytest.mark.parametrize("mr", [False, True])
async def test_two_pages_arrive_pel_for_pel(resolution: Resolution, mr: bool) -> None:
    pages = _pages(resolution)
    sent, got, received, _pair = await _call(pages, resolution=resolution, mr=mr)
    assert sent.ok and got.ok, (sent.hangup.text, got.hangup.text)
    assert sent.remote_id == "+1 555 0199" and got.remote_id == "+1 555 0100"
    assert [p.accepted for p in sent.pages] == [True, True]
    assert sent.params is not None and sent.params.coding.value == ("MR" if mr else "MH")
    assert sent.params.resolution.value == resolution.value
    assert sorted(received) == [0, 1]
    for index, page in enumerate(pages):
        assert received[index].page().rows == page.rows
        assert received[index].page().resolution is resolution


async def test_fine_pages_go_at_standard_to_a_standard_only_receiver() -> None:
    pages = _pages(Resolution.FINE, 1)
    sent, _got, received, _pair = await _call(pages, resolution=Resolution.FINE, fine=False)
    assert sent.ok
    assert received[0].page().rows == pages[0].rows[::2]


async def test_a_frame_with_a_bad_fcs_is_repeated_and_the_fax_still_goes() -> None:
    spoiled: list[int] = []

    def damage(side: str, burst: Burst) -> str | None:
        if side == "caller" and burst.kind == "v21" and burst.data[2] & 0xFE == \
                FCF.DCS.value & 0xFE and not spoiled:
            spoiled.append(1)
            return "bad-fcs"
        return None

    pages = _pages(Resolution.STANDARD, 1)
    sent, got, received, pair = await _call(pages, damage=damage)
    assert spoiled and sent.ok and got.ok, (sent.hangup.text, pair.wire)
    assert received[0].page().rows == pages[0].rows


async def test_a_damaged_page_gets_rtn_and_is_sent_again() -> None:
    garbled: list[int] = []

    def damage(side: str, burst: Burst) -> str | None:
        if side == "caller" and burst.kind == "hs" and len(burst.data) > 5000 and not garbled:
            garbled.append(1)
            return "garble"
        return None

    pages = _pages(Resolution.STANDARD, 1)
    sent, _got, received, pair = await _call(pages, damage=damage)
    assert garbled
    assert sent.ok, (sent.hangup.text, pair.wire)
    assert sent.pages[0].attempts == 2 and sent.pages[0].accepted
    assert received[0].page().rows == pages[0].rows


async def test_xoff_from_the_modem_pauses_page_data() -> None:
    pages = _pages(Resolution.STANDARD, 1)
    sent, got, received, pair = await _call(pages, xoff_at_connect=True)
    assert sent.ok and got.ok
    # XOFF came with each +FTM CONNECT: not a byte of TCF or page before XON.
    assert pair.caller.bytes_while_paused == 0
    assert pair.caller.bytes_after_resume > 2000
    assert received[0].page().rows == pages[0].rows


async def test_a_silent_far_end_ends_with_t1_expiry() -> None:
    async with _connected(T31Pair(), scale=0.01) as (a, _b):
        sender = Class1Session(T30.sender(T30Config(), 1))
        async with asyncio.timeout(30):
            sent, _ = await run_session(a, sender, pages=_pages(Resolution.STANDARD, 1))
        # The runner stopped the receive with CAN and the modem is usable again.
        assert (await a.fax_command("AT", 5)).ok
    assert sent.hangup.cause is not Cause.NORMAL
    assert sent.pages == ()


async def test_page_data_that_stops_coming_ends_with_t2_not_a_hang() -> None:
    def damage(side: str, burst: Burst) -> str | None:
        return "stall" if side == "caller" and burst.kind == "hs" and burst.code == 146 \
            else None

    pages = _pages(Resolution.STANDARD, 1)
    sent, got, received, pair = await _call(pages, damage=damage)
    # The receiver waited PAGE_IDLE after the last byte, then T2 stopped it (CAN).
    assert not got.ok and got.hangup.cause is Cause.T2_NO_PAGE, got.hangup.text
    assert pair.answerer.stalled is False            # the CAN reached the modem
    assert not sent.ok
    assert received == {}
