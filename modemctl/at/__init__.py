"""Sans-IO AT protocol core: bytes in, typed events out, no I/O, no clocks.

The engine (:mod:`modemctl.driver`) owns the I/O and the timers; this
package owns every rule about what the bytes mean.  See
:mod:`modemctl.at.connection` for the framing rules and their limits, and
:mod:`modemctl.at.state` for the one table of states and transitions.
"""

from modemctl.at.codes import FinalCode, NumericFamily, ResultCode, parse_final
from modemctl.at.commands import fax_data_direction, validate_command
from modemctl.at.connection import ATConnection
from modemctl.at.events import (
    NEED_DATA,
    CarrierLost,
    Data,
    Echo,
    Event,
    FlowControl,
    FormatChanged,
    Information,
    NeedData,
    Noise,
    ParseFailure,
    Response,
    ResultFormat,
    RingIndicator,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.at.state import ProtocolMode, State

__all__ = [
    "NEED_DATA",
    "ATConnection",
    "CarrierLost",
    "Data",
    "Echo",
    "Event",
    "FinalCode",
    "FlowControl",
    "FormatChanged",
    "Information",
    "NeedData",
    "Noise",
    "NumericFamily",
    "ParseFailure",
    "ProtocolMode",
    "Response",
    "ResultCode",
    "ResultFormat",
    "RingIndicator",
    "State",
    "Unsolicited",
    "UnsolicitedKind",
    "fax_data_direction",
    "parse_final",
    "validate_command",
]
