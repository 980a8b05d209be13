"""What a port's modem-control lines have been seen to do, remembered per port.

Why: many ports carry no modem control at all while pretending to.  ser2net
with ``local`` (which labgrid uses) or in front of a pty, pyserial's
``?ign_set_control``, three-wire cables and many USB adapters accept a DTR
change and do nothing, and report DCD constantly low (or constantly high).
A driver that believes them reports a call ended while the modem still
holds it (the ``ATH`` then goes to the far end as data), or cuts a call
short because DCD "fell".  So a line is believed only once it has been
seen to work, and a line seen not to work is ignored from then on:

* DTR works when a DTR drop ended a call (the modem known online before,
  on-hook after: see :func:`modemctl.driver.escape.leave_data_mode`), and
  does nothing when the modem was found still online afterwards;
* DCD works when it read high during a call; it is dead when it stayed low
  in a call while the call went on (it is never believed before it has
  been seen high), or read high on an idle modem after a confirmed hang-up;
* RI works when it rose with a ``RING``, and is noise when it rose on an
  idle line with no ``RING`` after it: its edges are then not published
  (a floating RI would otherwise look like call waiting in every call).

The knowledge is kept per port URL for the life of the process, so a
reopen (the ladder's last rung) or a second engine on the same port starts
from what was learnt.
"""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.log import Logger


@dataclass
class PortTrust:
    """Per line: ``None`` not known yet, ``True`` seen to work, ``False`` seen not to."""

    dtr: bool | None = None
    dcd: bool | None = None
    ri: bool | None = None

    def learn(self, line: str, works: bool, log: Logger, why: str) -> None:
        """Record what ``line`` ("dtr", "dcd" or "ri") was seen to do, logging a change."""
        if getattr(self, line) is works:
            return
        setattr(self, line, works)
        log.info("modem-line-learnt", modem_line=line, works=works, why=why)


_KNOWN: dict[str, PortTrust] = {}


def trust_for(url: str) -> PortTrust:
    """The knowledge about the port at ``url`` (shared by every engine on it)."""
    return _KNOWN.setdefault(url, PortTrust())


def forget_all() -> None:
    """Forget every port (a test suite isolates its tests with it: port
    numbers and pty paths are reused by unrelated lines)."""
    _KNOWN.clear()
