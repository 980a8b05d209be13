"""Interop: efax (an independent T.30, forced to Class 1) and modemctl fax, across the fake.

efax sends a page to ``fax.receive`` and receives one from ``fax.send``, each
on its own fake modem; the pages must match pel for pel.  efax waits in real
time (a Class 1 host must answer within 55 ms), so this runs at time scale
0.5, like the fake's own efax test.  Required in CI (``MODEMCTL_REQUIRE_INTEROP=1``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from modemctl import fax
from modemctl.fake import Exchange
from modemctl.fax.page import Page, Resolution
from modemctl.line import open_line
from tests.fake.efax import (
    HEADER_SPACE,
    ROWS,
    WHITE,
    WIDTH,
    efax_receiver,
    efix_rows,
    finish,
    page_rows,
    run,
    write_pbm,
)
from tests.support import require_program

pytestmark = pytest.mark.interop

SCALE = 0.5


async def test_efax_sends_to_modemctl_fax_receive(tmp_path: Path) -> None:
    efax = require_program("efax")
    page = tmp_path / "page.pbm"
    rows = page_rows()
    write_pbm(page, rows)
    inbox = tmp_path / "in"
    inbox.mkdir()
    async with Exchange(time_scale=SCALE) as ex:
        sender = await ex.add_line("5551001", "conexant-v92")
        answerer = await ex.add_line("5551002", "agere-v92")
        async with open_line(answerer.port, "US", SCALE) as line:
            receiving = asyncio.create_task(fax.receive(line, inbox, station_id="5551002"))
            await asyncio.sleep(0.2)
            tx_rc, _, tx_log = await run(efax, "-d", sender.port, "-o1", "-h", "",
                                         "-l", "5551001", "-v", "ewinc", "-t", "5551002",
                                         str(page))
            async with asyncio.timeout(60):
                got = await receiving
    assert tx_rc == 0, tx_log.decode(errors="replace")[-3000:]
    assert got.ok, got.hangup.text
    assert got.remote_id == "5551001" and got.path is not None and got.params is not None
    received = fax.load_document(got.path, resolution=got.params.resolution)
    assert len(received) == 1
    lines = list(received[0].rows)
    assert lines[:HEADER_SPACE] == [WHITE] * HEADER_SPACE       # efax's blank header space
    assert lines[HEADER_SPACE:HEADER_SPACE + ROWS] == rows
    assert all(row == WHITE for row in lines[HEADER_SPACE + ROWS:])


async def test_modemctl_fax_send_to_efax(tmp_path: Path) -> None:
    efax = require_program("efax")
    efix = require_program("efix")
    rows = page_rows()
    image = Page(WIDTH, tuple(rows), Resolution.FINE).to_image()
    received = tmp_path / "rx"
    async with Exchange(time_scale=SCALE) as ex:
        sender = await ex.add_line("5551001", "conexant-v92")
        answerer = await ex.add_line("5551002", "agere-v92")
        receiver, set_up = await efax_receiver(efax, answerer.port, received)
        async with open_line(sender.port, "US", SCALE) as line, asyncio.timeout(60):
            sent = await fax.send(line, "5551002", image, resolution=Resolution.FINE,
                                  station_id="5551001")
        rx_rc, _, rx_log = await finish(receiver, set_up)
    assert sent.ok, sent.hangup.text
    assert rx_rc == 0, rx_log.decode(errors="replace")[-3000:]
    assert sorted(os.listdir(tmp_path)) == ["rx.001"]
    got = await efix_rows(efix, tmp_path / "rx.001")
    assert got[:ROWS] == rows
    assert all(row == WHITE for row in got[ROWS:])               # efix pads to A4
