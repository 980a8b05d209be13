"""``modemctl identity``: add, list, show, remove, with the file store and no terminal."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from modemctl import log
from modemctl.cli import main
from modemctl.session.identities import load_identities, psk_from_passphrase
from modemctl.session.noise import public_key
from modemctl.session.secrets import FileStore
from tests.session.keys import ANSWER_STATIC


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("modemctl.session.secrets.default_secret_dir",
                        lambda: tmp_path / "secrets")
    log.configure(logging.WARNING)
    yield tmp_path


def test_add_show_list_remove(isolated: Path) -> None:
    runner = CliRunner()
    peer = public_key(ANSWER_STATIC).hex()
    r = runner.invoke(main, ["identity", "add", "site-7", "--pattern", "KKpsk0",
                             "--peer-public", peer, "--caller-id", "5551001",
                             "--store", "file", "--password-stdin"],
                      input="correct horse battery\n")
    assert r.exit_code == 0, r.output
    assert "correct horse" not in r.output
    ours = r.output.split("give it to the far end): ")[1].strip()
    cfg = load_identities(isolated / "config.toml")["site-7"]
    assert cfg.peer_public == bytes.fromhex(peer) and cfg.caller_ids == ("5551001",)
    store = FileStore(isolated / "secrets")
    assert store.get(cfg.secret_name("psk")) == psk_from_passphrase("correct horse battery",
                                                                    "site-7")
    static = store.get(cfg.secret_name("static"))
    assert static is not None and public_key(static).hex() == ours
    shown = runner.invoke(main, ["identity", "show", "site-7", "--store", "file"])
    assert shown.exit_code == 0 and ours in shown.output and "stored" in shown.output
    assert static.hex() not in shown.output
    listed = runner.invoke(main, ["identity", "list", "--store", "file"])
    assert "site-7\tKKpsk0" in listed.output and "secret=stored" in listed.output
    again = runner.invoke(main, ["identity", "add", "site-7", "--pattern", "NNpsk0",
                                 "--store", "file", "--password-stdin"], input="x\n")
    assert again.exit_code == 2 and "already exists" in again.output
    gone = runner.invoke(main, ["identity", "remove", "site-7", "--store", "file"])
    assert gone.exit_code == 0
    assert load_identities(isolated / "config.toml") == {}
    assert store.get(cfg.secret_name("psk")) is None
    assert store.get(cfg.secret_name("static")) is None


def test_add_without_a_terminal_or_stdin_flag_fails_clearly(isolated: Path) -> None:
    r = CliRunner().invoke(main, ["identity", "add", "x", "--pattern", "NNpsk0",
                                  "--store", "file"], input="typed\n")
    assert r.exit_code != 0
    assert "no terminal" in r.output
    assert load_identities(isolated / "config.toml") == {}     # nothing half-added


def test_kk_needs_the_peer_key() -> None:
    r = CliRunner().invoke(main, ["identity", "add", "x", "--pattern", "KK", "--store", "file"])
    assert r.exit_code == 2 and "--peer-public" in r.output


@pytest.mark.parametrize("verb", ["show", "remove"])
def test_an_unknown_identity_is_a_usage_error(verb: str) -> None:
    r = CliRunner().invoke(main, ["identity", verb, "nobody", "--store", "file"])
    assert r.exit_code == 2 and "no identity 'nobody'" in r.output
