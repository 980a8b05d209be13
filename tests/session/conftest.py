"""Fixtures for the session tests: two lines on a fake exchange (shared with tests/line).

With ``MODEMCTL_SECRET_SCAN=<dir>`` set (only ``test_no_secret_leaks`` sets
it, in a child pytest), every log event goes to ``<dir>/log.jsonl`` at DEBUG,
the lines trace their serial bytes, and every modemctl error message is
written to ``<dir>/errors.txt``, so the parent can scan them all.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.line.conftest as line_fixtures
from modemctl import errors, log
from tests.line.conftest import make_pair

__all__ = ["make_pair"]

SCAN_ENV = "MODEMCTL_SECRET_SCAN"


@pytest.fixture(autouse=True)
def _secret_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    where = os.environ.get(SCAN_ENV)
    if not where:
        yield
        return
    out = Path(where)
    with open(out / "log.jsonl", "a") as log_file, open(out / "errors.txt", "a") as err_file:
        log.configure(logging.DEBUG, "json", stream=log_file)
        monkeypatch.setattr(line_fixtures, "open_line",
                            functools.partial(line_fixtures.open_line, trace=True))
        original = errors.ModemctlError.__init__

        def recording_init(self: errors.ModemctlError, *args: Any) -> None:
            original(self, *args)
            err_file.write(f"{type(self).__name__}: {self}\n")
        monkeypatch.setattr(errors.ModemctlError, "__init__", recording_init)
        yield
