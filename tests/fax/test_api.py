"""fax.send / fax.receive across the fake exchange: two lines, both driven by modemctl.

Every layer is real here: document loading, the line API (dial/answer in
fax mode, securing), the AT core and engine, the Class 1 runner, T.30, the
fake modems' T.31 and the exchange's fax wire.  Received pages are read
back from the TIFF the receiver wrote and compared pel for pel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from modemctl import fax
from modemctl.errors import OperationUnavailable
from modemctl.fake import Exchange, FakeLine
from modemctl.fake.exchange import CANCEL_CODES
from modemctl.fake.line import CancelCodes
from modemctl.fax import sync as fax_sync
from modemctl.fax.page import Page, Resolution
from modemctl.fax.t30 import FCF, CopyQuality, Negotiated, PageDone
from modemctl.fax.t30.hangup import Cause
from modemctl.line import Line, open_line, sync
from tests.fax.pages import text_image

SCALE = 0.1         # T4 0.3 s real: enough for a loaded machine to answer in time
NEAR, FAR = "5551001", "5551002"


@dataclass
class FaxPair:
    ex: Exchange
    near: Line
    far: Line
    near_fake: FakeLine
    far_fake: FakeLine


@pytest.fixture
async def make_fax_pair() -> AsyncIterator[Callable[..., Awaitable[FaxPair]]]:
    stack = contextlib.AsyncExitStack()

    async def factory(near: str = "conexant-v92", far: str = "agere-v92",
                      location: str = "US", scale: float = SCALE,
                      carrier: CancelCodes = CANCEL_CODES,
                      cancel_code: str | None = None) -> FaxPair:
        ex = await stack.enter_async_context(Exchange(time_scale=scale))
        near_fake = await ex.add_line(NEAR, personality=near, cancel_codes=carrier)
        far_fake = await ex.add_line(FAR, personality=far)
        near_line = await stack.enter_async_context(
            open_line(near_fake.port, location, scale, name="near", cancel_code=cancel_code))
        far_line = await stack.enter_async_context(
            open_line(far_fake.port, "US", scale, name="far"))
        return FaxPair(ex, near_line, far_line, near_fake, far_fake)

    async with stack:
        yield factory


def _images(resolution: Resolution) -> list[Page]:
    height = 300 if resolution is Resolution.STANDARD else 600
    return [Page.from_image(text_image(height, seed=5), resolution),
            Page.from_image(text_image(height, seed=6), resolution)]


@pytest.mark.parametrize(("resolution", "mr"), [
    (Resolution.STANDARD, False), (Resolution.STANDARD, True), (Resolution.FINE, True)])
async def test_a_two_page_fax_arrives_pel_for_pel(
        make_fax_pair: Callable[..., Awaitable[FaxPair]], tmp_path: Path,
        resolution: Resolution, mr: bool) -> None:
    pair = await make_fax_pair()
    pages = _images(resolution)
    progress: list[object] = []
    images = [p.to_image() for p in pages]
    async with asyncio.timeout(120):
        receiving = asyncio.create_task(fax.receive(pair.far, tmp_path, mr=mr,
                                                    station_id="+1 555 0102"))
        sent = await fax.send(pair.near, FAR, images, resolution=resolution,
                              station_id="+1 555 0101", progress=progress.append)
        got = await receiving
    assert sent.ok and got.ok, (sent.hangup.text, got.hangup.text)
    assert sent.remote_id == "+1 555 0102" and got.remote_id == "+1 555 0101"
    assert sent.secured and sent.secure_report is not None      # *70 dialled (US)
    assert [p.accepted for p in sent.pages] == [True, True]
    assert sent.params is not None and sent.params.resolution is resolution
    assert sent.params.coding.value == ("MR" if mr else "MH")
    assert [type(p) for p in progress] == [Negotiated, PageDone, PageDone, fax.api.Finished]
    assert got.path is not None and got.path.parent == tmp_path
    assert got.path.name.startswith("fax-") and got.path.name.endswith("-+1_555_0101.tif")
    names = await asyncio.to_thread(lambda: [p.name for p in tmp_path.iterdir()])
    assert names == [got.path.name]                              # no temporary left
    received = fax.load_document(got.path, resolution=resolution)
    assert [p.rows for p in received] == [p.rows for p in pages]
    for call_end in (pair.near_fake, pair.far_fake):
        assert call_end.dce.fclass == "0"                        # back to data afterwards


async def test_a_busy_number_is_a_phase_a_result(
        make_fax_pair: Callable[..., Awaitable[FaxPair]]) -> None:
    pair = await make_fax_pair()
    async with asyncio.timeout(60):
        # Its own number: the exchange answers busy at once.
        result = await fax.send(pair.near, NEAR, [_images(Resolution.STANDARD)[0]
                                                  .to_image()])
    assert not result.ok and result.hangup.detail == "BUSY"
    assert result.hangup.cause is Cause.NO_CONNECTION and result.hangup.phase.value == "A"
    assert result.pages == ()


async def test_the_sync_facade_sends_and_receives(tmp_path: Path) -> None:
    async with Exchange(time_scale=SCALE) as ex:
        near_fake = await ex.add_line(NEAR, personality="usr-v90")
        far_fake = await ex.add_line(FAR, personality="conexant-v92")
        page = _images(Resolution.STANDARD)[0]

        def receiver() -> fax.FaxResult:
            with sync.open_line(far_fake.port, "US", SCALE) as line:
                return fax_sync.receive(line, tmp_path, timeout=60)

        def sender() -> fax.FaxResult:
            with sync.open_line(near_fake.port, "US", SCALE) as line:
                return fax_sync.send(line, FAR, page.to_image(),
                                     resolution=Resolution.STANDARD, timeout=60)

        async with asyncio.timeout(90):
            receiving = asyncio.create_task(asyncio.to_thread(receiver))
            sent = await asyncio.to_thread(sender)
            got = await receiving
    assert sent.ok and got.ok and got.path is not None
    assert [p.rows for p in fax.load_document(got.path, resolution=Resolution.STANDARD)] \
        == [page.rows]


@pytest.mark.parametrize(("location", "secured"), [("GB", False), ("US", True)])
async def test_call_waiting_during_a_page_costs_an_rtn_unless_secured(
        make_fax_pair: Callable[..., Awaitable[FaxPair]], tmp_path: Path, location: str,
        secured: bool) -> None:
    # GB has no cancel code: the default (best effort) sends unsecured and says so.
    pair = await make_fax_pair(location=location)
    page = _images(Resolution.STANDARD)[0]
    negotiated = asyncio.Event()

    def on_progress(event: object) -> None:
        if isinstance(event, Negotiated):
            negotiated.set()

    async def call_waiting() -> str:
        await negotiated.wait()
        # DCS (~2 s with its preamble), TCF (1.5 s), CFR (~2 s), the page's
        # training: the page starts ~7 protocol s after DIS and takes ~7 s.
        await pair.ex.clock.sleep(10.0)
        party = await pair.ex.ring_in(NEAR, caller="5559999")
        return party.outcome

    judged: list[PageDone] = []

    def on_receive(event: object) -> None:
        if isinstance(event, PageDone):
            judged.append(event)

    async with asyncio.timeout(120):
        receiving = asyncio.create_task(fax.receive(pair.far, tmp_path, progress=on_receive))
        waiting = asyncio.create_task(call_waiting())
        sent = await fax.send(pair.near, FAR, page.to_image(),
                              resolution=Resolution.STANDARD, progress=on_progress)
        got = await receiving
        outcome = await waiting
    assert sent.secured is secured
    assert sent.ok and got.ok, (sent.hangup.text, got.hangup.text)
    assert got.path is not None
    received = fax.load_document(got.path, resolution=Resolution.STANDARD)
    assert [p.rows for p in received] == [page.rows]       # the good copy is the one kept
    if secured:
        assert outcome == "busy"                           # *70: the third party hears busy
        assert sent.pages[0].attempts == 1
    else:
        assert outcome == "waiting-ignored"
        # The tone hit the page: the receiver judged the copy and asked for it again.
        assert sent.pages[0].attempts == 2
        assert got.pages[0].attempts == 2
        # RTN for the damaged page data itself: its figures fail copy quality.
        first = judged[0].result
        assert first.response is FCF.RTN and first.quality is not None
        assert first.lines is not None
        assert not CopyQuality().acceptable(first.lines, first.quality)
    assert [d.result.response for d in judged][-1] is FCF.MCF


async def test_secure_true_fails_closed_where_only_pcw_and_s10_exist(
        make_fax_pair: Callable[..., Awaitable[FaxPair]]) -> None:
    # GB: no cancel code.  The Conexant line has +PCW and a safe S10, which would
    # secure a data call, but neither acts on a fax call: nothing is dialled.
    pair = await make_fax_pair(location="GB")
    with pytest.raises(OperationUnavailable, match="fax"):
        await fax.send(pair.near, FAR, _images(Resolution.STANDARD)[0].to_image(),
                       secure=True)
    assert pair.near_fake.call_log == []


async def test_secure_true_sends_with_the_code_given_where_the_location_has_none(
        make_fax_pair: Callable[..., Awaitable[FaxPair]], tmp_path: Path) -> None:
    # NZ ships no cancel code; the line's carrier takes *52 and the user gives it.
    pair = await make_fax_pair(location="NZ", carrier=(("T", "*52"),), cancel_code="*52")
    async with asyncio.timeout(120):
        receiving = asyncio.create_task(fax.receive(pair.far, tmp_path))
        sent = await fax.send(pair.near, FAR, _images(Resolution.STANDARD)[0].to_image(),
                              secure=True)
        got = await receiving
    assert sent.ok and got.ok and sent.secured
    record = next(r for r in pair.near_fake.call_log if r.direction == "out")
    assert record.dialled.startswith("T*52,") and record.cancel_code


async def test_cancelling_a_send_mid_page_hangs_up_and_leaves_the_modem_usable(
        make_fax_pair: Callable[..., Awaitable[FaxPair]], tmp_path: Path) -> None:
    pair = await make_fax_pair()
    negotiated = asyncio.Event()

    def on_progress(event: object) -> None:
        if isinstance(event, Negotiated):
            negotiated.set()

    async with asyncio.timeout(60):
        receiving = asyncio.create_task(fax.receive(pair.far, tmp_path))
        sending = asyncio.create_task(fax.send(
            pair.near, FAR, _images(Resolution.STANDARD)[0].to_image(),
            resolution=Resolution.STANDARD, progress=on_progress))
        await negotiated.wait()
        await pair.ex.clock.sleep(8.0)               # well into the page
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
        got = await receiving
        assert not got.ok                            # the receiver says the call failed
        assert pair.near_fake.dce.fclass == "0"      # hung up, back to data
        assert (await pair.near.engine.command("AT")).ok
        names = await asyncio.to_thread(lambda: [p.name for p in tmp_path.iterdir()])
    # What arrived whole is kept, in a whole file; nothing half-written is left.
    assert names == ([got.path.name] if got.path else [])
    if got.path is not None:
        assert len(fax.load_document(got.path, resolution=Resolution.STANDARD)) == 1


async def test_a_header_line_is_stamped_on_each_page_when_asked(
        make_fax_pair: Callable[..., Awaitable[FaxPair]], tmp_path: Path) -> None:
    pair = await make_fax_pair()
    page = _images(Resolution.STANDARD)[0]
    async with asyncio.timeout(60):
        receiving = asyncio.create_task(fax.receive(pair.far, tmp_path))
        sent = await fax.send(pair.near, FAR, page.to_image(), header="ACME Corp",
                              resolution=Resolution.STANDARD)
        got = await receiving
    assert sent.ok and got.path is not None
    received = fax.load_document(got.path, resolution=Resolution.STANDARD)
    assert received[0].rows == fax.stamp_header(page, "ACME Corp  page 1/1").rows
    assert received[0].rows != page.rows
