"""The harness: a rig and the drivers for its devices, as the conformance tests use it.

It is built once per run (from a rig file, or as the fake rig) and hands each
test what it asks for: a line on a modem (``open``), a line simulator and a
power switch made on the test's own event loop (every test runs its own
``asyncio.run``), and the reason a test cannot run here (``lacking``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

from modemctl.errors import ConfigError
from modemctl.hil.fakerig import SUBSETS, FakePowerSwitch, FakeRigHost, FakeSimulator
from modemctl.hil.linesim.asterisk import AsteriskSimulator
from modemctl.hil.linesim.base import LineSimulator
from modemctl.hil.needs import lacking, offers_of
from modemctl.hil.power import CommandPowerSwitch, PowerSwitch
from modemctl.hil.rig import Rig, RigModem, load_rig
from modemctl.line import Line, open_line

SIMULATOR_CAPABILITIES = {"fake": FakeSimulator.capabilities,
                          "asterisk": AsteriskSimulator.capabilities, "none": frozenset()}


class Harness:
    """One rig, ready for tests."""

    def __init__(self, rig: Rig, host: FakeRigHost | None = None,
                 source: str = "rig") -> None:
        self.rig = rig
        self.host = host
        self.source = source
        self.offers = offers_of(rig, SIMULATOR_CAPABILITIES[rig.line_simulator.kind])

    @classmethod
    def build(cls, rig_path: Path | None, fake_subset: str = "full",
              data_bytes: int | None = None) -> Harness:
        """From a rig file, or (no file) the fake rig with ``fake_subset`` of its lines."""
        if rig_path is not None:
            rig = load_rig(rig_path)
            if rig.line_simulator.kind == "fake" or rig.power_switch.kind == "fake":
                raise ConfigError(str(rig_path), "'fake' devices exist only in the fake rig "
                                                 "(run without --rig)")
            harness = cls(rig, source=str(rig_path))
        else:
            if fake_subset not in SUBSETS:
                raise ConfigError("fake rig", f"no subset {fake_subset!r} "
                                              f"(known: {', '.join(SUBSETS)})")
            host = FakeRigHost(SUBSETS[fake_subset])
            harness = cls(host.start(), host, source=f"fake rig ({fake_subset})")
        if data_bytes is not None:
            harness.rig = replace(harness.rig, data_bytes=data_bytes)
        return harness

    def lacking(self, needs: Sequence[str], modems: Sequence[RigModem]) -> str | None:
        return lacking(needs, modems, self.offers)

    @asynccontextmanager
    async def open(self, modem: RigModem) -> AsyncIterator[Line]:
        """The modem's line, probed, with the rig's dialing rules and time scale."""
        async with open_line(modem.url, self.rig.location, self.rig.time_scale,
                             name=modem.name) as line:
            yield line

    @asynccontextmanager
    async def simulator(self) -> AsyncIterator[LineSimulator]:
        """The line simulator, connected for this test (callers checked ``lacking``)."""
        spec = self.rig.line_simulator
        sim: LineSimulator
        if spec.kind == "fake" and self.host is not None:
            sim = FakeSimulator(self.host)
        elif spec.kind == "asterisk":
            ami = AsteriskSimulator.from_settings(spec.settings, self.source)
            await ami.connect()
            sim = ami
        else:
            raise ConfigError(self.source, "the rig has no line simulator")
        try:
            yield sim
        finally:
            await sim.close()

    def power(self) -> PowerSwitch:
        spec = self.rig.power_switch
        if spec.kind == "fake" and self.host is not None:
            return FakePowerSwitch(self.host)
        if spec.kind == "command":
            return CommandPowerSwitch.from_settings(spec.settings, self.source)
        raise ConfigError(self.source, "the rig has no power switch")

    def close(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None
