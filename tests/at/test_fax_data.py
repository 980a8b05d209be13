"""The core's T.31 (fax Class 1) carriers: DLE-framed data, finals, XON/XOFF."""

from __future__ import annotations

import pytest

from modemctl.at import (
    ATConnection,
    CarrierLost,
    Data,
    FlowControl,
    Response,
    ResultCode,
    State,
    fax_data_direction,
)
from tests.at.helpers import chunks, drain

FRAME = b"\xff\x13\x80\x10\x10\x03\x10\x10"      # stuffed: contains DLE DLE, then ETX-like data


def _feed(core: ATConnection, data: bytes, mode: str) -> list[object]:
    events: list[object] = []
    for piece in chunks(data, mode, seed=7):
        core.receive_data(piece)
        events += drain(core)
    return events


@pytest.mark.parametrize("mode", ["whole", "bytes", "random"])
def test_received_data_ends_at_dle_etx_and_the_final_answers_the_command(mode: str) -> None:
    core = ATConnection()
    core.send_command("AT+FRM=96")
    stream = b"\r\nCONNECT\r\n" + FRAME + b"\x10\x03" + b"\r\nNO CARRIER\r\n"
    events = _feed(core, stream, mode)
    data = b"".join(e.data for e in events if isinstance(e, Data))
    assert data == FRAME + b"\x10\x03"             # DLE DLE is not an end; DLE ETX is kept
    finals = [e for e in events if isinstance(e, Response)]
    assert [f.final for f in finals] == [ResultCode.CONNECT, ResultCode.NO_CARRIER]
    assert all(f.command == "AT+FRM=96" for f in finals)
    assert not any(isinstance(e, CarrierLost) for e in events)   # the carrier, not the call
    assert core.state is State.IDLE


def test_no_carrier_inside_fax_data_is_data() -> None:
    core = ATConnection()
    core.send_command("AT+FRH=3")
    events = _feed(core, b"\r\nCONNECT\r\n\xff\x13\r\nNO CARRIER\r\n\x10\x03\r\nOK\r\n", "whole")
    data = b"".join(e.data for e in events if isinstance(e, Data))
    assert data == b"\xff\x13\r\nNO CARRIER\r\n\x10\x03"
    assert [e.final for e in events if isinstance(e, Response)] == \
        [ResultCode.CONNECT, ResultCode.OK]


def test_sending_frames_connect_again_then_ok_with_flow_control() -> None:
    core = ATConnection()
    core.send_command("AT+FTH=3")
    assert drain(core) == [] and _feed(core, b"\r\nCONNECT\r\n", "whole")[0].final \
        is ResultCode.CONNECT
    assert core.state is State.FAX_SENDING
    core.send_data(b"\xff\x03\x43\x10\x03")
    events = _feed(core, b"\x13\x11\r\nCONNECT\r\n", "bytes")
    assert events[:2] == [FlowControl(paused=True), FlowControl(paused=False)]
    assert isinstance(events[2], Response) and events[2].final is ResultCode.CONNECT
    assert core.state is State.FAX_SENDING
    events = _feed(core, b"\r\nOK\r\n", "whole")
    assert events[0].final is ResultCode.OK and core.state is State.IDLE


@pytest.mark.parametrize(("fclass", "command", "state"), [
    ("1", "ATD5550199", State.FAX_RECEIVING),
    ("1.0", "ATA", State.FAX_SENDING),
    ("0", "ATD5550199", State.ONLINE),
])
def test_a_call_connected_in_class_1_starts_in_v21(fclass: str, command: str,
                                                   state: State) -> None:
    core = ATConnection()
    core.send_command(f"AT+FCLASS={fclass}")
    _feed(core, b"\r\nOK\r\n", "whole")
    core.send_command(command)
    _feed(core, b"\r\nCONNECT\r\n", "whole")
    assert core.state is state
    if state is State.FAX_RECEIVING:
        assert core.pending == "AT+FRH=3"          # the implied command's final follows
        events = _feed(core, b"\xff\x13\x80\x10\x03\r\nERROR\r\n", "whole")
        assert events[-1].final is ResultCode.ERROR and core.state is State.IDLE


def test_atz_leaves_class_1() -> None:
    core = ATConnection()
    for command in ("AT+FCLASS=1", "ATZ"):
        core.send_command(command)
        _feed(core, b"\r\nOK\r\n", "whole")
    core.send_command("ATD1")
    _feed(core, b"\r\nCONNECT\r\n", "whole")
    assert core.state is State.ONLINE


@pytest.mark.parametrize(("command", "direction"), [
    ("AT+FTH=3", "tx"), ("at+ftm=146", "tx"), ("AT+FRH=3", "rx"), ("AT+FRM=96", "rx"),
    ("AT+FTS=8", None), ("AT+FTM=?", None), ("ATD123", None), ("AT+FRH=3;+FRM=96", None),
])
def test_carrier_commands_are_recognised(command: str, direction: str | None) -> None:
    assert fax_data_direction(command) == direction
