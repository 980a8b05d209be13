"""Secret dial digits reach the modem and nothing else: not a log line, not the
byte trace (also when split across reads), not an error, not ``call.number``."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest
import structlog

from modemctl.errors import CommandError, InvalidAddress
from modemctl.fake import Exchange
from modemctl.line import CallState, open_line
from modemctl.line.dialstring import validate_number
from modemctl.log import ByteTrace, configure, get_logger, register_secret, trace_bytes

SCALE = 0.02
PIN = "97531"                   # digits that appear nowhere else in a test's logs
HEX = PIN.encode().hex(" ")


def leaks(events: list[dict[str, Any]], secret: str) -> list[str]:
    """Every captured event, rendered whole, that shows ``secret`` as text or hex."""
    shown = [json.dumps(e, default=repr) for e in events]
    return [s for s in shown if secret in s or secret.encode().hex(" ") in s]


async def test_secret_digits_are_dialled_but_never_logged_or_traced() -> None:
    async with Exchange(time_scale=SCALE) as ex:
        near_fake = await ex.add_line("5551001", personality="conexant-v92")
        with structlog.testing.capture_logs() as events:
            async with open_line(near_fake.port, time_scale=SCALE, trace=True) as line:
                async with asyncio.timeout(20):
                    # Nobody has that number: the modem gives up after S7.
                    call = await line.make_call("5551002,,{" + PIN + "}#")
    assert PIN in near_fake.call_log[-1].dialled           # the modem got the digits
    assert call.state is CallState.DISCONNECTED
    assert call.number == "5551002,,***#"
    assert PIN not in repr(call)
    (dial,) = [e for e in events if e["event"] == "dial" and "command" in e]
    assert dial["command"] == "ATDT5551002,,***#"
    traces = [e for e in events if e["event"] == "trace" and e["dir"] == "tx"]
    assert any("*****" in e["text"] for e in traces)          # the trace saw the dial
    assert leaks(events, PIN) == []


def test_a_secret_split_across_reads_is_masked_in_text_and_hex() -> None:
    register_secret(PIN)
    stream = b"ATDT5551002,,," + PIN.encode() + b"#\r\r\nOK\r\n"
    for cut in range(1, len(stream)):
        for second_cut in (cut + 1, cut + 3):
            chunks = [stream[:cut], stream[cut:second_cut], stream[second_cut:]]
            with structlog.testing.capture_logs() as events:
                log = get_logger(line=f"split-{cut}-{second_cut}")
                for chunk in chunks:
                    if chunk:
                        trace_bytes(log, "rx", chunk)
            assert leaks(events, PIN) == []
            joined = "".join(e["text"] for e in events)
            hexed = " ".join(e["hex"] for e in events)
            assert PIN not in joined and HEX not in hexed
            assert sum(e["n"] for e in events) == len(stream)
            assert "OK" in joined                    # what is not secret is still shown


def test_byte_trace_masks_one_byte_at_a_time() -> None:
    register_secret(PIN)
    tracer = ByteTrace()
    masked = b"".join(tracer.mask(bytes([b])) for b in b"x" + PIN.encode() + b"y")
    assert masked.startswith(b"x") and PIN.encode() not in masked and masked.endswith(b"y")


def test_registered_secrets_leave_rendered_logs_and_error_text() -> None:
    register_secret(PIN)
    out = io.StringIO()
    configure(level=logging.DEBUG, fmt="json", stream=out)
    log = get_logger(line="x").bind(call_id="c1")
    log.info("dial", command=f"ATDT555,{PIN}#")
    err = CommandError(f"ATDT555,{PIN}#", "ERROR")
    log.warning("failed", error=str(err), exc=repr(err))
    assert PIN not in out.getvalue() and "***" in out.getvalue()
    assert PIN not in str(err) and PIN not in repr(err)


@pytest.mark.parametrize("number", ["5551002,{" + PIN + "}X", "5551002,{" + PIN + "};ATH"])
def test_a_refused_secret_number_names_no_digit(number: str) -> None:
    with pytest.raises(InvalidAddress) as info:
        validate_number(number)
    assert PIN not in str(info.value) and PIN not in repr(info.value)
