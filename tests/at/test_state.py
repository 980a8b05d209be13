"""The core's state table, transition by transition, legal and illegal.

Each core is brought into its state by real calls and bytes, then driven;
the expected states are written out here by hand (the specification), not
read from the table under test.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modemctl.at import ATConnection, CarrierLost, Data, Response, State
from modemctl.at.state import TRANSITIONS, Input, next_state
from modemctl.errors import InvalidCallState
from tests.at.helpers import drain, feed


def _idle() -> ATConnection:
    return ATConnection()


def _awaiting() -> ATConnection:
    core = ATConnection()
    core.send_command("AT")
    return core


def _online() -> ATConnection:
    core = ATConnection()
    core.send_command("ATD1")
    feed(core, b"ATD1\r\r\nCONNECT 33600\r\n")
    return core


def _escaping() -> ATConnection:
    core = _online()
    core.send_escape()
    return core


def _probing() -> ATConnection:
    core = ATConnection()
    core.send_escape(force=True)
    return core


def _checking() -> ATConnection:
    core = ATConnection()
    feed(core, b"\r\nCONNECT 33600\r\n")     # unsolicited: noise, or an auto-answer?
    assert core.check_online() == b"AT\r"
    return core


SETUPS: dict[State, Callable[[], ATConnection]] = {
    State.IDLE: _idle, State.AWAITING_RESULT: _awaiting, State.ONLINE: _online,
    State.ESCAPING: _escaping, State.PROBING: _probing, State.CHECKING: _checking,
}

ACTIONS: dict[str, Callable[[ATConnection], object]] = {
    "command": lambda c: c.send_command("ATH"),
    "escape": lambda c: c.send_escape(),
    "force-escape": lambda c: c.send_escape(force=True),
    "data": lambda c: c.send_data(b"x"),
    "abort": lambda c: c.abort_command(),
    "carrier-lost": lambda c: c.carrier_lost(),
    "check": lambda c: c.check_online(),
    "refute": lambda c: c.refute_connect(),
}

E = None   # refused with InvalidCallState
# state -> action -> state after it (E: refused, nothing changes)
ENGINE_SIDE: dict[State, dict[str, State | None]] = {
    State.IDLE: {"command": State.AWAITING_RESULT, "escape": E,
                 "force-escape": State.PROBING, "data": E, "abort": State.IDLE,
                 "carrier-lost": State.IDLE, "check": E, "refute": E},
    State.AWAITING_RESULT: {"command": E, "escape": E, "force-escape": E, "data": E,
                            "abort": State.IDLE, "carrier-lost": State.AWAITING_RESULT,
                            "check": E, "refute": E},
    State.ONLINE: {"command": E, "escape": State.ESCAPING, "force-escape": State.ESCAPING,
                   "data": State.ONLINE, "abort": State.ONLINE, "carrier-lost": State.IDLE,
                   "check": State.CHECKING, "refute": State.IDLE},
    State.ESCAPING: {"command": E, "escape": E, "force-escape": E, "data": E,
                     "abort": State.ONLINE, "carrier-lost": State.IDLE, "check": E,
                     "refute": E},
    State.PROBING: {"command": E, "escape": E, "force-escape": E, "data": E,
                    "abort": State.IDLE, "carrier-lost": State.IDLE, "check": E, "refute": E},
    # No answer to the AT: it went to a caller, the call is up (ONLINE).
    State.CHECKING: {"command": E, "escape": E, "force-escape": E, "data": E,
                     "abort": State.ONLINE, "carrier-lost": State.IDLE, "check": E,
                     "refute": E},
}


@pytest.mark.parametrize(("state", "action", "after"), [
    (s, a, after) for s, row in ENGINE_SIDE.items() for a, after in row.items()])
def test_engine_side_transition(state: State, action: str, after: State | None) -> None:
    core = SETUPS[state]()
    assert core.state is state
    pending = core.pending
    if after is None:
        with pytest.raises(InvalidCallState):
            ACTIONS[action](core)
        assert (core.state, core.pending) == (state, pending)    # a refusal changes nothing
    else:
        ACTIONS[action](core)
        assert core.state is after


@pytest.mark.parametrize(("state", "stream", "after", "last"), [
    (State.AWAITING_RESULT, b"AT\r\r\nOK\r\n", State.IDLE, Response),
    (State.IDLE, b"\r\nCONNECT 2400\r\n", State.ONLINE, None),
    (State.ONLINE, b"\r\nNO CARRIER\r\n", State.IDLE, CarrierLost),
    (State.ESCAPING, b"\r\nOK\r\n", State.IDLE, Response),
    (State.ESCAPING, b"\r\nNO CARRIER\r\n", State.IDLE, CarrierLost),
    (State.PROBING, b"\r\nOK\r\n", State.IDLE, Response),
    (State.PROBING, b"\r\nNO CARRIER\r\n", State.IDLE, CarrierLost),
    # The modem echoes the check's AT and answers OK: command mode, no call.
    (State.CHECKING, b"AT\r\r\nOK\r\n", State.IDLE, Response),
    (State.CHECKING, b"\r\nNO CARRIER\r\n", State.IDLE, CarrierLost),
    # What a state cannot receive is not looked for: an OK online is call data.
    (State.ONLINE, b"\r\nOK\r\n", State.ONLINE, Data),
])
def test_stream_side_transition(state: State, stream: bytes, after: State,
                                last: type | None) -> None:
    core = SETUPS[state]()
    events = feed(core, stream)
    assert core.state is after
    if last is not None:
        assert isinstance(events[-1], last)


def test_connect_answering_a_dial_goes_online() -> None:
    core = ATConnection()
    core.send_command("ATDT5551002")
    feed(core, b"ATDT5551002\r\r\nCONNECT 33600\r\n")
    assert core.state is State.ONLINE and core.pending is None


def test_refused_escape_names_the_state_and_what_is_allowed() -> None:
    core = _awaiting()
    with pytest.raises(InvalidCallState, match=r"awaiting-result.*allowed: .*abort"):
        core.send_escape()


@pytest.mark.parametrize(("state", "event"), [
    (State.IDLE, Input.RESULT), (State.IDLE, Input.ESCAPE_OK),
    (State.IDLE, Input.NO_CARRIER), (State.AWAITING_RESULT, Input.ESCAPE_OK),
    (State.AWAITING_RESULT, Input.UNSOLICITED_CONNECT), (State.ONLINE, Input.RESULT),
    (State.ONLINE, Input.ESCAPE_OK), (State.ESCAPING, Input.CONNECT),
    (State.PROBING, Input.SEND_DATA),
])
def test_stream_inputs_a_state_cannot_receive_are_refused(state: State,
                                                          event: Input) -> None:
    with pytest.raises(InvalidCallState):
        next_state(state, event)


def test_every_state_has_a_row_and_a_way_out() -> None:
    """No state is a dead end: from each, some input leads to another state."""
    assert set(TRANSITIONS) == set(State)
    for state, row in TRANSITIONS.items():
        assert any(after is not state for after in row.values()), state


def test_pending_follows_the_state() -> None:
    assert _idle().pending is None
    assert _awaiting().pending == "AT"
    assert _online().pending is None
    assert _escaping().pending == "+++"
    assert _probing().pending == "+++"
    assert _checking().pending == "AT"


def test_checked_connect_that_was_noise_reads_the_echo_as_data_and_ok_as_the_answer() -> None:
    events = feed(_checking(), b"AT\r\r\nOK\r\n")
    assert [type(e) for e in events] == [Data, Response]
    assert events[0] == Data(b"AT\r")
    assert isinstance(events[1], Response) and events[1].command == "AT" and events[1].ok


def test_refuted_connect_reads_what_follows_as_lines() -> None:
    """Bytes held back ONLINE (a NO CARRIER could be starting) came from a
    modem in command mode: after the refutal they are lines again."""
    core = ATConnection()
    core.receive_data(b"\r\nCONNECT 33600\r\n\r\n")
    assert [type(e).__name__ for e in drain(core)] == ["Unsolicited"]
    assert core.holding_tail                    # CR LF: NO CARRIER could follow
    core.refute_connect()
    assert core.state is State.IDLE
    events = feed(core, b"RING\r\n")
    assert [type(e).__name__ for e in events] == ["Unsolicited"]
