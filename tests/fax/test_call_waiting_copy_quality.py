"""Call-waiting damage to page data, judged as a receiver must (issue 9, item 8).

The fake exchange inverts the page bytes a sender transmits during a 300 ms
call-waiting interruption (:func:`modemctl.fake.faxwire.damage`).  At
14400 bit/s that is 540 bytes: over blank lines, dozens of lines and the EOLs
between them.  Wherever the tone falls on the page the exchange test sends
(``test_api``), the receiver must judge the copy bad and answer RTN; before
the fix, a stretch that ate the EOLs counted as one bad line and the page got
MCF with ~30 lines missing.
"""

from __future__ import annotations

import itertools

import pytest

from modemctl.fake.dce import CW_INTERRUPTION_MS
from modemctl.fake.faxwire import Data, damage
from modemctl.fax.class1.hdlc import reverse_bits
from modemctl.fax.page import Page, Resolution
from modemctl.fax.t4 import Coding, decode_page, encode_page
from modemctl.fax.t4.codes import EOL
from modemctl.fax.t30 import CopyQuality
from tests.fax.pages import text_image

RATE = 14400


@pytest.mark.parametrize("at", range(10, 290, 20))
@pytest.mark.parametrize("coding", [Coding.MH, Coding.MR], ids=lambda c: c.value)
def test_a_call_waiting_tone_on_a_page_earns_rtn(coding: Coding, at: int) -> None:
    page = Page.from_image(text_image(300, seed=5), Resolution.STANDARD)
    t4 = encode_page(page.rows, page.width, coding=coding, k=page.resolution.k_factor)
    bits = format(int.from_bytes(t4, "big"), f"0{8 * len(t4)}b")
    eols = [i for i in range(len(bits)) if bits.startswith(EOL, i)][:page.height + 1]
    # On the wire (LSB first) at 14400 bit/s; the tone starts as line ``at`` is sent.
    wire = reverse_bits(t4)
    start = eols[at] / RATE
    arrived = damage(Data(wire, 0.0, len(wire) * 8 / RATE), start,
                     start + CW_INTERRUPTION_MS / 1000)
    assert isinstance(arrived, Data)
    received = reverse_bits(arrived.data)
    hit = [i for i in range(len(t4)) if received[i] != t4[i]]
    first, last = 8 * hit[0], 8 * (hit[-1] + 1)
    in_flight = sum(1 for s, e in itertools.pairwise(eols) if s < last and e > first)
    judge = CopyQuality()
    assert in_flight > judge.max_bad_run            # the tone always costs a run of lines

    decoded = decode_page(received, page.width, coding=coding)
    assert not judge.acceptable(decoded.lines, decoded.quality), (in_flight, decoded.quality)
