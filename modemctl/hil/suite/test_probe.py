"""Probe and capabilities: what the profile promises is what the modem does."""

from __future__ import annotations

import asyncio

from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigModem
from modemctl.profiles import get_profile


def test_probe_identifies_the_profile(harness: Harness, modem: RigModem) -> None:
    async def body() -> None:
        async with harness.open(modem) as line:
            caps = line.caps_required()
            assert caps.profile.name == modem.profile, f"probed as {caps.profile.name}"
            if "dcd" in modem.modem_lines:
                assert line.engine.lines.cd is not None, "the rig says this port carries DCD"
    asyncio.run(body())


def test_capabilities_match_the_profile(harness: Harness, modem: RigModem) -> None:
    profile = get_profile(modem.profile)

    async def body() -> None:
        async with harness.open(modem) as line:
            caps = line.caps_required()
            assert caps.v92 == profile.v92.present
            missing = [c for c in profile.fax_classes if c not in caps.fax_classes]
            assert not missing, f"profile promises fax classes {missing}, modem lists " \
                                f"{caps.fax_classes}"
    asyncio.run(body())
