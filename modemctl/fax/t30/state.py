"""T.30 states and transitions, as data.

Like h11's ``_state.py``: this file is the protocol's map and nothing else.
``RULES[state][trigger]`` names the handler (a method of
:class:`~modemctl.fax.t30.machine.T30`) that runs when ``trigger`` arrives in
``state``; the handler emits actions and moves to the next state, which the
table's comments give.  A trigger a state does not list is ignored (a stale
timer, a frame that answers nothing), and the station keeps listening.
``ANY_STATE`` applies everywhere: DCN, a lost line and a local abort end the
call in every phase.
"""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Final

from modemctl.fax.t30.frames import FCF
from modemctl.fax.t30.hangup import Phase


class State(enum.Enum):
    """Where a station is.  ``S_`` states send pages, ``R_`` states receive them."""

    S_WAIT_DIS = "send: wait for DIS"
    S_WAIT_CFR = "send: DCS and TCF sent, wait for CFR/FTT"
    S_WAIT_PPR = "send: page and post-page message sent, wait for the response"
    R_WAIT_DCS = "receive: DIS sent, wait for DCS"
    R_WAIT_TCF = "receive: DCS accepted, wait for TCF"
    R_WAIT_PAGE = "receive: CFR/MCF sent, wait for page data"
    R_WAIT_PPM = "receive: page received, wait for the post-page message"
    R_WAIT_CMD = "receive: FTT/RTN sent, wait for DCS"
    R_WAIT_DCN = "receive: EOP confirmed, wait for DCN"
    DONE = "done"


PHASE: Final = MappingProxyType({
    State.S_WAIT_DIS: Phase.B, State.S_WAIT_CFR: Phase.B, State.S_WAIT_PPR: Phase.D,
    State.R_WAIT_DCS: Phase.B, State.R_WAIT_TCF: Phase.B, State.R_WAIT_PAGE: Phase.C,
    State.R_WAIT_PPM: Phase.D, State.R_WAIT_CMD: Phase.B, State.R_WAIT_DCN: Phase.E,
    State.DONE: Phase.E,
})


class Trigger(enum.Enum):
    """What an event means to the tables."""

    DIS = "DIS"
    DCS = "DCS"
    CFR = "CFR"
    FTT = "FTT"
    MCF = "MCF"        # also PIP: page good, carry on (we have no operator)
    RTP = "RTP"
    RTN = "RTN"
    PIN = "PIN"
    PPM = "PPM"        # MPS, EOP, EOM and their PRI- forms
    CRP = "CRP"
    DCN = "DCN"
    ID = "ID"          # CSI, TSI, CIG, NSF, NSS, NSC: remembered, not acted on
    OTHER = "OTHER"    # a valid frame no state of ours expects (DTC: no polling)
    BAD_FRAME = "BAD_FRAME"
    TCF = "TCF"
    PAGE = "PAGE"
    T1 = "T1"
    T2 = "T2"
    T4 = "T4"
    LINE_LOST = "LINE_LOST"
    ABORT = "ABORT"


FRAME_TRIGGER: Final = MappingProxyType({
    FCF.DIS: Trigger.DIS, FCF.DCS: Trigger.DCS, FCF.CFR: Trigger.CFR, FCF.FTT: Trigger.FTT,
    FCF.MCF: Trigger.MCF, FCF.PIP: Trigger.MCF, FCF.RTP: Trigger.RTP, FCF.RTN: Trigger.RTN,
    FCF.PIN: Trigger.PIN, FCF.CRP: Trigger.CRP, FCF.DCN: Trigger.DCN,
    FCF.MPS: Trigger.PPM, FCF.EOP: Trigger.PPM, FCF.EOM: Trigger.PPM,
    FCF.PRI_MPS: Trigger.PPM, FCF.PRI_EOP: Trigger.PPM, FCF.PRI_EOM: Trigger.PPM,
    FCF.CSI: Trigger.ID, FCF.TSI: Trigger.ID, FCF.CIG: Trigger.ID,
    FCF.NSF: Trigger.ID, FCF.NSS: Trigger.ID, FCF.NSC: Trigger.ID,
    FCF.DTC: Trigger.OTHER,
})

_T = Trigger

RULES: Final = MappingProxyType({
    # --- sender ---------------------------------------------------------
    State.S_WAIT_DIS: {
        _T.ID: "remember",                 # stay
        _T.DIS: "send_dcs",                # -> S_WAIT_CFR (or DONE: incompatible)
        _T.T1: "give_up_t1",               # -> DONE
    },
    State.S_WAIT_CFR: {
        _T.ID: "remember",
        _T.CFR: "send_page",               # -> S_WAIT_PPR
        _T.FTT: "fall_back",               # -> S_WAIT_CFR one rate lower, or DONE
        _T.DIS: "dis_again",               # our DCS was not heard: repeat (3 tries)
        _T.CRP: "repeat_dcs",
        _T.BAD_FRAME: "repeat_dcs",
        _T.T4: "repeat_dcs",               # -> S_WAIT_CFR, or DONE after 3 tries
        _T.OTHER: "repeat_dcs",
    },
    State.S_WAIT_PPR: {
        _T.MCF: "page_confirmed",          # -> S_WAIT_PPR (next page) or DONE (DCN)
        _T.RTP: "page_confirmed_retrain",  # -> S_WAIT_CFR (next page) or DONE (DCN)
        _T.RTN: "page_rejected",           # -> S_WAIT_CFR (same page) or DONE
        _T.PIN: "interrupted",             # -> DONE
        _T.CRP: "repeat_ppm",
        _T.BAD_FRAME: "repeat_ppm",
        _T.T4: "repeat_ppm",               # -> S_WAIT_PPR, or DONE after 3 tries
        _T.DIS: "invalid_response",
        _T.CFR: "invalid_response",
        _T.FTT: "invalid_response",
        _T.OTHER: "invalid_response",
    },
    # --- receiver ---------------------------------------------------------
    State.R_WAIT_DCS: {
        _T.ID: "remember",
        _T.DCS: "check_dcs",               # -> R_WAIT_TCF (or DONE: incompatible)
        _T.CRP: "repeat_dis",
        _T.T4: "repeat_dis",               # DIS again every T4 until T1
        _T.T1: "give_up_t1",               # -> DONE
    },
    State.R_WAIT_TCF: {
        _T.ID: "remember",
        _T.TCF: "judge_tcf",               # -> R_WAIT_PAGE (CFR) or R_WAIT_CMD (FTT)
        _T.DCS: "check_dcs",               # the sender repeated DCS: train again
        _T.BAD_FRAME: "await_command",     # -> R_WAIT_CMD
        _T.T2: "await_command",
    },
    State.R_WAIT_PAGE: {
        _T.ID: "remember",
        _T.PAGE: "page_received",          # -> R_WAIT_PPM
        _T.DCS: "check_dcs",               # CFR was lost: the sender trains again
        _T.PPM: "repeat_response",         # MCF was lost: say it again
        _T.CRP: "repeat_response",
        _T.BAD_FRAME: "listen",
        _T.T2: "give_up_t2_page",          # -> DONE
    },
    State.R_WAIT_PPM: {
        _T.PPM: "answer_ppm",              # -> R_WAIT_PAGE / R_WAIT_DCN / R_WAIT_DCS / R_WAIT_CMD
        _T.T2: "give_up_t2_command",       # -> DONE
    },
    State.R_WAIT_CMD: {
        _T.ID: "remember",
        _T.DCS: "check_dcs",               # -> R_WAIT_TCF
        _T.PPM: "repeat_response",         # RTN was lost
        _T.CRP: "repeat_response",
        _T.T2: "give_up_t2_command",
    },
    State.R_WAIT_DCN: {
        _T.DCN: "finish_normal",           # -> DONE
        _T.PPM: "repeat_response",         # MCF was lost
        _T.CRP: "repeat_response",
        _T.T2: "finish_normal",            # every page is in; DCN is a courtesy
    },
    State.DONE: {},
})

#: Rules every state but DONE shares (a state's own entry wins).
ANY_STATE: Final = MappingProxyType({
    Trigger.DCN: "remote_disconnect",
    Trigger.LINE_LOST: "line_lost",
    Trigger.ABORT: "abort",
})

#: What an unlisted trigger does: frames keep the station listening,
#: stale timers and unexpected reports are dropped.
DEFAULT_HANDLER: Final = "listen"
