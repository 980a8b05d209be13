"""A line's own cancel code (the user's carrier's), end to end against the fake.

New Zealand ships no cancel code because its networks use different ones
(*52 on one, *70 on another); a user who knows theirs gives it, and a
secure call then goes out with it.  The fake's exchange honours only the
codes of the line's carrier, so a call counts as protected only when the
code given is one the carrier takes.
"""

from __future__ import annotations

import pytest

from modemctl import InvalidCancelCode, OperationUnavailable
from modemctl.line import open_line
from tests.line.conftest import FAR, PairFactory

NZ_CARRIER = (("T", "*52"), ("P", "1152"))      # the fake line's carrier: *52, 1152 by pulse


async def test_nz_secure_dial_with_the_carriers_code(make_pair: PairFactory) -> None:
    # hayes-basic has neither +PCW nor a safe S10: only the cancel code can secure it.
    pair = await make_pair("hayes-basic", location="NZ", carrier=NZ_CARRIER, cancel_code="*52")
    call, _ = await pair.connect(secure=True)
    report = call.secure_report
    assert report is not None and report.secured
    cancel = report.mechanism("cancel-code")
    assert cancel is not None and cancel.in_force
    record = pair.near_fake.call_log[-1]
    assert record.dialled.startswith("T*52,") and record.cancel_code
    assert record.peer == FAR
    party = await pair.ex.ring_in(pair.near_fake.number, caller="5559999")
    assert party.outcome == "busy"                # the exchange kept call waiting away
    await call.drop()


async def test_nz_without_a_code_still_fails_closed_and_says_how(
        make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="NZ", carrier=NZ_CARRIER)
    with pytest.raises(OperationUnavailable) as info:
        await pair.near.make_call(FAR, secure=True)
    assert "--cancel-code" in str(info.value)
    assert pair.near_fake.call_log == []          # never went off-hook


async def test_pulse_dialling_uses_the_pulse_code(make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="NZ", carrier=NZ_CARRIER,
                           cancel_code="*52", cancel_code_pulse="1152")
    call, _ = await pair.connect(secure=True, number="P" + FAR)
    assert call.secure_report is not None and call.secure_report.secured
    record = pair.near_fake.call_log[-1]
    assert record.dialled.startswith("P1152,") and record.cancel_code
    await call.drop()


async def test_a_star_code_without_a_pulse_code_cannot_secure_a_pulse_call(
        make_pair: PairFactory) -> None:
    pair = await make_pair("hayes-basic", location="NZ", carrier=NZ_CARRIER, cancel_code="*52")
    with pytest.raises(OperationUnavailable) as info:
        await pair.near.make_call("P" + FAR, secure=True)
    assert "cannot be dialled by pulse" in str(info.value)
    assert pair.near_fake.call_log == []


@pytest.mark.parametrize(("code", "pulse"), [
    ("*52;ATS0=1", None), ("ATH", None), ("+++", None), ("*52,5551234", None), ("", None),
    ("*52", "*52"), (None, "1152"),
])
async def test_a_bad_code_is_refused_before_the_port_is_opened(code: str | None,
                                                               pulse: str | None) -> None:
    # The port does not exist: reaching it would raise PortNotFound instead.
    with pytest.raises(InvalidCancelCode):
        async with open_line("/dev/ttyNOPE-cancel", "NZ", cancel_code=code,
                             cancel_code_pulse=pulse):
            pass


def test_the_sync_facade_takes_the_code_too() -> None:
    from modemctl.line import sync

    with pytest.raises(InvalidCancelCode, match="position 4"), \
            sync.open_line("/dev/ttyNOPE-cancel", "NZ", cancel_code="*52;ATH", timeout=10):
        pass
