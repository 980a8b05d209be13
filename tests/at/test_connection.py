"""Table tests for the sans-IO core: framing, echo, numeric/verbose, URCs anywhere."""

from __future__ import annotations

import pytest

from modemctl.at import (
    ATConnection,
    CarrierLost,
    Data,
    Echo,
    Information,
    Noise,
    NumericFamily,
    ParseFailure,
    ProtocolMode,
    Response,
    ResultCode,
    Unsolicited,
    UnsolicitedKind,
)
from modemctl.errors import InvalidCallState, InvalidCommand
from tests.at.helpers import SPLITS, feed


def responses(events: list[object]) -> list[Response]:
    return [e for e in events if isinstance(e, Response)]


def urcs(events: list[object]) -> list[Unsolicited]:
    return [e for e in events if isinstance(e, Unsolicited)]


# --- final result codes -------------------------------------------------------

VERBOSE_CASES = [
    ("OK", ResultCode.OK, None, ""),
    ("ERROR", ResultCode.ERROR, None, ""),
    ("NO CARRIER", ResultCode.NO_CARRIER, None, ""),
    ("NO DIALTONE", ResultCode.NO_DIALTONE, None, ""),
    ("NO DIAL TONE", ResultCode.NO_DIALTONE, None, ""),
    ("BUSY", ResultCode.BUSY, None, ""),
    ("NO ANSWER", ResultCode.NO_ANSWER, None, ""),
    ("CONNECT", ResultCode.CONNECT, None, ""),
    ("CONNECT 33600", ResultCode.CONNECT, 33600, ""),
    ("CONNECT 33600/ARQ", ResultCode.CONNECT, 33600, "/ARQ"),
    ("CONNECT 48000 EC", ResultCode.CONNECT, 48000, "EC"),
    ("CONNECT 115200 LAPM V42BIS", ResultCode.CONNECT, 115200, "LAPM V42BIS"),
    ("CONNECT 75TX/1200RX", ResultCode.CONNECT, 1200, "75TX/1200RX"),
    ("CONNECT FAX", ResultCode.CONNECT, None, "FAX"),
    ("DELAYED 00:05:00", ResultCode.DELAYED, None, "00:05:00"),
    ("DELAYED", ResultCode.DELAYED, None, ""),
    ("BLACKLISTED", ResultCode.BLACKLISTED, None, ""),
    ("DIALING DISABLED", ResultCode.DIALING_DISABLED, None, ""),
    ("+FCERROR", ResultCode.FCERROR, None, ""),
    ("LINE IN USE", ResultCode.LINE_IN_USE, None, ""),
    ("no  dial   tone", ResultCode.NO_DIALTONE, None, ""),
]


@pytest.mark.parametrize(("text", "code", "rate", "suffix"), VERBOSE_CASES)
@pytest.mark.parametrize("split", SPLITS)
def test_verbose_finals(text: str, code: ResultCode, rate: int | None, suffix: str,
                        split: str) -> None:
    core = ATConnection()
    core.send_command("ATD5551234")
    events = feed(core, f"ATD5551234\r\r\n{text}\r\n".encode(), split)
    [r] = responses(events)
    assert (r.final, r.rate, r.suffix, r.numeric) == (code, rate, suffix, False)
    assert isinstance(events[0], Echo)


NUMERIC_CASES: list[tuple[NumericFamily, str, ResultCode, int | None]] = [
    ("conexant", "0", ResultCode.OK, None),
    ("conexant", "1", ResultCode.CONNECT, None),
    ("conexant", "3", ResultCode.NO_CARRIER, None),
    ("conexant", "4", ResultCode.ERROR, None),
    ("conexant", "5", ResultCode.CONNECT, 1200),
    ("conexant", "6", ResultCode.NO_DIALTONE, None),
    ("conexant", "7", ResultCode.BUSY, None),
    ("conexant", "8", ResultCode.NO_ANSWER, None),
    ("conexant", "10", ResultCode.CONNECT, 2400),
    ("conexant", "24", ResultCode.DELAYED, None),
    ("conexant", "32", ResultCode.BLACKLISTED, None),
    ("conexant", "84", ResultCode.CONNECT, 33600),
    ("conexant", "+F4", ResultCode.FCERROR, None),
    ("usr", "13", ResultCode.CONNECT, 9600),
    ("usr", "12", ResultCode.VOICE, None),
    ("usr", "107", ResultCode.CONNECT, 28800),
    ("hayes", "8", ResultCode.NO_ANSWER, None),
    ("hayes", "13", ResultCode.CONNECT, 14400),      # Hayes' own numbering, not Conexant's 7200
    # Lucent/Agere numbering (Lucent AT manual, table 4): not Conexant's
    ("lucent", "13", ResultCode.CONNECT, 14400),
    ("lucent", "40", ResultCode.CONNECT, 300),
    ("lucent", "60", ResultCode.CONNECT, 33600),
    ("lucent", "86", ResultCode.CONNECT, 16800),
    ("lucent", "88", ResultCode.DELAYED, None),
    ("lucent", "89", ResultCode.BLACKLISTED, None),
]


@pytest.mark.parametrize(("family", "token", "code", "rate"), NUMERIC_CASES)
@pytest.mark.parametrize("split", SPLITS)
def test_numeric_finals(family: NumericFamily, token: str, code: ResultCode, rate: int | None,
                        split: str) -> None:
    core = ATConnection(numeric_family=family)
    core.send_command("ATDT1")
    events = feed(core, f"ATDT1\r{token}\r".encode(), split)
    [r] = responses(events)
    assert (r.final, r.rate, r.numeric) == (code, rate, True)


def test_usr_numeric_ringing_is_unsolicited() -> None:
    core = ATConnection(numeric_family="usr")
    core.send_command("ATDT1")
    events = feed(core, b"ATDT1\r11\r13\r")
    assert [u.kind for u in urcs(events)] == [UnsolicitedKind.RINGBACK]
    assert responses(events)[0].rate == 9600


# --- numeric ambiguity ---------------------------------------------------------

@pytest.mark.parametrize("split", SPLITS)
def test_numeric_info_vs_final_by_terminator(split: str) -> None:
    core = ATConnection()
    core.send_command("ATS0?")
    events = feed(core, b"ATS0?\r000\r\n0\r", split)
    assert [type(e) for e in events] == [Echo, Information, Response]
    assert responses(events)[0].info == ("000",)


def test_dangling_numeric_tail_waits_for_lookahead() -> None:
    core = ATConnection()
    core.send_command("ATS0?")
    core.receive_data(b"ATS0?\r000\r")
    events = feed(core, b"", flush=False)
    assert [type(e) for e in events] == [Echo]
    assert core.holding_tail
    # The LF arrives: it was information after all.
    events = feed(core, b"\n0\r", flush=False)
    assert [type(e) for e in events] == [Information]
    assert core.holding_tail                 # "0\r" could still get an LF
    events = feed(core, b"", flush=True)      # quiet: it was the final
    assert responses(events)[0].final is ResultCode.OK
    assert not core.holding_tail


def test_late_lf_after_flushed_numeric_is_ignored() -> None:
    core = ATConnection()
    core.send_command("AT")
    feed(core, b"AT\r0\r", flush=True)
    core.send_command("AT")
    events = feed(core, b"\nAT\r0\r")
    assert [type(e) for e in events] == [Echo, Response]


def test_verbose_final_split_at_cr_is_not_held() -> None:
    core = ATConnection()
    core.send_command("AT")
    events = feed(core, b"AT\r\r\nOK\r", flush=False)
    assert responses(events)[0].ok
    assert not core.holding_tail


# --- echo -----------------------------------------------------------------------

@pytest.mark.parametrize("split", SPLITS)
def test_echo_of_ate0_then_no_echo(split: str) -> None:
    core = ATConnection()
    core.send_command("ATE0")
    events = feed(core, b"ATE0\r\r\nOK\r\n", split)
    assert [type(e) for e in events] == [Echo, Response]
    core.send_command("ATI0")
    events = feed(core, b"\r\n56000\r\n\r\nOK\r\n", split)
    assert [type(e) for e in events] == [Information, Response]


def test_echo_off_from_start() -> None:
    core = ATConnection()
    core.send_command("ATI3")
    events = feed(core, b"\r\nCX81801-V90\r\n\r\nOK\r\n")
    assert responses(events)[0].info == ("CX81801-V90",)


def test_stale_final_before_echo_is_noise() -> None:
    """With echo on, a late OK of an aborted command cannot complete the next one."""
    core = ATConnection()
    core.send_command("AT")
    feed(core, b"AT\r\r\nOK\r\n")            # learns: echo is on
    core.send_command("ATI0")
    events = feed(core, b"\r\nOK\r\nATI0\r\r\n56000\r\n\r\nOK\r\n")
    assert isinstance(events[0], Noise)
    [r] = responses(events)
    assert r.info == ("56000",)


def test_echo_with_line_noise_prefix() -> None:
    core = ATConnection()
    core.send_command("ATI0")
    events = feed(core, b"\x00\x11ATI0\r\r\n56000\r\n\r\nOK\r\n")
    assert isinstance(events[0], Echo)
    assert responses(events)[0].info == ("56000",)


# --- unsolicited anywhere -----------------------------------------------------

BASE = [b"ATI0\r", b"\r\n56000\r\n", b"\r\nCX81801\r\n", b"\r\nOK\r\n"]
URC_LINES = [
    (b"\r\nRING\r\n", UnsolicitedKind.RING),
    (b"\r\nRING 1\r\n", UnsolicitedKind.RING),
    (b"\r\nNMBR = 5551234\r\n", UnsolicitedKind.CALLER_ID),
    (b"\r\nDATE=0321\r\n", UnsolicitedKind.CALLER_ID),
    (b"\r\nNAME=ALICE\r\n", UnsolicitedKind.CALLER_ID),
    (b"\r\nMESSAGE-WAITING\r\n", UnsolicitedKind.MESSAGE_WAITING),
    (b"\r\nCALL WAITING DETECTED\r\n", UnsolicitedKind.CALL_WAITING),
    (b"\r\nRRING\r\n", UnsolicitedKind.RINGBACK),
    (b"\r\n+PMHR: 3\r\n", UnsolicitedKind.V92),
]


@pytest.mark.parametrize(("urc", "kind"), URC_LINES)
@pytest.mark.parametrize("position", range(len(BASE) + 1))
@pytest.mark.parametrize("split", SPLITS)
def test_unsolicited_never_leaks_into_response(urc: bytes, kind: UnsolicitedKind,
                                               position: int, split: str) -> None:
    stream = b"".join(BASE[:position]) + urc + b"".join(BASE[position:])
    core = ATConnection()
    core.send_command("ATI0")
    events = feed(core, stream, split, seed=position)
    [r] = responses(events)
    assert r.info == ("56000", "CX81801")
    assert [u.kind for u in urcs(events)] == [kind]
    assert not any(isinstance(e, Noise) for e in events)


def test_caller_id_fields() -> None:
    core = ATConnection()
    events = feed(core, b"\r\nRING\r\n\r\nDATE = 0321\r\nTIME=1405\r\nNMBR = P\r\n"
                        b"NAME=O\r\n\r\nRING\r\n")
    fields = [dict(u.fields) for u in urcs(events) if u.kind is UnsolicitedKind.CALLER_ID]
    assert fields == [
        {"field": "DATE", "value": "0321"},
        {"field": "TIME", "value": "1405"},
        {"field": "NMBR", "value": "P", "withheld": "private"},
        {"field": "NAME", "value": "O", "withheld": "unavailable"},
    ]


def test_pcw_query_response_is_information_not_unsolicited() -> None:
    core = ATConnection()
    core.send_command("AT+PCW?")
    events = feed(core, b"\r\n+PCW: 0\r\n\r\nOK\r\n")
    assert responses(events)[0].info == ("+PCW: 0",)
    assert not urcs(events)


def test_numeric_ring_while_idle() -> None:
    core = ATConnection()
    events = feed(core, b"2\r2\r")
    assert [u.kind for u in urcs(events)] == [UnsolicitedKind.RING] * 2


# --- idle traffic -------------------------------------------------------------

def test_no_carrier_while_idle_is_carrier_lost() -> None:
    events = feed(ATConnection(), b"\r\nNO CARRIER\r\n")
    assert isinstance(events[0], CarrierLost)


def test_garbage_while_idle_is_noise() -> None:
    events = feed(ATConnection(), b"\r\n\xff\xfeZZZ\r\n\r\nOK\r\n")
    assert [type(e) for e in events] == [Noise, Noise]


def test_auto_answer_connect_enters_data_mode() -> None:
    core = ATConnection()
    events = feed(core, b"\r\nRING\r\n\r\nRING\r\n\r\nCONNECT 33600\r\nhello")
    assert urcs(events)[-1].kind is UnsolicitedKind.CONNECT
    assert urcs(events)[-1].fields["rate"] == "33600"
    assert core.mode is ProtocolMode.DATA
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"hello"


def test_runaway_line_is_a_parse_failure_and_bounded() -> None:
    core = ATConnection(max_line=64)
    core.receive_data(b"X" * 200)
    events = feed(core, b"", flush=False)
    [pf] = [e for e in events if isinstance(e, ParseFailure)]
    assert pf.discarded == 200
    assert "longer than 64 bytes" in str(pf.error)
    assert core.buffered == 0
    core.send_command("AT")
    assert responses(feed(core, b"\r\nOK\r\n"))[0].ok


# --- data mode ----------------------------------------------------------------

def _online(core: ATConnection) -> None:
    core.send_command("ATD1")
    feed(core, b"ATD1\r\r\nCONNECT 33600\r\n")
    assert core.mode is ProtocolMode.DATA


@pytest.mark.parametrize("split", SPLITS)
def test_data_then_no_carrier(split: str) -> None:
    core = ATConnection()
    _online(core)
    payload = bytes(range(256)) * 4 + b"\r\nNO CAR\r\n"
    events = feed(core, payload + b"\r\nNO CARRIER\r\n", split)
    data = b"".join(e.data for e in events if isinstance(e, Data))
    assert data == payload
    assert isinstance(events[-1], CarrierLost)
    assert core.mode is ProtocolMode.COMMAND


def test_data_tail_held_then_released_on_quiet() -> None:
    core = ATConnection()
    _online(core)
    events = feed(core, b"login:\r\n", flush=False)
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"login:"
    assert core.holding_tail
    events = feed(core, b"", flush=True)
    assert [e.data for e in events if isinstance(e, Data)] == [b"\r\n"]


def test_connect_and_data_in_one_chunk() -> None:
    core = ATConnection()
    core.send_command("ATA")
    events = feed(core, b"ATA\r\r\nCONNECT 2400\r\nabc")
    assert responses(events)[0].rate == 2400
    assert [e.data for e in events if isinstance(e, Data)] == [b"abc"]


@pytest.mark.parametrize("split", SPLITS)
def test_escape_data_until_ok(split: str) -> None:
    core = ATConnection()
    _online(core)
    assert core.send_escape() == b"+++"
    assert core.mode is ProtocolMode.ESCAPING
    events = feed(core, b"late data\r\nOK\r\n", split)
    assert b"".join(e.data for e in events if isinstance(e, Data)) == b"late data"
    [r] = responses(events)
    assert r.ok and r.command == "+++"
    assert core.mode is ProtocolMode.COMMAND


def test_escape_numeric_ok_needs_quiet() -> None:
    core = ATConnection()
    core.send_command("ATV0")
    feed(core, b"ATV0\r0\r")
    core.send_command("ATD1")
    feed(core, b"ATD1\r1\r")
    core.send_escape()
    events = feed(core, b"xyz0\r", flush=True)
    assert [e.data for e in events if isinstance(e, Data)] == [b"xyz"]
    assert responses(events)[0].numeric


def test_escape_timeout_returns_to_data() -> None:
    core = ATConnection()
    _online(core)
    core.send_escape()
    core.abort_command()
    assert core.mode is ProtocolMode.DATA


def test_commands_refused_in_data_mode() -> None:
    core = ATConnection()
    _online(core)
    with pytest.raises(InvalidCallState):
        core.send_command("ATH")
    assert core.send_data(b"x") == b"x"


def test_carrier_lost_releases_held_tail() -> None:
    core = ATConnection()
    _online(core)
    feed(core, b"abc\r", flush=False)
    core.carrier_lost()
    events = feed(core, b"")
    assert [e.data for e in events if isinstance(e, Data)] == [b"\r"]
    assert core.mode is ProtocolMode.COMMAND


# --- commands -------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    "ATDT555\r1234", "ATDT555\n", "ATI0;\rATZ", "", "I0", "DT555", "ATDT\x005",
    "ATDT5551234é", "AT" + "S" * 300,
])
def test_invalid_commands(bad: str) -> None:
    core = ATConnection()
    with pytest.raises(InvalidCommand):
        core.send_command(bad)
    assert core.pending is None


def test_command_formatting() -> None:
    core = ATConnection()
    assert core.send_command("at&v") == b"at&v\r"
    core.abort_command()
    assert core.send_command("A/") == b"A/"


def test_one_command_in_flight() -> None:
    core = ATConnection()
    core.send_command("AT")
    with pytest.raises(InvalidCallState):
        core.send_command("AT")


def test_late_tail_of_aborted_command_is_noise_with_echo_on() -> None:
    core = ATConnection()
    core.send_command("AT")
    feed(core, b"AT\r\r\nOK\r\n")
    core.send_command("ATI3")
    feed(core, b"ATI3\r\r\nCX81801")       # ...and then the engine times out
    core.abort_command()
    core.send_command("AT")
    events = feed(core, b"-V90\r\n\r\nMORE\r\n\r\nOK\r\nAT\r\r\nOK\r\n")
    [r] = responses(events)
    assert r.command == "AT" and r.info == ()
    assert [type(e) for e in events].count(Noise) == 3


def test_second_abort_forgets_echo() -> None:
    """If the echo itself is garbled, a resync must still get through."""
    core = ATConnection()
    core.send_command("AT")
    feed(core, b"AT\r\r\nOK\r\n")
    for _ in range(2):
        core.send_command("ATI0")
        core.abort_command()
    core.send_command("AT")
    assert responses(feed(core, b"AxT\r\r\nOK\r\n"))[0].ok


def test_terminated_runaway_line_keeps_what_follows() -> None:
    core = ATConnection(max_line=64)
    core.send_command("ATI0")
    events = feed(core, b"ATI0\r" + b"Y" * 100 + b"\r\n\r\n56000\r\n\r\nOK\r\n", "whole")
    assert any(isinstance(e, ParseFailure) for e in events)
    assert responses(events)[0].info == ("56000",)


def test_information_lines_per_command_are_bounded() -> None:
    core = ATConnection(max_info=5)
    core.send_command("AT&V")
    events = feed(core, b"".join(b"\r\nS%02d:000\r\n" % i for i in range(20)) + b"\r\nOK\r\n")
    [r] = responses(events)
    assert len(r.info) == 5
    assert sum(isinstance(e, Noise) for e in events) == 15


# --- information text that looks like a result code (issue 7, defect 7) ----------

REGISTER_REPLIES = [
    # (what the modem sends after the echo, the value line, split point after its CR)
    pytest.param(b"\r\n\x00003\r", b"\n\r\nOK\r\n", id="verbose-nul-before-value"),
    pytest.param(b"\r\n00\x113\r", b"\n\r\nOK\r\n", id="verbose-xon-inside-value"),
    pytest.param(b"\x00003\r", b"\n0\r", id="numeric-nul-before-value"),
    pytest.param(b"\r\n003\r", b"\x00\n\r\nOK\r\n", id="verbose-nul-between-cr-and-lf"),
]


@pytest.mark.parametrize(("head", "rest"), REGISTER_REPLIES)
def test_register_value_with_control_character_split_after_cr(head: bytes,
                                                              rest: bytes) -> None:
    """``ATS0?`` answered ``\\x00003`` must be information, never NO CARRIER,
    and the modem's real final result must complete the command."""
    core = ATConnection()
    core.send_command("ATS0?")
    events = feed(core, b"ATS0?\r" + head, flush=False)
    assert not responses(events)
    events += feed(core, rest)
    [r] = responses(events)
    assert (r.final, r.info) == (ResultCode.OK, ("003",))
    assert not any(isinstance(e, Noise) for e in events)


def test_need_data_is_one_value_that_survives_copying() -> None:
    """NEED_DATA is compared with ``is``: a copy or a pickle must be the same object."""
    import copy
    import pickle

    from modemctl.at import NEED_DATA
    assert copy.deepcopy(NEED_DATA) is NEED_DATA
    assert pickle.loads(pickle.dumps(NEED_DATA)) is NEED_DATA
    assert ATConnection().next_event() is NEED_DATA


def test_every_unsolicited_kind_but_connect_has_a_table_row() -> None:
    """The URC table is the one place kinds are recognised (CONNECT comes from
    the result codes); a kind without a row could never be reported."""
    from modemctl.at.unsolicited import RULES
    assert {rule.kind for rule in RULES} == set(UnsolicitedKind) - {UnsolicitedKind.CONNECT}
