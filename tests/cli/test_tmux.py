"""The interactive sessions in a real terminal (tmux): keystrokes in, screen read back."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from modemctl.cli.exitcodes import ExitCode
from tests.cli.procs import MODEMCTL, Fake, Proc, far_end, port_of, run
from tests.cli.tmux import Tmux
from tests.support import require_program

pytestmark = [pytest.mark.tmux, pytest.mark.interop]


@pytest.fixture
def tmux(fake: Fake) -> Iterator[Tmux]:
    term = Tmux(require_program("tmux"), {**fake[1], "TERM": "xterm"})
    try:
        yield term
    finally:
        term.kill()


def test_dial_session_in_a_terminal(fake: Fake,
                                    tmux: Tmux) -> None:
    doc, env = fake
    far = far_end(doc, env)
    try:
        tmux.start([*MODEMCTL, "dial", port_of(doc, "5551001"), "5551002"],
                   then="stty -a | tr ' ' '\\n' | grep -x -e echo -e icanon | tr '\\n' ' '")
        tmux.wait_for("connected; type ~? for help")
        assert far.wait_for(b"connected;"), str(far)

        # Raw mode: keys go to the far end as typed, Enter as CR, no local echo.
        tmux.type("hello")
        tmux.keys("Enter")
        assert far.wait_for(b"hello\r", "out"), str(far)
        assert "hello" not in tmux.screen()
        far.type(b"pong from far end\r\n")
        tmux.wait_for("pong from far end")

        # ~? is local help, not sent.
        tmux.type("~?")
        tmux.wait_for("~s  secure the call that is up")
        # ~s secures the call that is up, and prints the report.
        tmux.type("~s")
        screen = tmux.wait_for("SECURED (connected)")
        assert "pcw-ignore" in screen
        far.type(b"still here\r\n")
        tmux.wait_for("still here")
        # A tilde in the middle of a line is data.
        tmux.type("a~.b")
        assert far.wait_for(b"a~.b", "out"), str(far)
        # ~. only at the start of a line: hang up.
        tmux.keys("Enter")
        tmux.type("~.")
        screen = tmux.wait_for("EXIT=0")
        assert "hung up locally (~.)" in screen and "call ended: NORMAL" in screen
        # The terminal is back in cooked mode with echo.
        assert "icanon echo" in tmux.wait_for("icanon")
        assert far.finish() == ExitCode.ENDED_UNEXPLAINED, str(far)   # far end: bare NO CARRIER
    finally:
        far.stop()
    assert b"~?" not in far.out and b"~s" not in far.out


def test_at_console_in_a_terminal(fake: Fake,
                                  tmux: Tmux) -> None:
    doc, env = fake
    tmux.start([*MODEMCTL, "at", port_of(doc, "5551001")])
    tmux.wait_for("AT>")
    tmux.type("ATI3")
    tmux.keys("Enter")
    tmux.wait_for("CX93001-EIS_V0.2002-V92")
    tmux.type("AT+PCW?")
    tmux.keys("Enter")
    tmux.wait_for("+PCW: 0")
    # History: Up brings back the last command.
    tmux.keys("Up")
    tmux.wait_for("AT> AT+PCW?", count=2)
    tmux.keys("Enter")
    tmux.wait_for("+PCW: 0", count=2)
    tmux.type("AT+BOGUS")
    tmux.keys("Enter")
    tmux.wait_for("ERROR")
    tmux.keys("C-d")
    tmux.wait_for("EXIT=0")
    history = Path(env["XDG_STATE_HOME"]) / "modemctl" / "at_history"
    assert history.read_text().splitlines() == ["ATI3", "AT+PCW?", "AT+BOGUS"]


def test_at_console_dial_joins_the_call_and_tilde_dot_returns(
        fake: Fake, tmux: Tmux) -> None:
    doc, env = fake
    far = far_end(doc, env)
    try:
        tmux.start([*MODEMCTL, "at", port_of(doc, "5551001")])
        tmux.wait_for("AT>")
        tmux.type("ATDT5551002")
        tmux.keys("Enter")
        tmux.wait_for("CONNECT")
        tmux.wait_for("~. hangs up and returns to the console")
        assert far.wait_for(b"connected;"), str(far)
        far.type(b"hi console\r\n")
        tmux.wait_for("hi console")
        tmux.type("~.")
        tmux.wait_for("hung up locally (~.): hung up")
        tmux.type("ATI3")
        tmux.keys("Enter")
        tmux.wait_for("CX93001-EIS_V0.2002-V92")
        tmux.type("quit")
        tmux.keys("Enter")
        tmux.wait_for("EXIT=0")
        assert far.finish() == ExitCode.ENDED_UNEXPLAINED, str(far)   # far end: bare NO CARRIER
    finally:
        far.stop()


def test_at_console_ctrl_c_drops_the_line_and_aborts_a_dial(
        fake: Fake, tmux: Tmux) -> None:
    doc, _env = fake
    tmux.start([*MODEMCTL, "at", port_of(doc, "5551001")])
    tmux.wait_for("AT>")
    tmux.type("ATI3")
    tmux.keys("C-c")
    tmux.wait_for("^C")
    tmux.type("ATDT5551002")            # nobody answers: it would ring for S7 seconds
    tmux.keys("Enter")
    tmux.keys("C-c")
    tmux.wait_for("interrupted: hanging up")
    tmux.type("AT+GMI")
    tmux.keys("Enter")
    screen = tmux.wait_for("+GMI: CONEXANT")
    assert "CX93001" not in screen      # the line dropped by ^C was never sent
    tmux.keys("C-d")
    tmux.wait_for("EXIT=0")


def test_port_held_by_picocom_names_it(fake: Fake,
                                       tmux: Tmux) -> None:
    picocom = require_program("picocom")
    doc, env = fake
    port = port_of(doc, "5551001")
    tmux.start([picocom, "-b", "115200", port])
    tmux.wait_for("Terminal ready")
    result = run(["probe", port], env)
    assert result.returncode == ExitCode.PORT_BUSY, result.stderr
    assert re.search(r"is in use by process \d+ \(picocom\)", result.stderr), result.stderr
    assert "hint: quit picocom or stop it with `kill " in result.stderr


def test_status_lines_do_not_overwrite_far_end_text_ending_in_cr(
        fake: Fake, tmux: Tmux) -> None:
    doc, env = fake
    # The far end shows a progress counter (ending in a bare CR), then hangs up.
    far = Proc([*MODEMCTL, "answer", "--send", r"progress 50%\r", "--idle", "1",
                port_of(doc, "5551002")], env, stdin=True)
    try:
        assert far.wait_for(b"waiting for a call"), str(far)
        far.close_stdin()
        # Piped input, the terminal as output: what a script run by hand shows.
        dial = shlex.join([*MODEMCTL, "dial", port_of(doc, "5551001"), "5551002"])
        tmux.start(["sh", "-c", f"sleep 60 | {dial}"])
        screen = tmux.wait_for("cannot tell which")
    finally:
        far.stop()
    # (The +++ with which the far end's modem hangs up arrives as data after the CR.)
    assert "gress 50%" in screen, screen


def test_another_escape_character_in_a_terminal(fake: Fake,
                                                tmux: Tmux) -> None:
    doc, env = fake
    far = far_end(doc, env)
    try:
        tmux.start([*MODEMCTL, "dial", "-e", "%", port_of(doc, "5551001"), "5551002"])
        tmux.wait_for("connected; type %? for help, %. to hang up")
        tmux.type("~.")                       # not the escape any more: data
        tmux.keys("Enter")
        assert far.wait_for(b"~.\r", "out"), str(far)
        tmux.type("%.")
        screen = tmux.wait_for("EXIT=0")
        assert "hung up locally (%.)" in screen
    finally:
        far.stop()
