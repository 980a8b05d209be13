"""Reading a TOML file (a profile, a location, the user's config) with typed errors.

Every data file modemctl reads fails the same way for the same reasons, so a
user always gets a :class:`~modemctl.errors.ConfigError` that names the file
and says what is wrong with it, never a bare ``OSError`` or decoder
traceback.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from modemctl.errors import ConfigError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse ``path`` as UTF-8 TOML.

    ``FileNotFoundError`` is let through, so that a caller for whom a missing
    file is normal (the user's config) can tell it apart; every other failure
    is a :class:`ConfigError` naming the file.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
