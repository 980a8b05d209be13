"""Turning the ``PORT`` argument into something to open.

``PORT`` is what the user has in mind: a device path (``/dev/ttyUSB0``), a
pyserial URL (``rfc2217://host:2217``), the name of a line in the config file
(``office``), or nothing at all when ``MODEMCTL_LINE`` names a default.  This
module decides which, once, so that every command accepts the same forms and
gives the same error for a name that is none of them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from modemctl.cli.config import Config, SecureSetting
from modemctl.errors import ConfigError

LINE_ENV = "MODEMCTL_LINE"

_WINDOWS_PORT = re.compile(r"^COM\d+$", re.IGNORECASE)


class UnknownLine(ConfigError):
    """``PORT`` is neither a port nor a configured line name."""

    def __init__(self, source: str, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        choices = f"configured lines: {', '.join(known)}" if known else "no lines are configured"
        super().__init__(source, f"no line named {name!r} ({choices})")


class NoPortGiven(ConfigError):
    """Neither a ``PORT`` argument nor ``MODEMCTL_LINE`` was given."""

    def __init__(self, source: str) -> None:
        super().__init__(source, f"no PORT given and {LINE_ENV} is not set")


@dataclass(frozen=True)
class Target:
    """A resolved port: the URL to open and the per-line settings that came with it."""

    url: str
    name: str | None = None
    location: str | None = None
    secure: SecureSetting | None = None
    baudrate: int | None = None
    cancel_code: str | None = None
    cancel_code_pulse: str | None = None

    @property
    def label(self) -> str:
        """How messages name the port: ``office (/dev/ttyUSB0)`` or just the URL."""
        return f"{self.name} ({self.url})" if self.name else self.url


def looks_like_port(text: str) -> bool:
    """True when ``text`` is a device path or URL rather than a line name."""
    return ("/" in text or "://" in text or bool(_WINDOWS_PORT.match(text))
            or os.path.exists(text))


def resolve(arg: str | None, config: Config) -> Target:
    """Resolve ``PORT`` (or ``$MODEMCTL_LINE`` when absent) against ``config``.

    A configured name wins over a path of the same spelling, because the user
    chose that name on purpose.
    """
    if arg is None:
        arg = os.environ.get(LINE_ENV) or None
        if arg is None:
            raise NoPortGiven(str(config.path))
    line = config.lines.get(arg)
    if line is not None:
        return Target(url=line.port, name=line.name, location=line.location,
                      secure=line.secure, baudrate=line.baudrate, cancel_code=line.cancel_code,
                      cancel_code_pulse=line.cancel_code_pulse)
    if looks_like_port(arg):
        return Target(url=arg)
    raise UnknownLine(str(config.path), arg, sorted(config.lines))


def default_line_set() -> bool:
    """True when ``MODEMCTL_LINE`` supplies a default ``PORT``."""
    return bool(os.environ.get(LINE_ENV))
