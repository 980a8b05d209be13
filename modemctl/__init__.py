"""modemctl: a controller for analog modems on serial lines.

The line/call API is re-exported here::

    from modemctl import open_line, CallState
    async with open_line("/dev/ttyUSB0", location="US") as line:
        call = await line.make_call("5551234", secure=True)
"""

from modemctl.errors import (
    ConfigError,
    InvalidAddress,
    InvalidCallState,
    InvalidCancelCode,
    ModemctlError,
    OperationFailed,
    OperationUnavailable,
)
from modemctl.line import (
    Call,
    CallState,
    DisconnectReason,
    Line,
    LineCaps,
    SecureReport,
    open_line,
)

__version__ = "0.1.0"

__all__ = [
    "Call",
    "CallState",
    "ConfigError",
    "DisconnectReason",
    "InvalidAddress",
    "InvalidCallState",
    "InvalidCancelCode",
    "Line",
    "LineCaps",
    "ModemctlError",
    "OperationFailed",
    "OperationUnavailable",
    "SecureReport",
    "__version__",
    "open_line",
]
