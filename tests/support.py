"""Helpers shared by the test suite."""

from __future__ import annotations

import os
import shutil

import pytest


def interop_required() -> bool:
    """True when CI demands that interop tests run (``MODEMCTL_REQUIRE_INTEROP=1``)."""
    return os.environ.get("MODEMCTL_REQUIRE_INTEROP", "") == "1"


def require_program(name: str) -> str:
    """Return the path of a third-party program, or skip (locally) / fail (in CI)."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (.ci/run installs it)"
        if interop_required():
            pytest.fail(msg)
        pytest.skip(msg)
    return path
