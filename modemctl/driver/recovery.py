"""The recovery ladder: ever harder ways to get a modem talking again.

After consecutive command timeouts the engine climbs, stopping at the first
rung after which a plain ``AT`` gets ``OK``:

1. ``resync``   — a bare CR (ends whatever half line the modem holds), then AT;
2. ``escape``   — guarded ``+++`` in case the modem is online and we think not;
3. ``dtr-drop`` — drop DTR (hang-up/reset under &D2/&D3), where the port has DTR;
4. ``reset``    — ``ATZ``;
5. ``reopen``   — close and reopen the port (a USB modem that re-enumerated).

Each rung is logged and recorded as a :class:`~modemctl.errors.RecoveryStep`;
if none works the caller gets :class:`~modemctl.errors.ModemUnresponsive`
listing all of them.  The rungs themselves are the engine's business (they
need its core and transport); this module only fixes their order and the
bookkeeping, so the policy is readable in one place.
"""

from __future__ import annotations

from typing import Literal, Protocol

from modemctl.errors import ModemctlError, ModemUnresponsive, RecoveryStep
from modemctl.log import Logger

#: The rungs, mildest first.
RungAction = Literal["resync", "escape", "dtr-drop", "reset", "reopen"]
LADDER: tuple[RungAction, ...] = ("resync", "escape", "dtr-drop", "reset", "reopen")


class LadderOps(Protocol):
    """What a rung can do.  Each action returns a short detail string, or
    raises a :class:`ModemctlError` when the action itself was impossible."""

    async def rung_action(self, action: RungAction) -> str: ...

    async def rung_probe(self) -> bool: ...


async def climb(ops: LadderOps, log: Logger) -> tuple[RecoveryStep, ...]:
    """Run rungs in order until one leaves the modem answering; see module docs."""
    steps: list[RecoveryStep] = []
    for action in LADDER:
        try:
            detail = await ops.rung_action(action)
            ok = await ops.rung_probe()
        except ModemctlError as e:
            ok, detail = False, f"{type(e).__name__}: {e}"
        step = RecoveryStep(action, ok, detail)
        steps.append(step)
        log.warning("recovery-step", action=action, succeeded=ok, detail=detail)
        if ok:
            return tuple(steps)
    raise ModemUnresponsive(steps)
