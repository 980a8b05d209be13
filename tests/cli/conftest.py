"""Fixtures for the command-line tests: an isolated config, registry and runner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl import log
from modemctl.cli import main
from modemctl.line import Call, Line
from tests.cli.fakes import SCALE, FakeSwitch
from tests.cli.procs import Fake, fake_exchange

__all__ = ["main"]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No user config, no default line, a private fake registry, private state dirs."""
    (tmp_path / "config.toml").touch()      # named by MODEMCTL_CONFIG, so it must exist
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MODEMCTL_FAKE_DIR", str(tmp_path / "fake-registry"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("MODEMCTL_LINE", raising=False)
    monkeypatch.delenv("MODEMCTL_TIME_SCALE", raising=False)
    # Loggers bound before the CLI configures logging (the fake's, test peers') keep the
    # configuration of that moment: make it a quiet one, on stderr.
    log.configure(logging.WARNING)
    yield tmp_path


@pytest.fixture
def config_file(isolated_env: Path) -> Path:
    """The config path the CLI reads (write to it in the test)."""
    return isolated_env / "config.toml"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def switch() -> Iterator[FakeSwitch]:
    """A fake exchange (conexant 5551001, agere 5551002, hayes-basic 5551003) on a thread."""
    with FakeSwitch() as sw:
        yield sw


@pytest.fixture
def scaled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the CLI's driver at the fake's time scale."""
    monkeypatch.setenv("MODEMCTL_TIME_SCALE", str(SCALE))


@pytest.fixture
def waiting_for_call(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Set once the command under test waits for a call (``Line.wait_for_call``).

    A test caller rings only then: a ring that came while the command was still
    opening and probing its line would be missed, or counted, by chance.
    """
    waiting = threading.Event()
    original = Line.wait_for_call

    async def wait_for_call(self: Line) -> Call:
        waiting.set()
        return await original(self)

    monkeypatch.setattr(Line, "wait_for_call", wait_for_call)
    return waiting


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[Fake]:
    """``modemctl fake run`` as a process, with 5551001 (conexant) and 5551002 (agere)."""
    with fake_exchange(tmp_path, "5551001:conexant-v92", "5551002:agere-v92") as started:
        yield started
