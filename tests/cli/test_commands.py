"""Every command and its error paths through click's runner, against a fake exchange."""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode, render_table
from modemctl.line import open_line
from tests.cli.fakes import SCALE, FakeSwitch, after, keyboard, type_then_close, wait_for

pytestmark = pytest.mark.usefixtures("scaled")


def invoke(runner: CliRunner, *args: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return runner.invoke(main, list(args), catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


# --- probe ---------------------------------------------------------------------


def test_probe_shows_identity_and_how_calls_can_be_secured(runner: CliRunner,
                                                           switch: FakeSwitch) -> None:
    result = invoke(runner, "probe", switch.port("5551001"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "profile     conexant (identified)" in out
    assert "CX93001" in out and "V.92        yes" in out
    assert re.search(r"cancel-code\s+yes\s+no\s+US cancels call waiting", out)
    assert re.search(r"pcw-ignore\s+yes\s+yes", out)
    assert re.search(r"v92-call-waiting\s+yes\s+AT\+PCW=\? offered", out)
    assert re.search(r"caller-id\s+yes\s+AT\+VCID=\? offered .*read back", out)
    # Every mechanism dial --secure will apply, not only those that protect on their own.
    assert ("dial --secure applies: cancel-code, pcw-ignore, moh-off, s10-ride-through, "
            "auto-answer-off") in out


def test_probe_leaves_the_modem_country_as_found(runner: CliRunner,
                                                 switch: FakeSwitch) -> None:
    dce = switch.exchange.lines["5551001"].dce
    before = dce.country
    result = invoke(runner, "probe", "--location", "DE", switch.port("5551001"))
    assert result.exit_code == 0, result.output
    assert dce.country == before                     # set for the probe, put back at close
    result = invoke(runner, "probe", "--json", switch.port("5551001"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["modem_country"] == before
    assert dce.country == before


def test_probe_json_for_scripts(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "probe", "--json", "--location", "DE", switch.port("5551003"))
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["port"] == switch.port("5551003") and found["location"] == "DE"
    assert found["v92"] is False
    mechanisms = {m["name"]: m for m in found["mechanisms"]}
    assert mechanisms["pcw-ignore"]["at_dial"] is False
    assert mechanisms["cancel-code"]["at_dial"] is False
    assert mechanisms["s10-ride-through"]["reason"]


def test_probe_by_line_name_from_config(runner: CliRunner, switch: FakeSwitch,
                                        config_file: Path) -> None:
    config_file.write_text(f'[line.office]\nport = "{switch.port("5551002")}"\n')
    result = invoke(runner, "probe", "office")
    assert result.exit_code == 0, result.output
    assert "(line office)" in result.output and "profile     agere" in result.output


def test_default_line_from_environment(runner: CliRunner, switch: FakeSwitch,
                                       config_file: Path) -> None:
    config_file.write_text(f'[line.office]\nport = "{switch.port("5551002")}"\n')
    result = invoke(runner, "probe", env={"MODEMCTL_LINE": "office"})
    assert result.exit_code == 0, result.output
    assert "profile     agere" in result.output


# --- error paths -----------------------------------------------------------------


def test_missing_port_suggests_ports(runner: CliRunner) -> None:
    result = invoke(runner, "probe", "/dev/ttyNOPE9")
    assert result.exit_code == ExitCode.PORT_NOT_FOUND, result.output
    assert "/dev/ttyNOPE9" in result.output and "modemctl ports" in result.output
    assert "Traceback" not in result.output


def test_busy_port_names_the_holder(runner: CliRunner, switch: FakeSwitch) -> None:
    port = switch.port("5551001")
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with open_line(port, time_scale=SCALE, probe=False):
            held.set()
            await release.wait()

    future = switch.spawn(hold())
    try:
        assert wait_for(held.is_set)
        result = invoke(runner, "probe", port)
    finally:
        switch.loop.spawn(_set(release))
        future.result(10)
    assert result.exit_code == ExitCode.PORT_BUSY, result.output
    assert f"process {os.getpid()}" in result.output
    assert f"kill {os.getpid()}" in result.output


async def _set(event: asyncio.Event) -> None:
    event.set()


def test_stalled_modem_lists_what_recovery_tried(runner: CliRunner, switch: FakeSwitch) -> None:
    switch.exchange.lines["5551001"].inject("stall", duration=1000.0)
    result = invoke(runner, "at", switch.port("5551001"), input="AT\nAT\n")
    assert result.exit_code == ExitCode.MODEM_FAILED, result.output
    assert "error: no final result for 'AT'" in result.output     # first timeout
    assert "error: the modem does not respond; tried, in order:" in result.output
    assert re.search(r"^  resync: failed", result.output, re.M)
    assert "Traceback" not in result.output


def test_not_a_modem_times_out_with_a_hint(runner: CliRunner) -> None:
    result = invoke(runner, "probe", "loop://")
    assert result.exit_code == ExitCode.MODEM_FAILED, result.output
    assert "no final result for 'ATE0Q0V1'" in result.output
    assert "only the command came back" in result.output      # loop:// echoes
    assert "a port that only echoes (a loopback) has no modem" in result.output


def test_unknown_line_name(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text('[line.office]\nport = "/dev/ttyUSB0"\n')
    result = invoke(runner, "dial", "offfice", "5551234")
    assert result.exit_code == ExitCode.CONFIG
    assert "no line named 'offfice' (configured lines: office)" in result.output
    assert str(config_file) in result.output


def test_malformed_config_when_resolving_a_port(runner: CliRunner, config_file: Path) -> None:
    config_file.write_text('[line.office]\nport = "/dev/ttyUSB0"\nsecure = "yes"\n')
    result = invoke(runner, "probe", "office")
    assert result.exit_code == ExitCode.CONFIG
    assert f"error: config {config_file}: [line.office]: 'secure' must be" in result.output


def test_no_port_and_no_default(runner: CliRunner) -> None:
    assert invoke(runner, "probe").exit_code == ExitCode.CONFIG
    result = invoke(runner, "dial", "5551234")
    assert result.exit_code == ExitCode.USAGE
    assert "MODEMCTL_LINE" in result.output


def test_invalid_number_says_which_character(runner: CliRunner) -> None:
    # Refused before the port is even opened: this port does not exist.
    result = invoke(runner, "dial", "/dev/ttyNOPE9", "555;ATH")
    assert result.exit_code == ExitCode.INVALID_NUMBER, result.output
    assert "position 4 (';')" in result.output
    assert "  555;ATH\n     ^" in result.output


def test_secure_fails_closed_where_nothing_can_secure(runner: CliRunner,
                                                      switch: FakeSwitch) -> None:
    result = invoke(runner, "dial", "--secure", "--location", "DE", switch.port("5551003"),
                    "5551001")
    assert result.exit_code == ExitCode.SECURE_UNAVAILABLE, result.output
    assert "NOT SECURED" in result.output and "--best-effort" in result.output
    # Nothing was dialled: the far line never rang.
    assert all(r.outcome != "answered" for r in switch.exchange.lines["5551001"].call_log)


def test_no_dialtone_exit_code(runner: CliRunner, switch: FakeSwitch) -> None:
    switch.exchange.set_line_dead("5551001", True)
    result = invoke(runner, "dial", switch.port("5551001"), "5551002")
    assert result.exit_code == ExitCode.NO_DIALTONE, result.output
    assert "NODIALTONE" in result.output


def test_busy_exit_code(runner: CliRunner, switch: FakeSwitch) -> None:
    party = switch.run(switch.exchange.ring_in("5551002", caller="5559999"))
    try:
        # 5551002 is ringing (an incoming call is offered): a second caller gets busy.
        result = invoke(runner, "dial", switch.port("5551001"), "5551002")
    finally:
        switch.run(party.hangup())
    assert result.exit_code == ExitCode.BUSY, result.output
    assert "call not connected: BUSY" in result.output


def test_dial_help_lists_the_exit_codes(runner: CliRunner) -> None:
    result = invoke(runner, "dial", "--help")
    assert result.exit_code == 0
    assert " ".join(render_table().split()) in " ".join(result.output.split())


# --- dial and answer -------------------------------------------------------------


def test_dial_connects_the_terminal_and_hangs_up_at_end_of_input(
        runner: CliRunner, switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002", greeting=b"welcome\r\n")
    with keyboard() as (stdin, type_, close):
        type_then_close(peer, type_, close, b"hello\r")
        result = runner.invoke(main, ["dial", "--secure", switch.port("5551001"), "5551002"],
                               input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    assert bytes(peer.received).startswith(b"hello\r")
    out = result.output
    assert result.stdout_bytes.startswith(b"welcome\r\nHELLO")   # far end data: stdout
    assert "SECURED (dial)" in out and "DIALING -> CONNECTED" in out
    assert "end of input: hanging up" in out and "call ended: NORMAL" in out
    assert peer.ended.wait(10)


def test_quiet_dial_prints_only_the_far_end(runner: CliRunner, switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002", greeting=b"welcome\r\n")
    with keyboard() as (stdin, type_, close):
        type_then_close(peer, type_, close, b"x")
        result = runner.invoke(main, ["-q", "dial", switch.port("5551001"), "5551002"],
                               input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    assert result.stderr == "", result.stderr
    assert result.stdout_bytes.startswith(b"welcome\r\n")


def test_dial_tilde_dot_hangs_up(runner: CliRunner, switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002")
    with keyboard() as (stdin, type_, _close):
        after(peer.connected.is_set, lambda: type_(b"abc\r~."))
        result = runner.invoke(main, ["dial", "-e", "~", switch.port("5551001"), "5551002"],
                               input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    assert "hung up locally (~.)" in result.output
    assert wait_for(lambda: bytes(peer.received).startswith(b"abc\r"))


def test_dial_tilde_s_secures_the_call_that_is_up(runner: CliRunner,
                                                  switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002")
    with keyboard() as (stdin, type_, close):
        after(peer.connected.is_set, lambda: type_(b"~s"))
        after(lambda: peer.connected.is_set() and b"+++" in peer.received,
              lambda: type_(b"after\r~."), limit=25)
        result = runner.invoke(main, ["dial", "--escape", "~", switch.port("5551001"),
                                      "5551002"], input=stdin)
        close()
    assert result.exit_code == ExitCode.OK, result.output
    assert "SECURED (connected)" in result.output
    assert wait_for(lambda: b"after\r" in peer.received), (result.output, peer.received)


def test_answer_shows_caller_id_and_connects(runner: CliRunner, switch: FakeSwitch,
                                             waiting_for_call: threading.Event) -> None:
    answered = threading.Event()

    async def caller() -> bytes:
        assert await asyncio.to_thread(waiting_for_call.wait, 15)
        party = await switch.exchange.ring_in("5551002", caller="5559999", name="ALICE")
        assert await party.answered()
        answered.set()
        party.write(b"hi from alice\r\n")
        got = b""
        async with asyncio.timeout(10):
            while not got.endswith(b"\r"):
                got += await party.read(100)
        await party.hangup()
        return got

    with keyboard() as (stdin, type_, _close):
        future = switch.spawn(caller())
        after(answered.is_set, lambda: type_(b"hello alice\r"))
        result = runner.invoke(main, ["answer", switch.port("5551002")], input=stdin)
    # The far end hung up: on a pty (no DCD, no RI) that cannot be told from a lost line.
    assert result.exit_code == ExitCode.ENDED_UNEXPLAINED, result.output
    out = result.output
    assert "incoming call: 5559999 (ALICE)" in out
    assert result.stdout_bytes == b"hi from alice\r\n"
    assert "call ended: NORMAL" in out
    assert future.result(10) == b"hello alice\r"


def test_answer_gives_up_after_timeout(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "answer", "--timeout", "0.5", switch.port("5551002"))
    assert result.exit_code == ExitCode.NO_CALL
    assert "no call within 0.5 s" in result.output


# --- at ---------------------------------------------------------------------------


def test_at_prints_responses(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "at", switch.port("5551001"), "ATI3", "AT+GMI", "ATS0?")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["CX93001-EIS_V0.2002-V92", "OK",
                                          "+GMI: CONEXANT", "OK", "000", "OK"]


def test_at_stops_at_the_first_error(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "at", switch.port("5551003"), "AT+PCW=2", "ATI3")
    assert result.exit_code == ExitCode.MODEM_FAILED
    assert result.output.splitlines()[0] == "ERROR"
    assert "OK" not in result.output


def test_at_console_reads_commands_from_a_pipe(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "at", switch.port("5551002"),
                    input="ATI3\n\nAT+NOPE\nAT+GMI\nquit\nATI0\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "MT5634ZBA" in out and "ERROR" in out and "Multi-Tech" in out
    assert out.count("OK") == 2                     # ATI0 after quit was never sent


def test_at_default_line_takes_commands_only(runner: CliRunner, switch: FakeSwitch,
                                            config_file: Path) -> None:
    config_file.write_text(f'[line.lab]\nport = "{switch.port("5551001")}"\n')
    result = invoke(runner, "at", "ATI3", env={"MODEMCTL_LINE": "lab"})
    assert result.exit_code == 0, result.output
    assert "CX93001" in result.output


def test_trace_logs_every_byte(runner: CliRunner, switch: FakeSwitch) -> None:
    result = invoke(runner, "--trace", "at", switch.port("5551001"), "ATI3")
    assert result.exit_code == 0
    assert re.search(r"trace .*dir=tx .*text=ATI3\\r", result.output)
    assert re.search(r"trace .*dir=rx", result.output)


def test_at_dial_result_gives_the_disconnect_status(runner: CliRunner,
                                                    switch: FakeSwitch) -> None:
    switch.exchange.set_line_dead("5551001", True)
    result = invoke(runner, "at", switch.port("5551001"), "ATDT5551002")
    assert result.exit_code == ExitCode.NO_DIALTONE, result.output
    assert result.output.splitlines() == ["NO DIALTONE"]


def _ring(switch: FakeSwitch, number: str, waiting: threading.Event) -> None:
    """Call ``number`` once the command waits for a call; stay on the line until
    the command hangs up (its own, local hang-up is what the test looks at)."""
    async def caller() -> None:
        assert await asyncio.to_thread(waiting.wait, 15)
        party = await switch.exchange.ring_in(number, caller="5559999")
        await party.answered()
        async with asyncio.timeout(20):
            while await party.read(100):
                pass

    switch.spawn(caller())


def test_answer_secure_reports_what_it_applied(runner: CliRunner, switch: FakeSwitch,
                                               waiting_for_call: threading.Event) -> None:
    _ring(switch, "5551002", waiting_for_call)
    result = runner.invoke(main, ["answer", "--secure", switch.port("5551002")], input=b"")
    assert result.exit_code == ExitCode.OK, result.output
    assert "answering (secure=true)" in result.output
    assert "SECURED (answer), by:" in result.output and "pcw-ignore" in result.output


def test_answer_secure_fails_closed_before_waiting(runner: CliRunner,
                                                   switch: FakeSwitch) -> None:
    # No call ever comes: the refusal must not wait for one (--timeout bounds the old way).
    result = invoke(runner, "answer", "--secure", "--timeout", "3", "--location", "DE",
                    switch.port("5551003"))
    assert result.exit_code == ExitCode.SECURE_UNAVAILABLE, result.output
    assert "no way to secure an answered call" in result.output
    assert "pcw-ignore:" in result.output
    assert "waiting for a call" not in result.output and "RING" not in result.output


def test_fax_call_on_a_modem_without_fax_is_refused(runner: CliRunner,
                                                    switch: FakeSwitch) -> None:
    result = invoke(runner, "dial", "--media", "fax", switch.port("5551003"), "5551001")
    assert result.exit_code == ExitCode.SECURE_UNAVAILABLE, result.output
    assert "for a fax call" in result.output and "no fax class" in result.output


def test_json_log_lines_carry_line_and_call(runner: CliRunner, switch: FakeSwitch) -> None:
    peer = switch.echo_peer("5551002")
    result = runner.invoke(main, ["-v", "--log-format", "json", "dial", switch.port("5551001"),
                                  "5551002"], input=b"")
    assert result.exit_code == ExitCode.OK, result.output
    events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    states = [e for e in events if e.get("event") == "call-state"]
    assert states and all("call_id" in e and "line" in e for e in states)
    assert {"DIALING", "CONNECTED", "DISCONNECTED"} <= {e["new"] for e in states}
    assert peer.ended.wait(10)


def test_answer_on_ring_n_when_the_caller_gives_up_first(
        runner: CliRunner, switch: FakeSwitch, waiting_for_call: threading.Event) -> None:
    async def impatient() -> None:
        assert await asyncio.to_thread(waiting_for_call.wait, 15)
        await switch.exchange.ring_in("5551002", caller="5559999", max_rings=2)

    switch.spawn(impatient())
    result = invoke(runner, "answer", "--rings", "4", switch.port("5551002"))
    assert result.exit_code == ExitCode.NO_ANSWER, result.output
    assert "RING #2" in result.output and "RING #3" not in result.output
    assert "the caller hung up after 2 ring(s)" in result.output
