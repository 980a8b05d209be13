"""T.30 on the host, sans-IO: frames, capabilities, the procedure, the results.

:class:`T30` takes events in (frames received, TCF and page reports, timer
expiries) and gives actions out (send frames, train, send or receive a
page, start a timer, finish), with no I/O and no clock.  The Class 1 layer
(:mod:`modemctl.fax.class1`) turns its actions into T.31 AT commands.  The
result types (:class:`Outcome`, :class:`PageResult`, :class:`Hangup`) are
shared with modem-run T.30 (Class 2/2.0).  Contract: ``docs/design.md``,
"Fax layer".
"""

from modemctl.errors import FrameError
from modemctl.fax.page import PageQuality, Resolution
from modemctl.fax.t4.encode import Coding
from modemctl.fax.t30.caps import (
    LADDER,
    Capabilities,
    Modulation,
    PageLength,
    PageWidth,
    Params,
    decode_dcs,
    decode_dis,
    encode_dcs,
    encode_dis,
)
from modemctl.fax.t30.events import (
    Abort,
    Action,
    BadFrame,
    CancelTimer,
    Event,
    Finished,
    FrameReceived,
    LineLost,
    Negotiated,
    PageDone,
    PageReceived,
    ReceiveFrames,
    ReceivePage,
    ReceiveTraining,
    SendFrames,
    SendPage,
    SendTraining,
    StartTimer,
    TcfReceived,
    Timer,
    TimerExpired,
)
from modemctl.fax.t30.frames import (
    FCF,
    Frame,
    decode_frame,
    decode_station_id,
    encode_frame,
    encode_station_id,
)
from modemctl.fax.t30.hangup import Cause, Direction, Hangup, Phase
from modemctl.fax.t30.machine import T30, T30Config
from modemctl.fax.t30.results import CopyQuality, Outcome, PageResult
from modemctl.fax.t30.state import State

__all__ = [
    "FCF",
    "LADDER",
    "T30",
    "Abort",
    "Action",
    "BadFrame",
    "CancelTimer",
    "Capabilities",
    "Cause",
    "Coding",
    "CopyQuality",
    "Direction",
    "Event",
    "Finished",
    "Frame",
    "FrameError",
    "FrameReceived",
    "Hangup",
    "LineLost",
    "Modulation",
    "Negotiated",
    "Outcome",
    "PageDone",
    "PageLength",
    "PageQuality",
    "PageReceived",
    "PageResult",
    "PageWidth",
    "Params",
    "Phase",
    "ReceiveFrames",
    "ReceivePage",
    "ReceiveTraining",
    "Resolution",
    "SendFrames",
    "SendPage",
    "SendTraining",
    "StartTimer",
    "State",
    "T30Config",
    "TcfReceived",
    "Timer",
    "TimerExpired",
    "decode_dcs",
    "decode_dis",
    "decode_frame",
    "decode_station_id",
    "encode_dcs",
    "encode_dis",
    "encode_frame",
    "encode_station_id",
]
