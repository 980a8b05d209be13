"""A CONNECT while a command that cannot connect is in flight (issue 7, soak).

Noise that reads as ``CONNECT 33600`` arrived as the line sent ``ATS0?`` or
``ATE0``; the core took it as that command's final and went online with no
call, and the real ``OK`` that followed was lost as data.  A CONNECT is only
a final for a command that can connect; otherwise the command keeps waiting
for its own final, and only a timeout after it says the modem went online.
"""

from __future__ import annotations

import pytest

from modemctl.at import (
    ATConnection,
    Data,
    Information,
    Noise,
    ProtocolMode,
    Response,
    ResultCode,
    State,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.at.commands import may_connect
from tests.at.helpers import SPLITS, feed

NOISE_CONNECT = {"verbose": b"\r\nCONNECT 33600\r\n", "numeric": b"1\r"}


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("form", sorted(NOISE_CONNECT))
@pytest.mark.parametrize(("command", "reply", "info"), [
    ("ATS0?", b"\r\n000\r\n\r\nOK\r\n", ("000",)),
    ("ATE0", b"\r\nOK\r\n", ()),
    ("ATH", b"\r\nOK\r\n", ()),
    ("AT+GCI?", b"\r\n+GCI: B5\r\n\r\nOK\r\n", ("+GCI: B5",)),
])
def test_connect_noise_is_not_the_final_of_a_command_that_cannot_connect(
        command: str, reply: bytes, info: tuple[str, ...], form: str, split: str) -> None:
    core = ATConnection()
    core.send_command(command)
    events = feed(core, NOISE_CONNECT[form] + reply, split)
    [r] = [e for e in events if isinstance(e, Response)]
    assert (r.final, r.command, r.info) == (ResultCode.OK, command, info)
    assert [e.text for e in events if isinstance(e, Information)] == list(info)
    [noise] = [e for e in events if isinstance(e, Noise)]
    assert noise.text == "CONNECT 33600" if form == "verbose" else "CONNECT"
    assert "cannot answer" in noise.reason
    assert core.state is State.IDLE and core.mode is ProtocolMode.COMMAND
    assert not [e for e in events if isinstance(e, (Data, Unsolicited))]


@pytest.mark.parametrize("command", ["ATD5551002", "ATDT5551002", "ATX4DT5551002",
                                     "ATS7=60DT5551002", "ATA", "ATO", "A/"])
def test_connect_still_ends_a_command_that_can_connect(command: str) -> None:
    core = ATConnection()
    core.send_command(command)
    events = feed(core, b"\r\nCONNECT 33600\r\nhello")
    [r] = [e for e in events if isinstance(e, Response)]
    assert (r.final, r.rate, r.command) == (ResultCode.CONNECT, 33600, command)
    assert core.mode is ProtocolMode.DATA
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello"


def test_silence_after_a_stray_connect_means_the_modem_went_online() -> None:
    """The modem answered a call as ``ATS0?`` went out: the command reached
    it as call data, so no final comes.  The engine's timeout tells the core,
    which goes online and reports the CONNECT as unsolicited."""
    core = ATConnection()
    core.send_command("ATS0?")
    assert [type(e) for e in feed(core, b"\r\nCONNECT 33600\r\n")] == [Noise]
    core.abort_command(timed_out=True)
    events = feed(core, b"hello")
    assert isinstance(events[0], Unsolicited)
    assert events[0].kind is UnsolicitedKind.CONNECT and events[0].fields["rate"] == "33600"
    assert core.state is State.ONLINE and core.pending is None
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello"


@pytest.mark.parametrize("timed_out", [False, True])
def test_abort_without_a_stray_connect_or_on_cancel_stays_in_command_mode(
        timed_out: bool) -> None:
    core = ATConnection()
    core.send_command("ATS0?")
    if not timed_out:                   # cancelled: no evidence the modem went online
        feed(core, b"\r\nCONNECT 33600\r\n")
    core.abort_command(timed_out=timed_out)
    assert core.state is State.IDLE
    assert not [e for e in feed(core, b"") if isinstance(e, Unsolicited)]
    core.send_command("AT")             # a stray CONNECT is forgotten with its command
    core.abort_command(timed_out=True)
    assert core.state is State.IDLE


@pytest.mark.parametrize(("command", "expected"), [
    ("ATS0?", False), ("ATE0Q0V1", False), ("ATH", False), ("ATZ", False),
    ("AT+FCLASS=1", False), ("AT+FTS=8", False), ("AT+VCID=1", False), ("ATL3M1", False),
    ("ATD5551002", True), ("ATX4DT1", True), ("ATA", True), ("ATO1", True), ("A/", True),
    ("AT+FTH=3", True), ("AT+FRM=96", True), ("AT+FDT", True), ("AT+VTX", True),
    ("AT+FCLASS=1;A", True), ("AT&T1", True),
])
def test_which_commands_may_connect(command: str, expected: bool) -> None:
    assert may_connect(command) is expected
