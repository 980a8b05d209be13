"""``dial``/``answer`` in scripts: piped input is data, chat-style steps, honest exit statuses.

Both ends are real ``modemctl`` processes on a ``modemctl fake run`` exchange.
"""

from __future__ import annotations

import subprocess
from typing import Any

from modemctl.cli.exitcodes import ExitCode
from tests.cli.procs import MODEMCTL, Fake, Proc, far_end, port_of, run


def piped_dial(doc: dict[str, Any], env: dict[str, str], data: bytes, *options: str
               ) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*MODEMCTL, "dial", *options, port_of(doc, "5551001"), "5551002"],
                          input=data, env=env, capture_output=True, timeout=60, check=False)


def test_piped_input_is_data_even_where_it_looks_like_an_escape(fake: Fake) -> None:
    doc, env = fake
    data = b"line one\n~.\nline two\n~~ and ~s\n"
    answer = far_end(doc, env)
    try:
        dial = piped_dial(doc, env, data, "--idle", "1")
        assert answer.wait_for(b"~s\n", "out"), str(answer)
    finally:
        answer.stop()
    assert dial.returncode == ExitCode.OK, dial.stderr
    # Every byte, none taken as a command (then the +++ with which the modem hangs up).
    assert bytes(answer.out).removesuffix(b"+++") == data
    assert b"end of input: hanging up" in dial.stderr


def test_a_chosen_escape_works_in_a_pipe_too(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env)
    try:
        dial = piped_dial(doc, env, b"first\r%.never sent\r", "-e", "%", "--idle", "1")
    finally:
        answer.stop()
    assert dial.returncode == ExitCode.OK, dial.stderr
    assert b"hung up locally (%.)" in dial.stderr
    assert bytes(answer.out).removesuffix(b"+++") == b"first\r"


def test_a_scripted_login_gets_the_whole_reply(fake: Fake) -> None:
    doc, env = fake
    # The far end prompts, waits for the login, then answers after a pause.
    answer = far_end(doc, env, "--send", "login: ", "--expect", r"guest\r",
                     "--send", r"welcome guest\r\n")
    try:
        dial = piped_dial(doc, env, b"", "--expect", "login: ", "--send", r"guest\r",
                          "--expect", "welcome", "--idle", "1")
        assert answer.finish(30) == ExitCode.ENDED_UNEXPLAINED, str(answer)
    finally:
        answer.stop()
    assert dial.returncode == ExitCode.OK, dial.stderr
    assert dial.stdout.startswith(b"login: welcome guest\r\n"), dial.stdout
    assert bytes(answer.out).removesuffix(b"+++") == b"guest\r"


def test_expect_that_never_comes_fails_with_its_own_status(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env, "--send", "hello")
    try:
        dial = piped_dial(doc, env, b"", "--expect", "password:", "--expect-timeout", "1")
    finally:
        answer.stop()
    assert dial.returncode == ExitCode.EXPECT_FAILED, dial.stderr
    assert b"the expected text did not come: hanging up" in dial.stderr


def test_the_far_end_hanging_up_is_not_a_clean_exit(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env, "--send", "bye", "--idle", "0.5")
    answer.close_stdin()                 # it hangs up once it has been quiet for 0.5 s
    dial = Proc([*MODEMCTL, "dial", port_of(doc, "5551001"), "5551002"], env, stdin=True)
    try:
        assert answer.finish(30) == ExitCode.OK, str(answer)
        code = dial.finish(30)
    finally:
        dial.stop()
        answer.stop()
    assert code == ExitCode.ENDED_UNEXPLAINED, str(dial)
    assert b"cannot tell which" in dial.err


def test_a_port_that_vanishes_mid_call_is_a_lost_call(fake: Fake) -> None:
    doc, env = fake
    answer = far_end(doc, env)
    dial = Proc([*MODEMCTL, "dial", port_of(doc, "5551001"), "5551002"], env, stdin=True)
    try:
        assert dial.wait_for(b"connected;"), str(dial)
        unplugged = run(["fake", "inject", "5551001", "unplug", "--param", "duration=1"], env)
        assert unplugged.returncode == 0, unplugged.stderr
        code = dial.finish(30)
    finally:
        dial.stop()
        answer.stop()
    assert code == ExitCode.CALL_LOST, str(dial)
    assert b"the call was lost: UNKNOWN" in dial.err
