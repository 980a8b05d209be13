"""Identities, MAPI style: settings in the config file's section, secrets in a store.

A MAPI transport provider keeps each session's settings in a section of
the user's profile and the credentials in its secure properties, and
either prompts or uses what is stored.  Here each identity is an
``[identity.NAME]`` table of the config file::

    [identity.site-7]
    pattern = "KKpsk0"               # NNpsk0, KKpsk0, KK or XX
    line = "office"                  # optional: the line it is for
    peer_public = "9f3c..."          # KK*: the peer's public key (hex)
    pinned = ["9f3c..."]             # XX: public keys the peer may present
    caller_ids = ["5551002"]         # answering: numbers this identity may call from
    dialback = "5551002"             # answering: call back this number once authenticated
    prompt = "when-missing"          # never, when-missing or always

and its secrets (the pre-shared key, our static private key) are in a
:class:`~modemctl.session.secrets.SecretStore` under
``<line or *>/<identity>/<psk|static>``.  A pre-shared key typed by a person
is stretched with scrypt (salted with the identity name), so both ends
derive the same 32 bytes from the same passphrase.
"""

from __future__ import annotations

import getpass
import hashlib
import re
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from modemctl.errors import ConfigError, CredentialError
from modemctl.log import register_secret
from modemctl.session.credentials import PATTERN_NAMES, Credentials
from modemctl.session.noise import KEYLEN
from modemctl.session.secrets import SecretStore
from modemctl.tomlfile import read_toml

PromptPolicy = Literal["never", "when-missing", "always"]
PROMPT_POLICIES: tuple[PromptPolicy, ...] = ("never", "when-missing", "always")
_KEYS = {"pattern", "line", "peer_public", "pinned", "caller_ids", "dialback", "prompt"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")   # a TOML bare key


@dataclass(frozen=True)
class IdentityConfig:
    """The non-secret settings of one identity (its config-file section)."""

    name: str
    pattern: str
    line: str | None = None
    peer_public: bytes | None = None
    pinned: tuple[bytes, ...] = ()
    caller_ids: tuple[str, ...] = ()
    dialback: str | None = None
    prompt: PromptPolicy = "when-missing"

    def secret_name(self, kind: Literal["psk", "static"]) -> str:
        return f"{self.line or '*'}/{self.name}/{kind}"

    @property
    def needs_psk(self) -> bool:
        return self.pattern.endswith("psk0")

    @property
    def needs_static(self) -> bool:
        return self.pattern.startswith(("KK", "XX"))


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"identity name {name!r}: letters, digits, '-' and '_', "
                         "at most 64, starting with a letter or digit")
    return name


def _hex_key(source: str, where: str, value: object) -> bytes:
    try:
        key = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        key = b""
    if len(key) != KEYLEN:
        raise ConfigError(source, f"{where} must be a {KEYLEN}-byte public key in hex")
    return key


def parse_identity(source: str, name: str, table: object) -> IdentityConfig:
    where = f"[identity.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(source, f"{where} must be a table")
    try:
        check_name(name)
    except ValueError as exc:
        raise ConfigError(source, str(exc)) from None
    extra = sorted(set(table) - _KEYS)
    if extra:
        raise ConfigError(source, f"{where}: unknown key {extra[0]!r} "
                                  f"(allowed: {', '.join(sorted(_KEYS))})")
    pattern = table.get("pattern")
    if pattern not in PATTERN_NAMES:
        raise ConfigError(source, f"{where}: 'pattern' must be one of {', '.join(PATTERN_NAMES)}")
    prompt = table.get("prompt", "when-missing")
    if prompt not in PROMPT_POLICIES:
        raise ConfigError(source, f"{where}: 'prompt' must be never, when-missing or always")
    for key in ("line", "dialback"):
        if key in table and not isinstance(table[key], str):
            raise ConfigError(source, f"{where}: '{key}' must be a string")
    lists: dict[str, list[object]] = {}
    for key in ("pinned", "caller_ids"):
        value = table.get(key, [])
        if not isinstance(value, list):
            raise ConfigError(source, f"{where}: '{key}' must be a list")
        lists[key] = value
    if not all(isinstance(c, str) and c for c in lists["caller_ids"]):
        raise ConfigError(source, f"{where}: 'caller_ids' must be numbers as strings")
    peer = table.get("peer_public")
    cfg = IdentityConfig(
        name=name, pattern=pattern, line=table.get("line"),
        peer_public=_hex_key(source, f"{where}: 'peer_public'", peer) if peer is not None
        else None,
        pinned=tuple(_hex_key(source, f"{where}: 'pinned'", p) for p in lists["pinned"]),
        caller_ids=tuple(str(c) for c in lists["caller_ids"]),
        dialback=table.get("dialback"), prompt=prompt)
    if pattern.startswith("KK") and cfg.peer_public is None:
        raise ConfigError(source, f"{where}: {pattern} needs 'peer_public'")
    if pattern == "XX" and not cfg.pinned:
        raise ConfigError(source, f"{where}: XX needs 'pinned' public keys")
    return cfg


def load_identities(path: Path) -> dict[str, IdentityConfig]:
    """The ``[identity.*]`` sections of the config file at ``path`` (none if it is missing)."""
    try:
        data = read_toml(path)
    except FileNotFoundError:
        return {}
    tables = data.get("identity", {})
    if not isinstance(tables, dict):
        raise ConfigError(str(path), "'identity' must be a table of [identity.NAME] tables")
    return {name: parse_identity(str(path), name, t) for name, t in tables.items()}


def psk_from_passphrase(passphrase: str, identity: str) -> bytes:
    """32 bytes from a passphrase, the same at both ends (scrypt, salted by identity)."""
    if not passphrase:
        raise CredentialError("an empty passphrase is not a key")
    register_secret(passphrase)
    return hashlib.scrypt(passphrase.encode("utf-8"),
                          salt=b"modemctl-session-psk/" + identity.encode("utf-8"),
                          n=2 ** 14, r=8, p=1, dklen=KEYLEN)


def tty_prompt(text: str) -> str:
    """Read a passphrase without echo from the terminal; no terminal is an error,
    never a silent read from a pipe (getpass's fallback)."""
    if not sys.stdin.isatty():
        raise CredentialError("no terminal to prompt on: store the secret first or use "
                              "--password-stdin")
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(text)
        except getpass.GetPassWarning:
            raise CredentialError("the passphrase could not be read without echo") from None


def read_password_stdin(stream: TextIO) -> str:
    """One line from ``stream`` (``--password-stdin``), without its line ending."""
    line = stream.readline()
    return line.rstrip("\r\n")


def credentials_for(cfg: IdentityConfig, store: SecretStore, *,
                    prompt: PromptPolicy | None = None, password: str | None = None,
                    ask: Callable[[str], str] = tty_prompt) -> Credentials:
    """The handshake credentials of ``cfg``, from ``store`` and the prompt policy.

    ``password`` is a passphrase given up front (``--password-stdin``); it
    counts as the prompt's answer.  ``never`` fails if the store lacks the
    secret; ``when-missing`` asks only then; ``always`` asks every time.
    """
    policy = prompt or cfg.prompt
    psk = None
    if cfg.needs_psk:
        stored = None if policy == "always" else store.get(cfg.secret_name("psk"))
        if stored is not None:
            psk = stored
        elif policy == "never" and password is None:
            raise CredentialError(f"identity {cfg.name!r}: no pre-shared key in the "
                                  f"{store.description} and the prompt policy is never")
        else:
            text = password if password is not None else ask(
                f"Passphrase for identity {cfg.name}: ")
            psk = psk_from_passphrase(text, cfg.name)
    static = None
    if cfg.needs_static:
        static = store.get(cfg.secret_name("static"))
        if static is None:
            raise CredentialError(f"identity {cfg.name!r}: no static key in the "
                                  f"{store.description}; run 'modemctl identity add' again")
    return Credentials(cfg.name, cfg.pattern, psk=psk, static=static,
                       remote_static=cfg.peer_public, pinned=frozenset(cfg.pinned))


def render_identity(cfg: IdentityConfig) -> str:
    """``cfg`` as the TOML table ``identity add`` appends to the config file."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = [f"[identity.{cfg.name}]", f"pattern = {q(cfg.pattern)}"]
    if cfg.line:
        lines.append(f"line = {q(cfg.line)}")
    if cfg.peer_public:
        lines.append(f"peer_public = {q(cfg.peer_public.hex())}")
    if cfg.pinned:
        lines.append(f"pinned = [{', '.join(q(p.hex()) for p in cfg.pinned)}]")
    if cfg.caller_ids:
        lines.append(f"caller_ids = [{', '.join(q(c) for c in cfg.caller_ids)}]")
    if cfg.dialback:
        lines.append(f"dialback = {q(cfg.dialback)}")
    lines.append(f"prompt = {q(cfg.prompt)}")
    return "\n".join(lines) + "\n"


def add_to_config(path: Path, cfg: IdentityConfig) -> None:
    """Append ``cfg``'s section to the config file (refused if the name exists)."""
    if cfg.name in load_identities(path):
        raise ConfigError(str(path), f"identity {cfg.name!r} already exists")
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if text and not text.endswith("\n"):
        text += "\n"
    new = text + ("\n" if text else "") + render_identity(cfg)
    _write_atomically(path, new)
    load_identities(path)               # what we wrote reads back


def remove_from_config(path: Path, name: str) -> bool:
    """Remove the ``[identity.NAME]`` section; returns whether there was one."""
    if name not in load_identities(path):
        return False
    out: list[str] = []
    skipping = False
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("["):
            skipping = stripped in (f"[identity.{name}]", f'[identity."{name}"]')
        if not skipping:
            out.append(line)
    _write_atomically(path, "".join(out))
    if name in load_identities(path):
        raise ConfigError(str(path), f"identity {name!r} could not be removed (written in "
                                     "a form modemctl does not edit); remove it by hand")
    return True


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(path.suffix + ".tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(path)

