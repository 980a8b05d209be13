"""Line simulators behind one interface (:class:`LineSimulator`), one driver each.

``fake`` drives the fake exchange, ``asterisk`` a lab PBX through its manager
interface (AMI).  A Teltone TLS-5 is programmed by DTMF from a helper modem
(``hil/README.md``); it has no driver here yet.
"""

from modemctl.hil.linesim.base import (
    CALL_WAITING,
    CAPABILITIES,
    DEAD_LINE,
    REMOTE_HANGUP,
    RING,
    SILENCE,
    LineSimulator,
)

__all__ = ["CALL_WAITING", "CAPABILITIES", "DEAD_LINE", "REMOTE_HANGUP", "RING", "SILENCE",
           "LineSimulator"]
