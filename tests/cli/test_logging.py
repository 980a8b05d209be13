"""Global logging options: -v/-q levels, --log-format json, --trace."""

from __future__ import annotations

import json
import logging

import pytest

from modemctl import log
from modemctl.cli.context import Settings, configure_logging, log_level


@pytest.mark.parametrize(("verbosity", "trace", "level"), [
    (0, False, logging.WARNING), (1, False, logging.INFO), (2, False, logging.DEBUG),
    (5, False, logging.DEBUG), (-1, False, logging.ERROR), (-3, False, logging.CRITICAL),
    (0, True, logging.DEBUG), (-1, True, logging.DEBUG)])
def test_levels(verbosity: int, trace: bool, level: int) -> None:
    assert log_level(verbosity, trace) == level


def test_json_format_writes_one_json_object_per_event(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(verbosity=1, log_format="json"))
    log.get_logger(line="A").info("opened", port="/dev/x")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert (event["event"], event["line"], event["port"], event["level"]) == (
        "opened", "A", "/dev/x", "info")


def test_trace_shows_bytes_but_not_other_debug_events(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    configure_logging(Settings(trace=True, log_format="json"))
    logger = log.get_logger()
    logger.debug("internal detail")
    log.trace_bytes(logger, "tx", b"ATI3\r")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    assert [e["event"] for e in lines] == ["trace"]
    assert lines[0]["text"] == "ATI3\\r" and lines[0]["dir"] == "tx"


def test_trace_with_vv_keeps_all_debug(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(trace=True, verbosity=2, log_format="json"))
    log.get_logger().debug("internal detail")
    assert "internal detail" in capsys.readouterr().err


def test_quiet_hides_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(verbosity=-1))
    log.get_logger().warning("not shown")
    log.get_logger().error("shown")
    err = capsys.readouterr().err
    assert "not shown" not in err and "shown" in err
