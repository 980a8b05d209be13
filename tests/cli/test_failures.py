"""Error messages: short, and each with the next step."""

from __future__ import annotations

import os

from modemctl import errors
from modemctl.cli.failures import describe
from modemctl.cli.target import NoPortGiven, UnknownLine
from modemctl.line.report import Mechanism, MechanismReport, SecureReport


def text(exc: BaseException) -> str:
    return "\n".join(describe(exc))


def test_busy_port_names_the_holder_from_proc() -> None:
    msg = text(errors.PortBusy("/dev/ttyUSB0", os.getpid(), "/var/lock/LCK..ttyUSB0"))
    assert f"process {os.getpid()} (" in msg
    assert "/var/lock/LCK..ttyUSB0" in msg
    assert f"kill {os.getpid()}" in msg


def test_busy_port_with_known_name_and_no_pid() -> None:
    msg = text(errors.PortBusy("/dev/ttyUSB0", None, None))
    assert "another process" in msg and "hint:" in msg


def test_invalid_number_points_at_the_character() -> None:
    lines = describe(errors.InvalidAddress("555x1234", 3, "letters are not dialable"))
    assert "position 4 ('x')" in lines[0]
    assert lines[1] == "  555x1234"
    assert lines[2] == "     ^"
    assert lines[3].startswith("hint:")


def test_invalid_number_with_a_line_break_shows_it_escaped() -> None:
    lines = describe(errors.InvalidAddress("55\r1", 2, "a line break"))
    assert lines[1] == "  55\\r1"
    assert lines[2] == "    ^"


def test_unresponsive_modem_lists_what_was_tried() -> None:
    steps = [errors.RecoveryStep("resync", False, "no OK"),
             errors.RecoveryStep("dtr-drop", False)]
    msg = text(errors.ModemUnresponsive(steps))
    assert "resync: failed (no OK)" in msg and "dtr-drop: failed" in msg


def test_unknown_line_and_missing_port() -> None:
    msg = text(UnknownLine("/cfg.toml", "offce", ["office"]))
    assert "no line named 'offce'" in msg and "[line.offce]" in msg and "/cfg.toml" in msg
    assert "MODEMCTL_LINE" in text(NoPortGiven("/cfg.toml"))


def test_config_error_names_the_file() -> None:
    assert text(errors.ConfigError("/x/config.toml", "bad")).startswith(
        "error: config /x/config.toml: bad")


def test_permission_denied_on_a_device_suggests_the_group() -> None:
    exc = PermissionError(13, "Permission denied", "/dev/ttyS0")
    msg = text(exc)
    assert "permission denied opening /dev/ttyS0" in msg and "dialout" in msg


def test_secure_unavailable_shows_the_report_and_the_way_out() -> None:
    report = SecureReport("near#1", "dial", True, (
        MechanismReport(Mechanism.CANCEL_CODE, False, False, False, "DE has no cancel code"),
        MechanismReport(Mechanism.PCW_IGNORE, False, False, False, "+PCW=? refused")))
    msg = text(errors.OperationUnavailable("nothing can secure this call", report))
    assert "NOT SECURED (dial)" in msg and "--best-effort" in msg
    assert "cancel-code  not applied" in msg and "DE has no cancel code" in msg
