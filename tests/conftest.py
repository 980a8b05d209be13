"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from modemctl.driver.porttrust import forget_all


@pytest.fixture(autouse=True)
def lock_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test keeps its UUCP lock files in a directory of its own, never in
    the machine's /var/lock (child processes inherit it through the env).  It
    is not inside ``tmp_path``, which stays the test's own."""
    d = tmp_path_factory.mktemp("lock")
    monkeypatch.setenv("MODEMCTL_LOCK_DIR", str(d))
    return d


@pytest.fixture(autouse=True)
def _isolate_structlog() -> Iterator[None]:
    """Each test starts from structlog's defaults: the CLI configures logging
    (level, renderer) globally, and that must not leak into the next test on
    the same worker (a WARNING level would hide another test's DEBUG trace)."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _fresh_port_knowledge() -> Iterator[None]:
    """What the driver learnt about a port's modem lines is kept per URL for
    the process; tests reuse TCP ports and pty paths for unrelated lines, so
    each starts knowing nothing."""
    forget_all()
    yield
    forget_all()
