"""Identity settings and secret stores: what is accepted, what is refused, and why."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import pytest

from modemctl.cli.config import load_config
from modemctl.errors import ConfigError, CredentialError, InsecureStore
from modemctl.session.identities import (
    IdentityConfig,
    add_to_config,
    credentials_for,
    load_identities,
    psk_from_passphrase,
    read_password_stdin,
    remove_from_config,
)
from modemctl.session.noise import public_key
from modemctl.session.secrets import FileStore, KeyringStore, open_store, recommended
from tests.session.keys import ANSWER_STATIC, CALLER_STATIC, PSK


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A recommended-rated in-memory backend (what a desktop keyring looks like to us)."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")


class PlaintextLookalike(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring (judged by where it comes from)."""


PlaintextLookalike.__module__ = "keyrings.alt.file"


def test_only_recommended_keyring_backends_are_used() -> None:
    assert recommended(MemoryKeyring())
    assert not recommended(keyring.backends.fail.Keyring())
    assert not recommended(PlaintextLookalike())

    class Chain(keyring.backends.chainer.ChainerBackend):
        backends: Any = (MemoryKeyring(), PlaintextLookalike())

    assert not recommended(Chain()), "a chain with a plaintext member is refused"
    Chain.backends = (MemoryKeyring(),)
    assert recommended(Chain())
    with pytest.raises(InsecureStore, match="not a recommended"):
        KeyringStore(PlaintextLookalike())
    with pytest.raises(InsecureStore):
        KeyringStore(keyring.backends.fail.Keyring())


def test_keyring_store_round_trip() -> None:
    store = KeyringStore(MemoryKeyring())
    store.set("*/site-7/psk", PSK)
    assert store.get("*/site-7/psk") == PSK
    assert store.delete("*/site-7/psk") and not store.delete("*/site-7/psk")
    assert store.get("*/site-7/psk") is None


def test_auto_never_falls_back_to_a_plaintext_keyring(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keyring.get_keyring", lambda: PlaintextLookalike())
    store = open_store("auto", tmp_path / "secrets")
    assert isinstance(store, FileStore)
    with pytest.raises(InsecureStore):
        open_store("keyring")


def test_file_store_is_private_and_refuses_looser_files(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "secrets")
    store.set("office/site-7/psk", PSK)
    path = next((tmp_path / "secrets").iterdir())
    assert os.stat(tmp_path / "secrets").st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o600
    assert store.get("office/site-7/psk") == PSK
    path.chmod(0o644)
    with pytest.raises(InsecureStore, match="0644") as info:
        store.get("office/site-7/psk")
    assert PSK.hex() not in str(info.value)
    path.chmod(0o600)
    (tmp_path / "secrets").chmod(0o755)
    with pytest.raises(InsecureStore, match="folder"):
        store.get("office/site-7/psk")


CONFIG = """
[line.office]
port = "/dev/ttyUSB0"
"""


def test_identities_live_in_the_config_file_sections(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    kk = IdentityConfig("site-7", "KKpsk0", line="office",
                        peer_public=public_key(ANSWER_STATIC), caller_ids=("5551001",),
                        dialback="5551001")
    xx = IdentityConfig("meter-3", "XX", pinned=(public_key(CALLER_STATIC),))
    add_to_config(path, kk)
    add_to_config(path, xx)
    assert load_identities(path) == {"site-7": kk, "meter-3": xx}
    assert set(load_config(path).lines) == {"office"}        # the CLI's config still reads
    with pytest.raises(ConfigError, match="already exists"):
        add_to_config(path, kk)
    assert remove_from_config(path, "site-7")
    assert set(load_identities(path)) == {"meter-3"}
    assert "[line.office]" in path.read_text()
    assert not remove_from_config(path, "site-7")


@pytest.mark.parametrize("text, what", [
    ('[identity.x]\npattern = "NN"\n', "pattern"),
    ('[identity.x]\npattern = "KK"\n', "peer_public"),
    ('[identity.x]\npattern = "XX"\npinned = ["abcd"]\n', "pinned"),
    ('[identity.x]\npattern = "NNpsk0"\nprompt = "sometimes"\n', "prompt"),
    ('[identity.x]\npattern = "NNpsk0"\npsk = "secret"\n', "unknown key"),
])
def test_bad_identity_sections_are_config_errors(tmp_path: Path, text: str, what: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=what):
        load_identities(path)


def test_prompt_policies(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "s")
    cfg = IdentityConfig("site-7", "NNpsk0", prompt="never")
    asked: list[str] = []

    def ask(text: str) -> str:
        asked.append(text)
        return "correct horse"

    with pytest.raises(CredentialError, match="never"):
        credentials_for(cfg, store, ask=ask)
    assert not asked
    made = credentials_for(cfg, store, prompt="when-missing", ask=ask)
    assert made.psk == psk_from_passphrase("correct horse", "site-7") and len(asked) == 1
    store.set(cfg.secret_name("psk"), PSK)
    assert credentials_for(cfg, store, prompt="when-missing", ask=ask).psk == PSK
    assert len(asked) == 1                                   # stored: not asked
    assert credentials_for(cfg, store, prompt="always", ask=ask).psk != PSK
    assert len(asked) == 2                                   # always: asked anyway
    # --password-stdin answers the prompt, even under "never"
    given = read_password_stdin(io.StringIO("from a script\n"))
    assert credentials_for(IdentityConfig("x", "NNpsk0", prompt="never"), store,
                           password=given).psk == psk_from_passphrase("from a script", "x")


def test_no_terminal_means_a_clear_error_not_a_read_from_a_pipe(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("should not be read\n"))
    with pytest.raises(CredentialError, match="no terminal"):
        credentials_for(IdentityConfig("x", "NNpsk0"), FileStore(tmp_path))


def test_static_keys_come_only_from_the_store(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "s")
    cfg = IdentityConfig("site-7", "KK", peer_public=public_key(ANSWER_STATIC))
    with pytest.raises(CredentialError, match="static key"):
        credentials_for(cfg, store)
    store.set(cfg.secret_name("static"), CALLER_STATIC)
    creds = credentials_for(cfg, store)
    assert creds.static == CALLER_STATIC and creds.remote_static == public_key(ANSWER_STATIC)
