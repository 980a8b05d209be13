"""Suite-wide fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def _isolate_structlog() -> Iterator[None]:
    """Each test starts from structlog's defaults: the CLI configures logging
    (level, renderer) globally, and that must not leak into the next test on
    the same worker (a WARNING level would hide another test's DEBUG trace)."""
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()
