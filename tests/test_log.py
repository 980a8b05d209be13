"""modemctl.log: quiet until configured, lazy, and secrets never printed."""

from __future__ import annotations

import logging

import pytest
import structlog

from modemctl.log import configure, get_logger, register_secret, trace_bytes


def test_unconfigured_library_prints_only_warnings_to_stderr(
        capsys: pytest.CaptureFixture[str]) -> None:
    log = get_logger(line="ttyS0")
    log.debug("chatter")
    log.info("more-chatter")
    log.warning("port-lost", error="EIO")
    out, err = capsys.readouterr()
    assert out == ""
    assert "chatter" not in err and "port-lost" in err and "line=ttyS0" in err


def test_a_logger_made_before_configure_follows_it() -> None:
    log = get_logger(line="ttyS0").bind(call_id="c1")
    with structlog.testing.capture_logs() as logs:
        log.debug("dial", command="ATDT1")
    assert logs == [{"event": "dial", "command": "ATDT1", "line": "ttyS0",
                     "call_id": "c1", "log_level": "debug"}]


def test_a_logger_used_before_reconfiguring_follows_the_new_configuration(
        capsys: pytest.CaptureFixture[str]) -> None:
    """Loggers bind once per configuration (speed), not once for ever."""
    log = get_logger(line="ttyS2")
    configure(level=logging.INFO, fmt="json")
    log.info("printed")
    with structlog.testing.capture_logs() as logs:
        log.info("captured", n=1)
    configure(level=logging.ERROR, fmt="json")
    log.info("dropped")
    log.error("printed-again")
    err = capsys.readouterr().err
    assert [e["event"] for e in logs] == ["captured"]
    assert '"event": "printed"' in err and '"event": "printed-again"' in err
    assert "captured" not in err and "dropped" not in err


def test_configure_sets_level_and_format(capsys: pytest.CaptureFixture[str]) -> None:
    configure(level=logging.INFO, fmt="json")
    log = get_logger(line="ttyS1")
    log.debug("hidden")
    log.info("shown", n=1)
    err = capsys.readouterr().err
    assert "hidden" not in err and '"event": "shown"' in err and '"line": "ttyS1"' in err


def test_secrets_are_redacted_in_text_and_hex() -> None:
    register_secret("hunter2")
    with structlog.testing.capture_logs() as logs:
        trace_bytes(get_logger(line="x"), "tx", b"PASS hunter2\r")
    (event,) = logs
    assert "hunter2" not in event["text"]
    assert b"hunter2".hex(" ") not in event["hex"] and event["n"] == 13
