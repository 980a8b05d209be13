"""Class 1 (T.31) fax, sans-IO: DLE/bit-order helpers, carrier codes, the session.

The host runs T.30 (:mod:`modemctl.fax.t30`); this package speaks T.31 to
the modem on its behalf.  Nothing here does I/O: an async driver runs a
:class:`Class1Session` by performing its ops and reporting the results
(contract in ``docs/design.md``, "Fax layer").
"""

from modemctl.fax.class1.hdlc import (
    DleDecoder,
    PageDataDecoder,
    frame_to_wire,
    page_to_wire,
    reverse_bits,
    stuff,
)
from modemctl.fax.class1.modulation import (
    CARRIERS,
    V21_HDLC,
    Training,
    carrier_code,
    parse_code_list,
    usable_modulations,
)
from modemctl.fax.class1.session import (
    AbortReceive,
    AtCommand,
    Class1Quirks,
    Class1Session,
    Data,
    Hangup,
    Op,
    PageEnded,
    Pause,
    ReadData,
    ReadResult,
    ReceivePageData,
    Report,
    Result,
    SendPageData,
    T30Notice,
    Timeout,
    WriteData,
)

__all__ = [
    "CARRIERS",
    "V21_HDLC",
    "AbortReceive",
    "AtCommand",
    "Class1Quirks",
    "Class1Session",
    "Data",
    "DleDecoder",
    "Hangup",
    "Op",
    "PageDataDecoder",
    "PageEnded",
    "Pause",
    "ReadData",
    "ReadResult",
    "ReceivePageData",
    "Report",
    "Result",
    "SendPageData",
    "T30Notice",
    "Timeout",
    "Training",
    "WriteData",
    "carrier_code",
    "frame_to_wire",
    "page_to_wire",
    "parse_code_list",
    "reverse_bits",
    "stuff",
    "usable_modulations",
]
