"""An Asterisk lab PBX as line simulator, through its manager interface (AMI).

Each modem hangs off an FXS port (DAHDI) or a SIP ATA; the rig file maps a
line number to its channel with a template (``channel = "DAHDI/{line}"``).
Ringing a line and injecting call waiting are the same AMI request, an
``Originate`` to the line's channel: on an idle line it rings, on a line in
a call chan_dahdi (``callwaiting=yes``) or the ATA plays the call-waiting
tone (reference §5.2).  Remote hang-up is ``Hangup`` of the line's channel
(a regular expression, as AMI allows, since a channel's name has a suffix).
Asterisk has no request that takes dial tone away from a line, so this
driver does not offer ``dead-line`` and the no-dial-tone test skips.

AMI is line-based text over TCP: a banner, then messages of ``Key: Value``
lines ended by an empty line; every action carries an ``ActionID`` that its
``Response`` repeats, and events come in between.  The secret is read from
the environment variable the rig file names, and never logged or shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
from collections.abc import Mapping
from typing import Any

from modemctl.errors import ConfigError, RigDeviceError
from modemctl.hil.linesim.base import CALL_WAITING, REMOTE_HANGUP, RING

TIMEOUT = 10.0
"""Real seconds an AMI response may take."""


def encode(action: str, fields: Mapping[str, str]) -> bytes:
    """One AMI action message (CR LF line endings, empty line at the end)."""
    lines = [f"Action: {action}"] + [f"{k}: {v}" for k, v in fields.items()]
    for line in lines:
        if "\r" in line or "\n" in line:
            raise ValueError("an AMI field cannot contain a line break")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AsteriskSimulator:
    """Line simulator on an Asterisk PBX reached over AMI."""

    name = "asterisk"
    capabilities = frozenset({RING, CALL_WAITING, REMOTE_HANGUP})

    def __init__(self, host: str, port: int, username: str, secret: str, channel: str,
                 context: str, exten: str) -> None:
        self.host, self.port = host, port
        self.username, self._secret = username, secret
        self.channel, self.context, self.exten = channel, context, exten
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], source: str) -> AsteriskSimulator:
        """Build from the rig file's ``[line_simulator]`` table."""
        def text(key: str, default: str | None = None) -> str:
            value = settings.get(key, default)
            if not isinstance(value, str) or not value:
                raise ConfigError(source, f"[line_simulator] asterisk needs '{key}'")
            return value
        secret_env = text("secret_env", "MODEMCTL_AMI_SECRET")
        secret = os.environ.get(secret_env)
        if secret is None:
            raise ConfigError(source, f"[line_simulator] the AMI secret is read from "
                                      f"${secret_env}, which is not set")
        port = settings.get("port", 5038)
        if not isinstance(port, int):
            raise ConfigError(source, "[line_simulator] port must be a number")
        return cls(text("host"), port, text("username"), secret,
                   text("channel", "DAHDI/{line}"), text("context", "modem-lab"),
                   text("exten", "s"))

    async def connect(self) -> None:
        """Open the AMI session and log in."""
        try:
            async with asyncio.timeout(TIMEOUT):
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                banner = await self._reader.readline()
        except (OSError, TimeoutError) as exc:
            raise RigDeviceError("asterisk", f"cannot reach AMI at {self.host}:{self.port}: "
                                             f"{exc}") from exc
        if not banner.startswith(b"Asterisk Call Manager"):
            raise RigDeviceError("asterisk", f"not an AMI banner: {banner[:60]!r}")
        await self._action("Login", {"Username": self.username, "Secret": self._secret},
                           what="login")

    async def _message(self) -> dict[str, str]:
        assert self._reader is not None
        msg: dict[str, str] = {}
        while True:
            raw = await self._reader.readline()
            if not raw:
                raise RigDeviceError("asterisk", "AMI connection closed")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                if msg:
                    return msg
                continue
            key, _, value = line.partition(":")
            msg[key.strip()] = value.strip()

    async def _action(self, action: str, fields: Mapping[str, str],
                      what: str | None = None) -> dict[str, str]:
        if self._writer is None:
            await self.connect()
        assert self._writer is not None
        action_id = f"modemctl-{next(self._ids)}"
        async with self._lock:
            self._writer.write(encode(action, {"ActionID": action_id, **fields}))
            try:
                async with asyncio.timeout(TIMEOUT):
                    await self._writer.drain()
                    while True:
                        msg = await self._message()
                        if msg.get("ActionID") == action_id and "Response" in msg:
                            break
            except TimeoutError as exc:
                raise RigDeviceError("asterisk", f"no answer to {action}") from exc
        if msg["Response"].lower() != "success":
            # The message is Asterisk's; a failed login never echoes the secret.
            raise RigDeviceError("asterisk", f"{what or action} refused: "
                                             f"{msg.get('Message', msg['Response'])}")
        return msg

    def _channel(self, line: str) -> str:
        return self.channel.format(line=line)

    async def ring(self, line: str, caller: str) -> None:
        await self._action("Originate", {
            "Channel": self._channel(line), "Context": self.context, "Exten": self.exten,
            "Priority": "1", "CallerID": f'"modemctl" <{caller}>', "Async": "true"})

    async def call_waiting(self, line: str, caller: str) -> None:
        await self.ring(line, caller)

    async def set_dead(self, line: str, dead: bool) -> None:
        raise RigDeviceError("asterisk", "cannot take a line dead (no dial-tone control)")

    async def remote_hangup(self, line: str) -> None:
        pattern = "/^" + re.escape(self._channel(line)) + "-.*$/"
        await self._action("Hangup", {"Channel": pattern})

    async def silence(self, line: str) -> None:
        raise RigDeviceError("asterisk", "cannot make a modem go silent")

    async def close(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(RigDeviceError):
                await self._action("Logoff", {})
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = self._reader = None
