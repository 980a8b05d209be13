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
    online = h.dce.state in (DceState.ONLINE_DATA, DceState.ONLINE_COMMAND)
    assert online == h.dce.call_up          # a call exactly in the online states
    assert h.dce.off_hook or h.dce.state is DceState.COMMAND   # set-up and calls: off-hook
    assert h.dce.carrier <= h.dce.call_up   # no carrier without a call
    h.dce.set_dtr(False)                    # &D0-3 all leave a usable modem
    h.dce.set_dtr(True)
    if h.dce.state is DceState.ONLINE_DATA:
        h.dce.remote_hangup()
    h.dce.reset()
    h.out.take()
    # a stored &W may have changed S3, S4, V and Q: the OK the settings call for (V.250
    # §5.7.1), spelled out here rather than asked of the interpreter's own formatter
    settings = h.dce.settings
    cr, lf = bytes([settings.regs[3] & 0x7F]), bytes([settings.regs[4] & 0x7F])
    ok = b"" if settings.quiet else cr + lf + b"OK" + cr + lf if settings.verbose else b"0" + cr
    line = bytes([settings.regs[3]]) + b"AT" + bytes([settings.regs[3]])
    out = h.send(line)
    if ok:
        assert out.endswith(ok)
    else:
        assert out in (b"", line)           # Q1: at most the echo, never a result


@settings(max_examples=100, deadline=None)
@given(chunks=st.lists(st.tuples(st.binary(min_size=1, max_size=200),
                                 st.floats(min_value=0, max_value=2.5)), max_size=20))
def test_online_data_is_forwarded_whole(chunks: list[tuple[bytes, float]]) -> None:
    """Every byte written in online-data state reaches the far end, in order, escape
    characters included; the modem escapes only after a properly guarded +++."""
    h = Harness()
    h.send(b"ATE0DT1\r")
    h.advance(5)
    h.dce.connected(33600)
    h.out.take()
    sent = bytearray()
    for data, pause in chunks:
        if h.dce.state is not DceState.ONLINE_DATA:
            break
        h.advance(pause)
        if h.dce.state is not DceState.ONLINE_DATA:
            break
        h.send(data)
        sent += data
    h.advance(3)
    assert bytes(h.telco.sent) == bytes(sent)
    if h.dce.state is DceState.ONLINE_COMMAND:
        assert sent.endswith(b"+++")


def _reference_escape(chunks: list[tuple[bytes, float]], guard: float) -> int | None:
    """Straightforward per-byte model of the Hayes guarded escape (§1.7): the index of the
    chunk after which the modem escapes, or None."""
    plus, last = 0, 0.0
    now = 0.0
    for i, (data, pause) in enumerate(chunks):
        now += pause
        if plus == 3 and now - last >= guard:
            return i - 1
        for byte in data:
            if byte == ord("+"):
                if plus == 0:
                    plus = 1 if now - last >= guard else 0
                elif plus < 3 and now - last < guard:
                    plus += 1
                else:
                    plus = 0
            else:
                plus = 0
            last = now
    return len(chunks) - 1 if plus == 3 else None


@settings(max_examples=300, deadline=None)
@given(chunks=st.lists(st.tuples(st.lists(st.sampled_from(b"++++a"), min_size=1, max_size=6)
                                 .map(bytes),
                                 st.sampled_from([0.0, 0.3, 0.99, 1.01, 1.5, 2.0])),
                       min_size=1, max_size=8))
def test_escape_matches_reference_model(chunks: list[tuple[bytes, float]]) -> None:
    """The interpreter's fast path (only the trailing run of '+' is scanned) agrees with a
    per-byte model.  Pauses avoid the exact guard time, where float rounding decides."""
    h = Harness()
    h.send(b"ATE0DT1\r")
    h.advance(5)
    h.dce.connected(33600)
    h.out.take()
    escaped_after: int | None = None
    for i, (data, pause) in enumerate(chunks):
        h.advance(pause)
        if h.dce.state is DceState.ONLINE_COMMAND:
            escaped_after = i - 1
            break
        h.send(data)
    else:
        h.advance(1.0)
        if h.dce.state is DceState.ONLINE_COMMAND:
            escaped_after = len(chunks) - 1
    assert escaped_after == _reference_escape(chunks, guard=1.0)
