"""Named lines: the ``modemctl`` config file.

A user with a modem on ``/dev/ttyUSB0`` in an office with call waiting wants
to type ``modemctl dial office 5551234``, not the port, location and secure
flag every time.  So lines are named in a TOML file in the platform's user
config folder::

    [line.office]
    port = "/dev/ttyUSB0"      # any pyserial URL: rfc2217://host:port works too
    location = "US"            # dialing rules (cancel-call-waiting code...)
    secure = true              # true, false or "best-effort"
    cancel_code = "*52"        # your carrier's cancel-call-waiting code, if not the location's
    cancel_code_pulse = "1152" # ...and the one for pulse dialling (optional)

``MODEMCTL_CONFIG`` overrides the file's path (tests, several setups).  A
missing default file is an empty config, but a file named by
``MODEMCTL_CONFIG`` must exist; a malformed one, or one naming an unknown
location or giving a cancel code that is not one, is a :class:`ConfigError`
naming the file (and line) and what is wrong, never a traceback.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs

from modemctl.errors import ConfigError, InvalidCancelCode
from modemctl.locations import builtin_locations, get_location
from modemctl.tomlfile import read_toml

SecureSetting = bool | Literal["best-effort"]

CONFIG_ENV = "MODEMCTL_CONFIG"
_LINE_KEYS = {"port", "location", "secure", "baudrate", "cancel_code", "cancel_code_pulse"}
#: The dialing rules of a line with no location (open_line's default; the line layer
#: is not imported here, so that reading the config stays cheap).
_DEFAULT_LOCATION = "US"


@dataclass(frozen=True)
class LineConfig:
    """One ``[line.NAME]`` table."""

    name: str
    port: str
    location: str | None = None
    secure: SecureSetting | None = None
    baudrate: int | None = None
    #: The line's carrier's cancel-call-waiting codes, in place of the location's.
    cancel_code: str | None = None
    cancel_code_pulse: str | None = None


@dataclass(frozen=True)
class Config:
    """The whole file: where it came from, and its lines by name."""

    path: Path
    lines: Mapping[str, LineConfig] = field(default_factory=dict)


def config_path() -> Path:
    """The config file in use: ``$MODEMCTL_CONFIG`` or the platform's user config folder."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("modemctl")) / "config.toml"


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config file; a missing file gives an empty config."""
    named = path is None and bool(os.environ.get(CONFIG_ENV))
    path = path or config_path()
    try:
        data = read_toml(path)
    except FileNotFoundError:
        if named:
            # Named on purpose: a typo in the name must not silently mean "no lines".
            raise ConfigError(str(path), f"no such file (named by {CONFIG_ENV})") from None
        return Config(path=path)
    lines = _parse_lines(str(path), data)
    for line in lines.values():
        if line.location is not None and unknown_location(line.location):
            at = _key_line(path, line.name, "location")
            raise ConfigError(f"{path}:{at}" if at else str(path),
                              f"[line.{line.name}]: location {line.location!r} is not known "
                              f"({known_locations()})")
        _check_cancel_code(path, line)
    return Config(path=path, lines=lines)


def _check_cancel_code(path: Path, line: LineConfig) -> None:
    """A bad ``cancel_code`` is refused when the file is read, not when a call is made."""
    if line.cancel_code is None and line.cancel_code_pulse is None:
        return
    location = get_location(line.location or _DEFAULT_LOCATION)
    key = "cancel_code"
    try:
        if line.cancel_code is not None:
            location.with_cancel_code(line.cancel_code)      # the tone code on its own first
        key = "cancel_code_pulse"
        location.with_cancel_code(line.cancel_code, line.cancel_code_pulse)
    except InvalidCancelCode as exc:
        at = _key_line(path, line.name, key)
        raise ConfigError(f"{path}:{at}" if at else str(path),
                          f"[line.{line.name}]: {key}: {exc}") from None


def unknown_location(code: str) -> bool:
    """True when ``code`` names no built-in location (codes are case-insensitive)."""
    return code.upper() not in builtin_locations()


def known_locations() -> str:
    """The known location codes, for messages."""
    return "known: " + ", ".join(sorted(builtin_locations()))


_HEADER = re.compile(r"^\s*\[\s*line\s*\.\s*\"?([^\]\"]+)\"?\s*\]")


def _key_line(path: Path, table: str, key: str) -> int | None:
    """The 1-based line of ``key`` in ``[line.TABLE]``, so an error can point at it.

    tomllib keeps no positions; a plain scan of the text is enough for the
    keys of one table.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    current = None
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header is not None:
            current = header.group(1).strip()
        elif raw.lstrip().startswith("["):
            current = None
        elif current == table and assignment.match(raw):
            return number
    return None


def _parse_lines(source: str, data: Mapping[str, object]) -> dict[str, LineConfig]:
    # [identity.NAME] tables belong to the session layer (modemctl.session.identities).
    unknown = sorted(set(data) - {"line", "identity"})
    if unknown:
        raise ConfigError(source, f"unknown top-level key {unknown[0]!r} (expected [line.NAME])")
    tables = data.get("line", {})
    if not isinstance(tables, dict):
        raise ConfigError(source, "'line' must be a table of [line.NAME] tables")
    return {name: _parse_line(source, name, table) for name, table in tables.items()}


def _parse_line(source: str, name: str, table: object) -> LineConfig:
    where = f"[line.{name}]"
    if not isinstance(table, dict):
        raise ConfigError(source, f"{where} must be a table, e.g. [line.{name}] port = \"...\"")
    extra = sorted(set(table) - _LINE_KEYS)
    if extra:
        raise ConfigError(source, f"{where}: unknown key {extra[0]!r} "
                                  f"(allowed: {', '.join(sorted(_LINE_KEYS))})")
    port = table.get("port")
    if not isinstance(port, str) or not port:
        raise ConfigError(source, f"{where}: 'port' is required and must be a string "
                                  "such as \"/dev/ttyUSB0\"")
    location = table.get("location")
    if location is not None and not isinstance(location, str):
        raise ConfigError(source, f"{where}: 'location' must be a string such as \"US\"")
    secure = table.get("secure")
    if secure is not None and not isinstance(secure, bool) and secure != "best-effort":
        raise ConfigError(source, f"{where}: 'secure' must be true, false or \"best-effort\", "
                                  f"not {secure!r}")
    baudrate = table.get("baudrate")
    if baudrate is not None and (isinstance(baudrate, bool) or not isinstance(baudrate, int)
                                 or baudrate <= 0):
        raise ConfigError(source, f"{where}: 'baudrate' must be a positive integer")
    tone, pulse = table.get("cancel_code"), table.get("cancel_code_pulse")
    for key, code in (("cancel_code", tone), ("cancel_code_pulse", pulse)):
        if code is not None and not isinstance(code, str):
            raise ConfigError(source, f"{where}: '{key}' must be a string such as \"*52\"")
    return LineConfig(name=name, port=port, location=location, secure=secure, baudrate=baudrate,
                      cancel_code=tone, cancel_code_pulse=pulse)
