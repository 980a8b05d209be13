"""Applying a secure plan against a scripted modem: refusals, read-back, restore."""

from __future__ import annotations

from dataclasses import dataclass

from modemctl.errors import CommandError
from modemctl.line.report import Mechanism, SecureReport
from modemctl.line.secure import apply_plan, judge, plan_secure, restore
from tests.line.test_secure_plan import caps_for


@dataclass
class _Answer:
    info: tuple[str, ...]


class RegisterModem:
    """Keeps registers; refuses what ``refuse`` lists; ``lie`` makes reads wrong."""

    def __init__(self, values: dict[str, int], refuse: set[str] | None = None,
                 lie: dict[str, int] | None = None) -> None:
        self.values = dict(values)
        self.refuse = refuse or set()
        self.lie = lie or {}
        self.sent: list[str] = []

    async def command(self, command: str, timeout: float = 5.0) -> _Answer:  # noqa: ASYNC109
        self.sent.append(command)
        body = command[2:]
        if body.endswith("?"):
            reg = body[:-1]
            if reg in self.refuse or reg not in self.values:
                raise CommandError(command, "ERROR")
            value = self.lie.get(reg, self.values[reg])
            return _Answer((f"{reg}: {value}" if reg.startswith("+") else f"{value:03d}",))
        reg, _, value = body.partition("=")
        if reg in self.refuse:
            raise CommandError(command, "ERROR")
        self.values[reg] = int(value)
        return _Answer(())


async def test_refused_pcw_leaves_s10_needing_moh_off() -> None:
    caps = caps_for("conexant", "GB", v92=True)
    modem = RegisterModem({"+PCW": 0, "+PMH": 0, "S10": 14, "S0": 0}, refuse={"+PCW", "+PMH"})
    saved: dict[str, int] = {}
    results = await apply_plan(modem, plan_secure(caps, "connected"), saved)
    report = SecureReport("c1", "connected", True, judge(results, caps, connected=True))
    pcw = report.mechanism(Mechanism.PCW_IGNORE)
    s10 = report.mechanism(Mechanism.S10_RIDE_THROUGH)
    assert pcw is not None and not pcw.applied and "refused" in pcw.detail
    assert s10 is not None and s10.verified and not s10.in_force
    assert "modem-on-hold is still on" in s10.detail
    assert not report.secured                  # fail closed: nothing protects this call
    assert saved == {}                         # nothing was changed, nothing to restore


async def test_read_back_mismatch_is_not_verified() -> None:
    caps = caps_for("usr", "GB", v92=False)
    modem = RegisterModem({"S10": 7, "S0": 0}, lie={"S10": 7})   # write "works", reads 7
    saved: dict[str, int] = {}
    results = await apply_plan(modem, plan_secure(caps, "connected"), saved)
    report = SecureReport("c1", "connected", True, judge(results, caps, connected=True))
    s10 = report.mechanism(Mechanism.S10_RIDE_THROUGH)
    assert s10 is not None and s10.applied and not s10.verified and not s10.in_force
    assert "read back 7, wanted 14" in s10.detail
    assert saved == {"S10": 7}


async def test_saved_values_are_the_originals_and_restore_puts_them_back() -> None:
    caps = caps_for("conexant", "GB", v92=True)
    modem = RegisterModem({"+PCW": 0, "+PMH": 0, "S10": 20, "S0": 0})
    saved: dict[str, int] = {}
    await apply_plan(modem, plan_secure(caps, "dial"), saved)
    await apply_plan(modem, plan_secure(caps, "connected"), saved)   # second pass: no-ops
    assert saved == {"+PCW": 0, "+PMH": 0, "S10": 20}
    assert modem.values == {"+PCW": 2, "+PMH": 1, "S10": 14, "S0": 0}
    modem.sent.clear()
    assert await restore(modem, saved) == []
    assert modem.values == {"+PCW": 0, "+PMH": 0, "S10": 20, "S0": 0}
    assert set(modem.sent) == {"AT+PCW=0", "AT+PMH=0", "ATS10=20"}


async def test_restore_reports_failures() -> None:
    modem = RegisterModem({"S10": 14}, refuse={"S10"})
    failures = await restore(modem, {"S10": 7})
    assert len(failures) == 1 and failures[0].startswith("S10=7")
