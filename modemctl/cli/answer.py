"""``modemctl answer``: wait for a call, show who is calling, answer, then the session."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import click

from modemctl.cli import completion
from modemctl.cli.calls import Progress, converse, opened, watching
from modemctl.cli.config import SecureSetting
from modemctl.cli.context import Settings, baud_option, pass_settings
from modemctl.cli.dial import EXIT_EPILOG, check_location, choose_secure
from modemctl.cli.exitcodes import ExitCode
from modemctl.cli.render import caller_text
from modemctl.cli.script import SessionOptions
from modemctl.cli.session import ScriptedCommand, build_options, session_options
from modemctl.cli.target import Target
from modemctl.errors import OperationUnavailable
from modemctl.line import CallState, Line, Ring
from modemctl.line.report import PROTECTING
from modemctl.line.secure import plan_secure

#: Protocol seconds from one RING to the next (US cadence: 2 s on, 4 s off),
#: with margin; after this without a ring the caller has given up.
RING_PERIOD = 6.0


class RingCounter:
    """Counts the rings of the call being offered, from the line's events."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Event()

    async def follow(self, line: Line) -> None:
        async for event in line.events():
            if isinstance(event, Ring):
                self.count = event.count
                self._changed.set()

    async def reach(self, rings: int, period: float) -> bool:
        """Wait for ring number ``rings``; False if ringing stops first (caller gave up)."""
        while self.count < rings:
            self._changed.clear()
            try:
                async with asyncio.timeout(period):
                    await self._changed.wait()
            except TimeoutError:
                return False
        return True


@contextlib.asynccontextmanager
async def counting(line: Line) -> AsyncIterator[RingCounter]:
    counter = RingCounter()
    task = asyncio.create_task(counter.follow(line))
    await asyncio.sleep(0)           # let it subscribe before anything happens
    try:
        yield counter
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def refuse_unsecurable(line: Line) -> None:
    """``--secure`` on a line that cannot secure an answered call fails now, not after a ring.

    ``dial --secure`` fails before going off-hook; an answer must likewise not
    keep a caller ringing only to refuse them.  The plan is the one the line
    will apply when answering, so the check cannot disagree with it.
    """
    plan = plan_secure(line.caps_required(), "answer")
    if plan.can_protect:
        return
    why = "; ".join(f"{m.name}: {m.reason}" for m in plan.mechanisms
                    if m.name in PROTECTING)
    raise OperationUnavailable(f"no way to secure an answered call on line {line.name}: {why}")


@click.command("answer", cls=ScriptedCommand, epilog=EXIT_EPILOG)
@click.argument("port", required=False, shell_complete=completion.complete_port)
@click.option("--secure/--no-secure", default=None,
              help="Protect the answered call from call waiting, or refuse to answer "
                   "(default: the line's config, else off).")
@click.option("--best-effort", is_flag=True,
              help="Secure with whatever this line can do; answer even if nothing can.")
@click.option("--rings", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Answer on ring N.  Caller ID comes between rings 1 and 2 and is waited "
                   "for, so on a line with caller ID the earliest answer is on ring 2 "
                   "(--rings 1 and 2 alike).")
@click.option("--location", metavar="CODE", shell_complete=completion.complete_location,
              callback=check_location,
              help="Dialing rules and modem country, e.g. US (default: the line's config, "
                   "else US).")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None,
              help="Give up after this many seconds without a call (default: wait forever).")
@click.option("--session", "identities", multiple=True, metavar="IDENTITY",
              help="Admit only callers that authenticate as IDENTITY (repeatable): caller "
                   "ID, handshake, dial-back as configured; see `modemctl identity`.")
@session_options
@baud_option
@pass_settings
def command(settings: Settings, port: str | None, secure: bool | None, best_effort: bool,
            rings: int, location: str | None, timeout: float | None,
            identities: tuple[str, ...], escape: str | None,
            echo: bool, send: tuple[str, ...], expect: tuple[str, ...], expect_timeout: float,
            idle: float | None) -> None:
    """Wait for a call on PORT, show the caller ID, answer it, connect this terminal.

    The session works as in `modemctl dial`: ~. hangs up, ~s secures the
    call, ~? shows help.
    """
    options = build_options(escape, echo, send, expect, expect_timeout, idle)
    target = settings.target(port)
    code = asyncio.run(_answer(settings, target, choose_secure(secure, best_effort, target),
                               rings, location, options, give_up_after=timeout,
                               identities=identities))
    click.get_current_context().exit(int(code))


async def _answer(settings: Settings, target: Target, secure: SecureSetting, rings: int,
                  location: str | None, options: SessionOptions, *,
                  give_up_after: float | None,
                  identities: tuple[str, ...] = ()) -> ExitCode:
    progress = Progress(settings)
    async with opened(settings, target, location) as line, watching(line, progress), \
            counting(line) as counter:
        if secure is True:
            refuse_unsecurable(line)
        progress(f"waiting for a call on {target.label}"
                 + (f" (answering on ring {rings})" if rings > 1 else ""))
        try:
            async with asyncio.timeout(give_up_after):
                call = await line.wait_for_call()
        except TimeoutError:
            progress.outcome(f"no call within {give_up_after:g} s")
            return ExitCode.NO_CALL
        progress(f"incoming call: {caller_text(call.caller_id)}")
        if not await counter.reach(rings, max(RING_PERIOD * settings.time_scale, 0.5) + 1.0):
            progress.outcome(f"the caller hung up after {counter.count} ring(s)")
            await call.drop()
            return ExitCode.NO_ANSWER
        if identities:
            from modemctl.cli.sessions import answer_session
            return await answer_session(call, line, identities, settings, progress, secure)
        progress("answering" + (f" (secure={str(secure).lower()})" if secure else ""))
        await call.answer(secure=secure)
        if call.state is not CallState.CONNECTED:
            reason = call.disconnect_reason
            progress(f"answer failed: {reason.name if reason else 'unknown'}")
        return await converse(call, settings, progress, options)
