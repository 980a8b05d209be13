"""Property tests: hostile byte streams give typed events only, never a hang,
and memory stays bounded; chunking never changes what the core reports."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from modemctl.at import (
    ATConnection,
    Data,
    Echo,
    Event,
    FormatChanged,
    Information,
    ParseFailure,
    ProtocolMode,
    Response,
    ResultCode,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.errors import InvalidCommand
from tests.at.helpers import PROPERTY, drain

MAX_LINE = 256

# Fragments real modems send, mixed with arbitrary bytes.
TOKENS = [b"\r", b"\n", b"\r\n", b"OK", b"ERROR", b"RING", b"NO CARRIER", b"CONNECT 33600",
          b"0", b"3", b"NMBR = 5551234", b"+PCW: 0", b"AT", b"+++", b"\x00", b"\xff",
          b"NO DIAL TONE", b"BUSY", b"CALL WAITING DETECTED", b"\x10\x03"]
hostile = st.lists(st.one_of(st.sampled_from(TOKENS), st.binary(max_size=40)),
                   max_size=60).map(b"".join)


def _run(stream: bytes, splits: list[int], command: str | None) -> list[Event]:
    core = ATConnection(max_line=MAX_LINE)
    if command is not None:
        core.send_command(command)
    events: list[Event] = []
    pos = 0
    for n in [*splits, len(stream)]:
        part, pos = stream[pos:pos + max(1, n)], pos + max(1, n)
        core.receive_data(part)
        events += drain(core)
        # Bounded memory: never more than one runaway line plus one chunk.
        assert core.buffered <= MAX_LINE + 64 + 1
        if pos >= len(stream):
            break
    events += drain(core, flush=True)
    return events


@PROPERTY
@given(hostile, st.lists(st.integers(1, 64), max_size=40),
       st.sampled_from([None, "AT", "ATI0", "ATD5551234", "AT+PCW?"]))
def test_hostile_streams_keep_the_framing_invariants(stream: bytes, splits: list[int],
                                                    command: str | None) -> None:
    """Whatever the bytes: no exception, at most one response and only for
    the command sent, information only while it is in flight, call data only
    after a CONNECT, and a parse failure only for bytes that were there."""
    events = _run(stream, splits, command)
    responses = [e for e in events if isinstance(e, Response)]
    assert len(responses) <= (command is not None)
    assert all(r.command == command for r in responses)
    if command is None:
        assert not any(isinstance(e, (Information, Echo)) for e in events)
    first_data = next((i for i, e in enumerate(events) if isinstance(e, Data)), None)
    if first_data is not None:
        assert any((isinstance(e, Response) and e.final is ResultCode.CONNECT)
                   or (isinstance(e, Unsolicited) and e.kind is UnsolicitedKind.CONNECT)
                   for e in events[:first_data])
    assert all(0 < e.discarded <= len(stream) for e in events if isinstance(e, ParseFailure))
    # One command, no format believed beforehand: nothing can contradict it.
    assert not any(isinstance(e, FormatChanged) for e in events)


@PROPERTY
@given(hostile, st.lists(st.integers(1, 16), max_size=60))
def test_chunking_does_not_change_meaning_in_data_mode(stream: bytes,
                                                       splits: list[int]) -> None:
    def data_and_events(split: list[int]) -> tuple[bytes, list[str]]:
        core = ATConnection(max_line=MAX_LINE)
        core.send_command("ATD1")
        core.receive_data(b"\r\nCONNECT\r\n")
        drain(core)
        assert core.mode is ProtocolMode.DATA
        events: list[Event] = []
        pos = 0
        for n in [*split, len(stream)]:
            core.receive_data(stream[pos:pos + n])
            pos += n
            events += drain(core)
        events += drain(core, flush=True)
        data = b"".join(e.data for e in events if isinstance(e, Data))
        return data, [type(e).__name__ for e in events if not isinstance(e, Data)]

    whole = data_and_events([])
    assert data_and_events(splits) == whole


@PROPERTY
@given(st.text(max_size=80))
def test_send_command_accepts_or_raises_invalid_command(text: str) -> None:
    core = ATConnection()
    try:
        payload = core.send_command(text)
    except InvalidCommand:
        assert core.pending is None
        return
    assert b"\r" not in payload[:-1] and b"\n" not in payload
    assert all(0x20 <= b <= 0x7E for b in payload.rstrip(b"\r"))
