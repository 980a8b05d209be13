"""efax, an independent T.30 nobody here wrote, sends a fax across the fake exchange.

Two efax processes forced to Class 1 (``-o1``) drive two fake modems over
their ptys: one dials and sends a page, the other answers (``S0=1`` and ``-w``)
and receives it.  If the fake's T.31 (CONNECT/OK/ERROR/+FCERROR, DLE
transparency, flow control, timing) were not what real Class 1 modems do,
efax's T.30 would fail, or the page would arrive damaged.  The received TIFF is
turned back into a bitmap with ``efix`` (same package) and compared with what
was sent.

efax waits in real time (its timeouts are seconds; a Class 1 host must answer
within 55 ms), so this runs at ``time_scale`` 0.5, which leaves efax's fixed
waits satisfied; it takes about 14 s.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modemctl.fake import Exchange
from tests.fake.efax import (
    HEADER_SPACE,
    ROWS,
    WHITE,
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


async def test_efax_sends_a_page_to_efax_across_the_fake_exchange(tmp_path: Path) -> None:
    efax = require_program("efax")
    efix = require_program("efix")
    page = tmp_path / "page.pbm"
    rows = page_rows()
    write_pbm(page, rows)
    received = tmp_path / "rx"
    async with Exchange(time_scale=SCALE) as ex:
        sender = await ex.add_line("5551001", "conexant-v92")
        answerer = await ex.add_line("5551002", "agere-v92")
        receiver, set_up = await efax_receiver(efax, answerer.port, received)
        tx_rc, _, tx_log = await run(efax, "-d", sender.port, "-o1", "-h", "", "-v", "ewinc",
                                     "-t", "5551002", str(page))
        rx_rc, _, rx_log = await finish(receiver, set_up)
    assert tx_rc == 0, tx_log.decode(errors="replace")[-3000:]
    assert rx_rc == 0, rx_log.decode(errors="replace")[-3000:]
    assert b"received 80 lines, 0 errors" in rx_log
    files = sorted(os.listdir(tmp_path))
    assert files == ["page.pbm", "rx.001"]                 # one page, one file
    got = await efix_rows(efix, tmp_path / "rx.001")
    assert got[:HEADER_SPACE] == [WHITE] * HEADER_SPACE
    assert got[HEADER_SPACE:HEADER_SPACE + ROWS] == rows
    assert all(row == WHITE for row in got[HEADER_SPACE + ROWS:])   # efix pads to A4
