"""The driver's timings in one place: how long the engine waits for what.

Protocol seconds are scaled by the engine's ``time_scale`` (see design.md
"Time scale"); real seconds are not, because they bound scheduling and I/O
rather than anything the modem does.
"""

from __future__ import annotations

MIN_REAL_TIMEOUT = 0.25      # real seconds: the floor under every scaled timeout
DEFAULT_TIMEOUT = 5.0        # protocol seconds for an ordinary command
ORIGINATE_TIMEOUT = 90.0     # protocol seconds for D / A
RESUME_TIMEOUT = 30.0        # protocol seconds for ATO
ABORT_WAIT = 5.0             # protocol seconds to wait for the answer to a dial abort
# Protocol seconds after a D/A command line before a character aborts it: a
# modem ignores what arrives within 125 ms of the line's end (V.250: the LF
# after the CR), so an abort sent sooner is lost and the dial goes on.  With
# a margin; not floored like scaled timeouts (it is a delay, not a timeout).
ABORT_IGNORED = 0.15
ORIGINATE_ABORT_GRACE = 10.0 # protocol seconds close() lets an unwanted call hang up
REOPEN_WAIT = 5.0            # protocol seconds the reopen rung keeps trying
REOPEN_POLL = 0.05           # real seconds between reopen attempts
HANGUP_CONFIRM_TIMEOUT = 1.0 # protocol seconds for AT -> OK after a DTR hang-up (no DCD)
DTR_HANGUP_WAIT = 0.5        # protocol seconds for DCD to fall after a DTR hang-up (&D2: at once)
HANGUP_DRAIN_WAIT = 2.0      # protocol seconds the call's last bytes may take after a drop
HANGUP_QUIET = 0.1           # real seconds of silence that end them (no NO CARRIER)
# After a CONNECT nobody asked for (see onlinecheck.py): protocol seconds a
# modem in command mode gets to answer AT (it takes milliseconds; a network
# port a round trip), and DCD, known to work, to show a call is up.
CHECK_ONLINE_WAIT = 0.5
CARRIER_RISE_WAIT = 0.2
FORMAT_TIMEOUT = 2.0        # protocol seconds for the answer to the format re-assert
DTR_DROP = 1.0               # protocol seconds DTR is held low to reset (the ladder)
# Protocol seconds DTR is held low to hang up a call.  &D2 acts once DTR has
# been low longer than S25 (typically 50 ms; HylaFAX's ModemDTRDropDelay is
# 75 ms): a quarter second is several times that.  A modem that wants longer
# stays online, which the hang-up's confirmation catches (the escape takes over).
DTR_HANGUP_DROP = 0.25
TIMEOUTS_BEFORE_RECOVERY = 2
STOP_WAIT = 0.5              # real seconds a cancelled task gets to end, per attempt
STOP_ATTEMPTS = 3
DEFAULT_S12 = 50             # escape guard time in 20 ms units (1 s)
