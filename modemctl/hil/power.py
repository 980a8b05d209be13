"""Power switches: switching a modem off and on for the power-cycle tests.

A rig's relay board or switched PDU is driven by whatever program it comes
with (``usbrelay``, ``sispmctl``, ``labgrid-client power``...), so the one
real driver here runs the commands the rig file gives, with ``{outlet}``
replaced by the modem's outlet.  The fake rig has its own (unplug/replug).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from modemctl.errors import ConfigError, RigDeviceError
from modemctl.hil.rig import RigModem

TIMEOUT = 30.0
"""Real seconds a switching command may take."""


class PowerSwitch(Protocol):
    """Switches the power of the modems with an outlet."""

    name: str

    async def off(self, modem: RigModem) -> None:
        """Cut the modem's power."""

    async def on(self, modem: RigModem) -> None:
        """Give the modem power again."""


class CommandPowerSwitch:
    """Runs ``on``/``off`` argument lists (no shell) with ``{outlet}`` filled in."""

    name = "command"

    def __init__(self, on: Sequence[str], off: Sequence[str]) -> None:
        self._on, self._off = tuple(on), tuple(off)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], source: str) -> CommandPowerSwitch:
        argv: dict[str, list[str]] = {}
        for key in ("on", "off"):
            value = settings.get(key)
            if not isinstance(value, list) or not value or \
                    not all(isinstance(x, str) for x in value):
                raise ConfigError(source, f"[power_switch] '{key}' must be a list of "
                                          "strings (a command and its arguments)")
            argv[key] = value
        return cls(argv["on"], argv["off"])

    async def _run(self, argv: Sequence[str], modem: RigModem) -> None:
        if modem.outlet is None:
            raise RigDeviceError("power switch", f"{modem.name} has no outlet")
        args = [a.format(outlet=modem.outlet) for a in argv]
        try:
            proc = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT)
        except OSError as exc:
            raise RigDeviceError("power switch", f"cannot run {args[0]}: {exc}") from exc
        try:
            async with asyncio.timeout(TIMEOUT):
                out, _ = await proc.communicate()
        except TimeoutError as exc:
            proc.kill()
            await proc.wait()
            raise RigDeviceError("power switch", f"{args[0]} took over {TIMEOUT}s") from exc
        if proc.returncode != 0:
            raise RigDeviceError("power switch", f"{args[0]} exited {proc.returncode}: "
                                                 f"{out.decode(errors='replace').strip()}")

    async def off(self, modem: RigModem) -> None:
        await self._run(self._off, modem)

    async def on(self, modem: RigModem) -> None:
        await self._run(self._on, modem)
