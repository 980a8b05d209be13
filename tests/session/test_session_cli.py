"""``modemctl dial --session`` and ``answer --session`` against a session peer on the fake."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import keyring.backends.fail
import pytest
from click.testing import CliRunner

from modemctl import log
from modemctl.cli import main
from modemctl.cli.exitcodes import ExitCode
from modemctl.errors import HandshakeFailed
from modemctl.line import open_line
from modemctl.session import Credentials, accept, connect
from modemctl.session.identities import IdentityConfig, add_to_config, psk_from_passphrase
from modemctl.session.secrets import FileStore
from tests.cli.fakes import SCALE, FakeSwitch, after, keyboard, wait_for

PASSPHRASE = "a passphrase only these tests use"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("MODEMCTL_FAKE_DIR", str(tmp_path / "fake-registry"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("MODEMCTL_TIME_SCALE", str(SCALE))
    monkeypatch.delenv("MODEMCTL_LINE", raising=False)
    monkeypatch.setattr("modemctl.session.secrets.default_secret_dir",
                        lambda: tmp_path / "secrets")
    monkeypatch.setattr("keyring.get_keyring", lambda: keyring.backends.fail.Keyring())
    cfg = IdentityConfig("site-7", "NNpsk0", prompt="never")
    add_to_config(tmp_path / "config.toml", cfg)
    FileStore(tmp_path / "secrets").set(cfg.secret_name("psk"),
                                        psk_from_passphrase(PASSPHRASE, "site-7"))
    log.configure(logging.WARNING)
    yield tmp_path


@pytest.fixture
def switch() -> Iterator[FakeSwitch]:
    """A fake exchange on a thread (the peers' lines and the CLI's)."""
    with FakeSwitch() as sw:
        yield sw


CREDS = Credentials("site-7", "NNpsk0", psk=psk_from_passphrase(PASSPHRASE, "site-7"))


def test_dial_session_authenticates_and_carries_the_terminal(switch: FakeSwitch) -> None:
    up = threading.Event()
    received = bytearray()

    async def peer() -> None:
        async with asyncio.timeout(40), open_line(switch.port("5551002"),
                                                  time_scale=SCALE) as line:
            call = await line.wait_for_call()
            await call.answer()
            channel = await accept(call, {"site-7": CREDS})
            up.set()
            while data := await channel.read():
                received.extend(data)
                await channel.write(data.upper())
            await channel.close()

    switch.spawn(peer())
    with keyboard() as (stdin, type_, close):
        after(up.is_set, lambda: type_(b"hello\r"))
        after(lambda: b"hello\r" in received, close)
        result = CliRunner().invoke(main, ["dial", switch.port("5551001"), "5551002",
                                           "--session", "site-7"], input=stdin)
    assert result.exit_code == ExitCode.OK, result.output
    assert b"HELLO\r" in result.stdout_bytes
    assert "session up as 'site-7'" in result.output


def test_answer_session_refuses_a_wrong_key(switch: FakeSwitch) -> None:
    outcome: list[BaseException | None] = []

    async def caller() -> None:
        await asyncio.sleep(0.5)
        async with asyncio.timeout(40), open_line(switch.port("5551001"),
                                                  time_scale=SCALE) as line:
            call = await line.make_call("5551002")
            wrong = Credentials("site-7", "NNpsk0", psk=bytes(32))
            try:
                await connect(call, wrong, handshake_timeout=1, handshake_attempts=3)
                outcome.append(None)
            except Exception as exc:
                outcome.append(exc)

    switch.spawn(caller())
    result = CliRunner().invoke(main, ["answer", switch.port("5551002"), "--timeout", "30",
                                       "--session", "site-7"])
    assert result.exit_code == ExitCode.REJECTED, result.output
    assert "refused: handshake" in result.output
    assert wait_for(lambda: bool(outcome), 15)
    assert isinstance(outcome[0], HandshakeFailed)      # the caller was told no, not left
