"""Any character from the DTE aborts a dial or answer in progress (V.250 §5.2 via [V4 p.19]:
"abortable commands (D, A) are aborted by any character", except in the first 125 ms
after the terminator), byte-exact per personality: the modem hangs up, tells the network
and says NO CARRIER; the aborting character is neither echoed nor executed."""

from __future__ import annotations

import pytest

from modemctl.fake import DceState, available_personalities
from tests.fake.helpers import Harness
from tests.fake.test_dce_calls import until_placed

ALL = available_personalities()
CAN = b"\x18"     # Ctrl-X


def dialling(personality: str) -> Harness:
    h = Harness(personality)
    h.send(b"ATE0\r")
    assert h.send(b"ATDT5551002\r") == b""
    return h


def assert_aborted(h: Harness, out: bytes) -> None:
    assert out == b"\r\nNO CARRIER\r\n"
    assert h.dce.state is DceState.COMMAND and not h.dce.off_hook


@pytest.mark.parametrize("personality", ALL)
@pytest.mark.parametrize("key", [CAN, b"x", b"\r", b" "])
def test_key_aborts_while_dialling_digits(personality: str, key: bytes) -> None:
    h = dialling(personality)
    h.advance(0.2)
    assert_aborted(h, h.send(key))
    assert not h.telco.placed                      # the number was never completed
    assert h.advance(60) == b""                    # and S7 does not fire later


@pytest.mark.parametrize("personality", ALL)
def test_ctrl_x_aborts_while_waiting_for_carrier(personality: str) -> None:
    h = dialling(personality)
    until_placed(h)
    assert_aborted(h, h.send(CAN))
    assert h.telco.hangups == 1                    # the network learns the caller gave up


@pytest.mark.parametrize("personality", ALL)
def test_key_aborts_answer_handshake(personality: str) -> None:
    h = Harness(personality)
    h.telco.offered = True
    h.send(b"ATE0\r")
    assert h.send(b"ATA\r") == b""
    h.advance(1.0)
    assert_aborted(h, h.send(CAN))
    h.dce.connected(33600)                         # training finishing late changes nothing
    assert h.out.take() == b"" and h.dce.state is DceState.COMMAND


@pytest.mark.parametrize("personality", ALL)
def test_bytes_within_125_ms_do_not_abort_and_the_next_line_works(personality: str) -> None:
    h = dialling(personality)
    h.advance(0.1)
    assert h.send(b"\n" + CAN) == b""              # both inside the 125 ms window
    assert h.dce.state is DceState.DIALING
    h.advance(0.1)
    assert_aborted(h, h.send(b"AT\r"))             # the abort eats the whole write...
    assert h.send(b"AT\r") == b"\r\nOK\r\n"        # ...and the modem takes the next line
