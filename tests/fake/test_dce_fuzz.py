"""Robustness: no byte sequence from the DTE can crash or wedge the interpreter."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from modemctl.fake import DceState, available_personalities
from tests.fake.helpers import Harness

AT_ALPHABET = b"ATatDdSsEeQqVvXxIiHhZzOoFfWwCc&+=?;,@!PpT0123456789 /\r\n\x08\x18"


@settings(max_examples=150, deadline=None)
@given(personality=st.sampled_from(available_personalities()),
       chunks=st.lists(st.one_of(st.binary(max_size=64),
                                 st.lists(st.sampled_from(AT_ALPHABET), max_size=40)
                                 .map(bytes)), max_size=12))
def test_any_input_is_handled(personality: str, chunks: list[bytes]) -> None:
    h = Harness(personality)
    for chunk in chunks:
        h.send(chunk)
        h.advance(0.3)
        if h.dce.state is DceState.DIALING and h.telco.placed:
            h.dce.connected(33600)          # let some fuzz reach online states
    h.advance(600)                          # every pending timer fires without error
    assert isinstance(h.dce.state, DceState)
    h.dce.set_dtr(False)                    # &D0-3 all leave a usable modem
    h.dce.set_dtr(True)
    if h.dce.state is DceState.ONLINE_DATA:
        h.dce.remote_hangup()
    h.dce.reset()
    h.out.take()
    cr = bytes([h.dce.registers[3]])       # a stored &W may have changed S3 and Q
    out = h.send(cr + b"AT" + cr)
    assert out.endswith(h.dce.format_result("OK") or b"")
