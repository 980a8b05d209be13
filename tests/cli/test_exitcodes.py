"""The exit-code table: one definition, rendered in --help and the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from modemctl import errors
from modemctl.cli.exitcodes import EXIT_CODES, ExitCode, for_error, for_reason, render_table
from modemctl.line.states import DisconnectReason

DOCS = Path(__file__).resolve().parents[2] / "README.md"


def test_codes_are_unique_and_all_in_the_table() -> None:
    codes = [row.code for row in EXIT_CODES]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(ExitCode)


def test_every_reason_is_listed_once() -> None:
    reasons = [r for row in EXIT_CODES for r in row.reasons]
    assert len(reasons) == len(set(reasons))


@pytest.mark.parametrize(("reason", "code"), [
    ("NORMAL", ExitCode.OK), ("BUSY", ExitCode.BUSY), ("NOANSWER", ExitCode.NO_ANSWER),
    ("NODIALTONE", ExitCode.NO_DIALTONE), ("UNAVAIL", ExitCode.UNAVAILABLE),
    ("BLOCKED", ExitCode.REJECTED), ("CARRIERLOST", ExitCode.CALL_LOST),
    ("CALLWAITING", ExitCode.CALL_LOST), ("no_answer", ExitCode.NO_ANSWER),
    ("SOMETHING-NEW", ExitCode.CALL_LOST), (None, ExitCode.OK)])
def test_reason_to_code(reason: str | None, code: ExitCode) -> None:
    assert for_reason(reason) is code


def test_every_disconnect_reason_of_the_line_layer_has_a_code() -> None:
    listed = {r for row in EXIT_CODES for r in row.reasons}
    for reason in DisconnectReason:
        assert reason.name in listed, f"{reason.name} missing from the exit-code table"
    assert for_reason(DisconnectReason.BUSY) is ExitCode.BUSY


@pytest.mark.parametrize(("exc", "code"), [
    (errors.PortBusy("/dev/x", 1, None), ExitCode.PORT_BUSY),
    (errors.PortNotFound("/dev/x"), ExitCode.PORT_NOT_FOUND),
    (errors.InvalidAddress("55x", 2, "letter"), ExitCode.INVALID_NUMBER),
    (errors.OperationUnavailable("no"), ExitCode.SECURE_UNAVAILABLE),
    (errors.ModemUnresponsive([]), ExitCode.MODEM_FAILED),
    (errors.CommandError("AT", "ERROR"), ExitCode.MODEM_FAILED),
    (errors.ConfigError("f", "bad"), ExitCode.CONFIG),
    (KeyboardInterrupt(), ExitCode.INTERRUPTED),
    (RuntimeError("x"), ExitCode.ERROR)])
def test_error_to_code(exc: BaseException, code: ExitCode) -> None:
    assert for_error(exc) is code


def test_plain_table_lists_every_code_within_80_columns() -> None:
    text = render_table()
    flat = " ".join(text.split())
    for row in EXIT_CODES:
        assert f"{int(row.code)} {row.meaning} [{row.causes}]" in flat
    assert max(len(line) for line in text.splitlines()) <= 78


def test_docs_carry_the_same_table() -> None:
    assert render_table(markdown=True) in DOCS.read_text()
