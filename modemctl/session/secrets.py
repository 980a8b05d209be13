"""Where identities' secrets live: the system keyring, or a file only its owner can read.

Why so strict: ``keyring`` falls back silently.  On a headless machine it
picks ``fail.Keyring``; with ``keyrings.alt`` installed it picks a plaintext
(base64) file without a word.  So :func:`recommended` accepts only backends
keyring itself rates as recommended (priority >= 1) that are not from
``keyrings.alt``, and a chainer only if every backend in it is such.

Failing that, :class:`FileStore` keeps one secret per file in a 0700
folder, each file 0600, and refuses to read a file or folder that group or
others can read, as PostgreSQL does with ``.pgpass``.  Secrets are stored
base64-encoded; they are never logged (and are registered for redaction
when read).
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.backends.chainer
import keyring.backends.fail
import platformdirs
from keyring.errors import KeyringError, PasswordDeleteError

from modemctl.errors import CredentialError, InsecureStore
from modemctl.session.credentials import register_key

SERVICE = "modemctl"


class SecretStore(Protocol):
    """Secrets by name (``<line>/<identity>/<kind>``)."""

    description: str

    def get(self, name: str) -> bytes | None: ...
    def set(self, name: str, secret: bytes) -> None: ...
    def delete(self, name: str) -> bool: ...


def recommended(backend: Any) -> bool:
    """Whether a keyring backend is safe to keep secrets in (see the module doc)."""
    if isinstance(backend, keyring.backends.chainer.ChainerBackend):
        return bool(backend.backends) and all(recommended(b) for b in backend.backends)
    if isinstance(backend, keyring.backends.fail.Keyring):
        return False
    if type(backend).__module__.startswith("keyrings.alt"):
        return False
    try:
        return float(backend.priority) >= 1
    except Exception:            # a backend whose priority check itself fails
        return False


class KeyringStore:
    """The system keyring, only through a recommended backend."""

    def __init__(self, backend: Any | None = None) -> None:
        self.backend = backend if backend is not None else keyring.get_keyring()
        name = f"{type(self.backend).__module__}.{type(self.backend).__name__}"
        if not recommended(self.backend):
            raise InsecureStore(f"the keyring backend {name} is not a recommended one "
                                "(it would fail or keep secrets in plaintext); install and "
                                "unlock a system keyring, or use the file store")
        self.description = f"keyring ({name})"

    def get(self, name: str) -> bytes | None:
        try:
            text = self.backend.get_password(SERVICE, name)
        except KeyringError as exc:
            raise CredentialError(f"the keyring could not be read for {name}: "
                                  f"{type(exc).__name__}") from None
        return None if text is None else _decode(text, f"keyring entry {name}")

    def set(self, name: str, secret: bytes) -> None:
        try:
            self.backend.set_password(SERVICE, name, base64.b64encode(secret).decode())
        except KeyringError as exc:
            raise CredentialError(f"the keyring refused to store {name}: "
                                  f"{type(exc).__name__}") from None

    def delete(self, name: str) -> bool:
        try:
            self.backend.delete_password(SERVICE, name)
        except PasswordDeleteError:
            return False
        return True


def default_secret_dir() -> Path:
    return Path(platformdirs.user_config_dir("modemctl")) / "secrets"


class FileStore:
    """One 0600 file per secret in a 0700 folder; looser permissions are refused."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_secret_dir()
        self.description = f"file store ({self.directory})"

    def _path(self, name: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else f"%{ord(c):02x}" for c in name)
        return self.directory / f"{safe}.key"

    def _check(self, path: Path, what: str, allowed: int) -> None:
        st = path.stat()
        if st.st_mode & 0o077:
            raise InsecureStore(f"{what} {path} has mode {stat.S_IMODE(st.st_mode):04o}; "
                                f"it must be {allowed:04o} (readable by its owner only) "
                                "and is ignored until then")
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise InsecureStore(f"{what} {path} belongs to another user and is ignored")

    def get(self, name: str) -> bytes | None:
        path = self._path(name)
        if not self.directory.exists() or not path.exists():
            return None
        self._check(self.directory, "the secrets folder", 0o700)
        self._check(path, "the secret file", 0o600)
        return _decode(path.read_text(encoding="ascii", errors="replace").strip(),
                       f"secret file {path}")

    def set(self, name: str, secret: bytes) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._check(self.directory, "the secrets folder", 0o700)
        path = self._path(name)
        temp = path.with_suffix(".tmp")
        temp.unlink(missing_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(base64.b64encode(secret).decode() + "\n")
        os.replace(temp, path)         # all or nothing: never a half-written secret

    def delete(self, name: str) -> bool:
        path = self._path(name)
        if not path.exists():
            return False
        path.unlink()
        return True


def _decode(text: str, where: str) -> bytes:
    try:
        secret = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CredentialError(f"{where} is not a modemctl secret (bad base64)") from None
    register_key(secret)
    return secret


def open_store(kind: str = "auto", directory: Path | None = None) -> SecretStore:
    """``"keyring"``, ``"file"``, or ``"auto"``: the keyring if its backend is
    recommended, else the file store (the choice is in ``description``)."""
    if kind == "keyring":
        return KeyringStore()
    if kind == "file":
        return FileStore(directory)
    if kind != "auto":
        raise ValueError("store must be auto, keyring or file")
    try:
        return KeyringStore()
    except InsecureStore:
        return FileStore(directory)
