"""Fake analog modems on a simulated telephone exchange.

``modemctl.fake`` is a second, independent implementation of the modem side
of V.250: it imports only the standard library, pyserial, structlog and
modemctl's logging plumbing (``modemctl.log``), never the driver side of
modemctl, so that the driver and the fake check each other.
Each line is a V.250/Hayes interpreter (:mod:`.dce`: the call state machine of
:mod:`.callstate`, the command tables of :mod:`.commands`, the dial-string parser
:mod:`.dialstring` and the ``&W`` settings of :mod:`.settings`) with a personality
(:mod:`.personality`, TOML data in ``personalities/``; ``+MS`` in
:mod:`.modulation`), served on a pty (an
idle one waits on inotify, :mod:`.ptywatch`) and optionally over RFC 2217
(:mod:`.ports`), plugged into an :class:`Exchange` (:mod:`.exchange`) that
rings, connects and carries data between lines, paced at the connect rate
when throttled (:mod:`.pacing`).  What it reports with (call outcomes, line
states) is typed in :mod:`.outcomes`.  Protocol timers run at a configurable
``time_scale`` (:mod:`.clock`); faults are injected with ``line.inject(kind,
**params)`` (:mod:`.faults`).

Call-waiting rules
==================

A third party calling a line that is in a *connected* call (another fake line
dialling it, or :meth:`Exchange.ring_in`) is call waiting.  What happens is
decided by rule, from register values, never by racing timers:

1. **Cancel code.**  If the line *originated* its call with the per-call
   cancel code before the number (``*70`` dialled by tone, ``1170`` by
   pulse, e.g. ``ATDT*70,5551002``), the exchange suppresses the tone: the
   third party hears busy (``BUSY`` for a dialling fake line, outcome
   ``"busy"`` for a :class:`RemoteParty`) and the call is untouched.  The
   codes are the line's carrier's: NANP's unless the line was added with
   others (``add_line(..., cancel_codes=(("T", "*52"),))``); a code the
   carrier does not use is dialled as digits and protects nothing.
2. **V.92 personalities act on +PCW** (``conexant-v92``, ``agere-v92``):

   - ``+PCW=2``: ignore; the call survives (outcome ``waiting-ignored``).
   - ``+PCW=1``: hang up at once: ``NO CARRIER`` on the line, the far end
     loses the call (``waiting-dropped``).
   - ``+PCW=0``: RI is toggled (a pulse on RFC 2217), then with ``+PMH=0``
     modem-on-hold is requested; it is granted only when the far end is a
     V.92 modem with ``+PMHT>0`` (a fake V.92 line, or a party rung in with
     ``moh_timeout>0``): the call is held for the granted time (the ``+PMHT``
     table, 13 = until ``+PMHF``), retrains and resumes (``waiting-held``);
     otherwise the data session is lost (``NO CARRIER``, ``waiting-dropped``).
     With ``+PCW=0`` and ``+PMH=1`` rule 3 decides.
3. **Otherwise** (non-V.92 personalities, or V.92 with ``+PCW=0 +PMH=1``) the
   tone is a 300 ms carrier interruption.  First the Conexant quirk: a
   personality with ``cw_detect_s10_min`` (``conexant-v92``: 16) whose
   current country (T.35 code, ``AT+GCI``; factory ``B5``, United States) is
   listed and ``S10 >= 16`` detects the tone and hangs up at once
   (``waiting-dropped``).  Else the modem survives when
   ``(S10 - S9) * 100 ms > 300 ms`` or ``S10 = 255`` (``waiting-ignored``);
   if not, it hangs up ``(S10 - S9)`` tenths of a second later with
   ``NO CARRIER`` (``waiting-dropped``).  DCD drops during the interruption.
4. **Non-V.92 personalities answer ERROR to every +P command** (``usr-v90``,
   ``hayes-basic``), so on them only rules 1 and 3 apply.

And: an Agere-class personality (``agere-v92``) in online-command state
with ``X5`` or higher reports ``CALL WAITING DETECTED`` whatever the outcome
(nothing is printed in online-data state, where it would corrupt data).
A caller whose call meets call waiting (not busy) gets no answer and no
ringback from the fake: its modem ends with ``NO CARRIER`` (or ``NO ANSWER``
with ``@``) when S7 expires.

With factory settings: ``conexant-v92`` (``+PCW=0 +PMH=0``) drops unless the
far end grants modem-on-hold; ``agere-v92`` (``+PCW=2``) survives;
``usr-v90`` (S10=7, S9=6: 100 ms) drops; ``hayes-basic`` (S10=14: 800 ms)
survives.  ``*70,`` protects every personality.

On a **fax call** rules 2 and 3 do not act (``+PCW`` needs a V.92 connection,
S10 a data carrier; firmware-notes/fax-call-waiting.md): only the cancel code
protects it, and otherwise the 300 ms interruption damages what is in flight
(a frame arrives with a bad FCS, page or TCF bytes sent during it arrive
inverted) while the call goes on.

Fax
===

A line set to Class 1 (``AT+FCLASS=1`` on ``conexant-v92``, ``agere-v92``,
``usr-v90``) makes a fax call when it dials or answers.  The call carries the
signals of :mod:`.faxwire` (the wire model: CNG/CED tones, V.21 HDLC frames at
300 bit/s with an FCS-good flag, V.27ter/V.29/V.17 carriers carrying the DTE's
bytes at their rate, silence between; modem-run Class 2/2.0 will use the same
wire), and :mod:`.t31` speaks T.31 to the DTE: ``+FTH/+FRH=3``, ``+FTM/+FRM``,
``+FTS/+FRS``, ``+FLO``, ``+FCERROR``, the implied ``+FRH=3`` after ``ATD`` and
``+FTH=3`` after ``ATA``.  The fake has no T.30 of its own: a Class 1 call is
host T.30 on both ends (efax drives it in the tests).
"""

from modemctl.fake.callstate import CwOutcome, DceEvent, DceState, StateChange
from modemctl.fake.clock import LoopClock, ManualClock
from modemctl.fake.dce import Dce, StateObserver
from modemctl.fake.dialstring import DialRequest
from modemctl.fake.exchange import (
    Exchange,
    ExchangeError,
    LineExists,
    NoCall,
    RemoteParty,
    UnknownLine,
)
from modemctl.fake.faults import FAULT_KINDS, FaultError
from modemctl.fake.line import CallRecord, FakeLine
from modemctl.fake.personality import (
    Personality,
    PersonalityError,
    available_personalities,
    load_personality,
)

__all__ = [
    "FAULT_KINDS",
    "CallRecord",
    "CwOutcome",
    "Dce",
    "DceEvent",
    "DceState",
    "DialRequest",
    "Exchange",
    "ExchangeError",
    "FakeLine",
    "FaultError",
    "LineExists",
    "LoopClock",
    "ManualClock",
    "NoCall",
    "Personality",
    "PersonalityError",
    "RemoteParty",
    "StateChange",
    "StateObserver",
    "UnknownLine",
    "available_personalities",
    "load_personality",
]
