"""The AT core's states and every legal transition, in one table.

What the core may do in a state is exactly the row of :data:`TRANSITIONS`
for that state: an input that has no entry there raises
:class:`~modemctl.errors.InvalidCallState` and changes nothing (the shape of
h11's ``_state.py``).  Inputs come from two sides: the engine's calls
(``SEND_*``, ``ABORT``, ``TIMEOUT_AFTER_CONNECT``, ``CARRIER_LOST``,
``CHECK_ONLINE``, ``CONNECT_REFUTED``) and what the core reads in the
byte stream (``RESULT``, ``CONNECT``, ``ESCAPE_OK``, ``NO_CARRIER``,
``UNSOLICITED_CONNECT``).  A stream input
that the table refuses would be a bug in the core, not a modem's fault: the
parser only looks for what the current state can receive.

:meth:`ATConnection.reset` is not a transition: it forgets everything and
starts again in IDLE (after a reopen or a modem reset).
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final

from modemctl.errors import InvalidCallState


class ProtocolMode(enum.Enum):
    """What the byte stream currently carries (the coarse view the engine needs)."""

    COMMAND = "command"      # lines: echo, information, results, unsolicited
    DATA = "data"            # a call is online: bytes are data
    ESCAPING = "escaping"    # +++ sent: data until the OK that answers it
    FAX_DATA = "fax-data"    # T.31 receive: data until DLE ETX, then lines again


class State(enum.Enum):
    """Where the conversation is."""

    IDLE = "idle"                        # command mode, nothing in flight
    AWAITING_RESULT = "awaiting-result"  # command mode, a command in flight
    ONLINE = "online"                    # a call is up: bytes are data
    ESCAPING = "escaping"                # +++ sent from ONLINE
    PROBING = "probing"                  # +++ forced from command mode (recovery)
    # AT sent from ONLINE after a CONNECT nobody asked for: is a call really
    # up?  Data until an OK (the modem was in command mode: noise) or silence
    # (the AT went to a caller as data: the call is real).
    CHECKING = "checking"
    # T.31 (fax Class 1) carriers: CONNECT to +FRH/+FRM starts data that the
    # modem ends with DLE ETX and then the command's final result; CONNECT to
    # +FTH/+FTM lets us send data that we end with DLE ETX, while the modem's
    # only bytes are XON/XOFF and that final result (CONNECT for more frames).
    FAX_RECEIVING = "fax-receiving"
    FAX_SENDING = "fax-sending"

    # Members are singletons compared by identity: hash them by identity too
    # (Enum's own __hash__ is Python code, run several times per command).
    __hash__ = object.__hash__

    @property
    def mode(self) -> ProtocolMode:
        """The coarse mode this state belongs to."""
        return _MODES[self]


class Input(enum.Enum):
    """Everything that can move the core from one state to another."""

    SEND_COMMAND = "send-command"            # engine: a command line goes out
    SEND_ESCAPE = "send-escape"              # engine: +++ to leave a call
    FORCE_ESCAPE = "force-escape"            # engine: +++ whatever the state (ladder)
    SEND_DATA = "send-data"                  # engine: call data goes out
    ABORT = "abort"                          # engine: gave up on what is in flight
    # engine: the command timed out after a CONNECT that could not answer it
    TIMEOUT_AFTER_CONNECT = "timeout-after-connect"
    CARRIER_LOST = "carrier-lost"            # engine: DCD drop, DTR hang-up, port gone
    CHECK_ONLINE = "check-online"            # engine: AT, to ask whether a call is up
    CONNECT_REFUTED = "connect-refuted"      # engine: DCD, known to work, is low: no call
    RESULT = "result"                        # stream: a final result for the command
    CONNECT = "connect"                      # stream: CONNECT for the command
    UNSOLICITED_CONNECT = "unsolicited-connect"  # stream: CONNECT, nothing in flight
    ESCAPE_OK = "escape-ok"                  # stream: the OK that answers +++
    NO_CARRIER = "no-carrier"                # stream: NO CARRIER in the data
    FAX_RX_CONNECT = "fax-rx-connect"        # stream: CONNECT for +FRH/+FRM
    FAX_TX_CONNECT = "fax-tx-connect"        # stream: CONNECT for +FTH/+FTM
    FAX_DATA_END = "fax-data-end"            # stream: DLE ETX after received fax data

    __hash__ = object.__hash__          # as State


_MODES: Final = MappingProxyType({
    State.IDLE: ProtocolMode.COMMAND,
    State.AWAITING_RESULT: ProtocolMode.COMMAND,
    State.ONLINE: ProtocolMode.DATA,
    State.ESCAPING: ProtocolMode.ESCAPING,
    State.PROBING: ProtocolMode.ESCAPING,
    State.CHECKING: ProtocolMode.ESCAPING,         # data until the OK that answers AT
    State.FAX_RECEIVING: ProtocolMode.FAX_DATA,
    State.FAX_SENDING: ProtocolMode.COMMAND,       # the modem's bytes are lines
})

#: (state, input) → next state.  Nothing else is legal.
TRANSITIONS: Final = MappingProxyType({
    State.IDLE: MappingProxyType({
        Input.SEND_COMMAND: State.AWAITING_RESULT,
        Input.FORCE_ESCAPE: State.PROBING,
        Input.UNSOLICITED_CONNECT: State.ONLINE,     # auto-answer: CONNECT with no command
        Input.ABORT: State.IDLE,                     # nothing in flight: nothing to forget
        Input.CARRIER_LOST: State.IDLE,
    }),
    State.AWAITING_RESULT: MappingProxyType({
        Input.RESULT: State.IDLE,
        Input.CONNECT: State.ONLINE,                 # ATD / ATA / ATO connected
        Input.FAX_RX_CONNECT: State.FAX_RECEIVING,
        Input.FAX_TX_CONNECT: State.FAX_SENDING,
        Input.ABORT: State.IDLE,                     # timeout: a late answer is stale
        # No answer after a CONNECT it could not take: the modem answered a
        # call as the command went out, and took the command for call data.
        Input.TIMEOUT_AFTER_CONNECT: State.ONLINE,
        Input.CARRIER_LOST: State.AWAITING_RESULT,   # the command's own result still comes
    }),
    State.ONLINE: MappingProxyType({
        Input.SEND_DATA: State.ONLINE,
        Input.SEND_ESCAPE: State.ESCAPING,
        Input.FORCE_ESCAPE: State.ESCAPING,
        Input.NO_CARRIER: State.IDLE,
        Input.CARRIER_LOST: State.IDLE,
        Input.ABORT: State.ONLINE,                   # nothing in flight: the call stays up
        # After an unsolicited CONNECT only (the engine's business to know):
        Input.CHECK_ONLINE: State.CHECKING,
        Input.CONNECT_REFUTED: State.IDLE,           # no carrier: the CONNECT was noise
    }),
    State.ESCAPING: MappingProxyType({
        Input.ESCAPE_OK: State.IDLE,                 # online-command mode: the call is held
        Input.NO_CARRIER: State.IDLE,
        Input.CARRIER_LOST: State.IDLE,
        Input.ABORT: State.ONLINE,                   # no OK: the modem is still online
    }),
    State.PROBING: MappingProxyType({
        Input.ESCAPE_OK: State.IDLE,                 # the modem was online after all
        Input.NO_CARRIER: State.IDLE,
        Input.CARRIER_LOST: State.IDLE,
        Input.ABORT: State.IDLE,                     # no OK: it was in command mode
    }),
    State.CHECKING: MappingProxyType({
        Input.ESCAPE_OK: State.IDLE,                 # OK to AT: command mode, no call
        Input.NO_CARRIER: State.IDLE,
        Input.CARRIER_LOST: State.IDLE,
        Input.ABORT: State.ONLINE,                   # no OK: the AT went to a caller
    }),
    State.FAX_RECEIVING: MappingProxyType({
        Input.FAX_DATA_END: State.AWAITING_RESULT,   # the command's final follows
        Input.SEND_DATA: State.FAX_RECEIVING,        # CAN, to stop the receive
        Input.ABORT: State.IDLE,                     # the engine gave up on it
        Input.CARRIER_LOST: State.IDLE,
    }),
    State.FAX_SENDING: MappingProxyType({
        Input.SEND_DATA: State.FAX_SENDING,
        Input.FAX_TX_CONNECT: State.FAX_SENDING,     # a frame sent, more may follow
        Input.RESULT: State.IDLE,                    # OK / ERROR after DLE ETX
        Input.ABORT: State.IDLE,
        Input.CARRIER_LOST: State.IDLE,
    }),
})


def next_state(state: State, event: Input, what: str = "") -> State:
    """The state after ``event`` in ``state``; raises if the table has no entry.

    ``what`` names the refused action in the error (``"send 'ATH'"``).
    """
    try:
        return TRANSITIONS[state][event]
    except KeyError:
        allowed = ", ".join(i.value for i in TRANSITIONS[state])
        raise InvalidCallState(f"cannot {what or event.value} while {state.value} "
                               f"(allowed: {allowed})") from None
