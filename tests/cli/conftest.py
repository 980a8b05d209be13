"""Fixtures for the command-line tests: an isolated config, registry and runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl.cli import main

__all__ = ["main"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No user config, no default line, a private fake registry, private state dirs."""
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MODEMCTL_FAKE_DIR", str(tmp_path / "fake-registry"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MODEMCTL_LINE", raising=False)
    monkeypatch.delenv("MODEMCTL_TIME_SCALE", raising=False)
    yield tmp_path


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    """The config path the CLI reads (write to it in the test)."""
    return isolated_env / "config.toml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
