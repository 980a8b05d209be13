"""``modemctl demo``: the point of the project in twenty seconds, without hardware.

It starts a fake exchange in-process with two Conexant V.92 modems (whose
defaults drop a data call on call waiting, like the USR 5637 / Zoom 3095
class they model), and makes the same call twice:

1. **secured** (``secure=True``): a third party calls in mid-call, the call
   survives and data still flows;
2. **unsecured**: the same third party, and the call drops.

Each step is printed on a timeline as it happens (simulated seconds, state
changes from both modems, what securing applied, the call-waiting event,
the outcome), then a short conclusion.  The exit status is 0 only when the
demo showed what it should, so ``make demo`` doubles as a smoke test.

Everything here goes through the public APIs (``modemctl.fake.Exchange``,
``modemctl.open_line``), exactly as a user's script would.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import click

from modemctl.cli.context import Settings, pass_settings
from modemctl.cli.exitcodes import ExitCode
from modemctl.cli.render import enum_name, event_text, report_summary
from modemctl.errors import ModemctlError
from modemctl.fake import Exchange
from modemctl.line import Call, CallState, Line, Secured, open_line
from modemctl.loopthread import LoopThread

PERSONALITY = "conexant-v92"
NUMBER_A, NUMBER_B, THIRD_PARTY, THIRD_NAME = "5551001", "5551002", "5559999", "ALICE"
LOCATION = "US"
#: Simulated seconds to let call waiting play out before judging the call.
SETTLE = 3.0
#: What the exchange's outcome of the third party's call means, for the timeline.
PARTY_OUTCOMES = {
    "busy": f"{THIRD_NAME} hears busy: call waiting is cancelled for A's call",
    "waiting-ignored": "A's modem ignored the call-waiting tone",
    "waiting-held": "A's modem put the call on hold (V.92 modem-on-hold) and resumed it",
    "waiting-dropped": "the call-waiting tone cost A's modem its data call",
}

#: Real seconds for the last events of a scenario to be printed before the next begins.
NARRATION_DRAIN = 0.05
#: Simulated seconds allowed for data to cross the call.
DATA_WAIT = 5.0


@dataclass
class Outcome:
    """What one scenario showed."""

    title: str
    secure: bool
    connected: bool = False
    data_before: bool = False
    survived: bool = False
    data_after: bool = False
    reason: str = ""
    secured_by: tuple[str, ...] = ()
    party: str = ""


class Timeline:
    """Prints timestamped lines, in simulated seconds since the scenario began."""

    def __init__(self, time_scale: float, echo: Callable[[str], None]) -> None:
        self._scale = time_scale
        self._echo = echo
        self._start = time.monotonic()

    def restart(self) -> None:
        self._start = time.monotonic()

    def __call__(self, who: str, text: str) -> None:
        elapsed = (time.monotonic() - self._start) / self._scale
        self._echo(f"  {elapsed:7.2f}s  {who:<8} {text}")


@contextlib.asynccontextmanager
async def narrated(line: Line, who: str, timeline: Timeline) -> AsyncIterator[None]:
    """Put ``line``'s events on the timeline while the body runs."""

    async def watch() -> None:
        async for event in line.events():
            text = event_text(event)
            if text is not None and not isinstance(event, Secured):   # the report says it
                timeline(who, text)

    task = asyncio.create_task(watch())
    await asyncio.sleep(0)           # let it subscribe before anything happens
    try:
        yield
    finally:
        await asyncio.sleep(NARRATION_DRAIN)    # let the last events reach the timeline
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _transfer(sender: Call, receiver: Call, payload: bytes, limit: float) -> bool:
    """Send ``payload`` one way and check it arrives intact within ``limit`` real seconds."""
    try:
        await sender.write(payload)
        got = b""
        async with asyncio.timeout(limit):
            while len(got) < len(payload):
                chunk = await receiver.read(len(payload) - len(got))
                if not chunk:
                    return False
                got += chunk
    except (TimeoutError, ModemctlError):
        return False
    return got == payload


async def _until(predicate: Callable[[], bool], limit: float) -> bool:
    """Poll ``predicate`` every 10 ms for at most ``limit`` real seconds."""
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


async def scenario(ex: Exchange, switch: LoopThread, line_a: Line, line_b: Line, *,
                   secure: bool,
                   timeline: Timeline, scale: float) -> Outcome:
    """One call A -> B, call waiting on A, and a verdict."""
    outcome = Outcome("SECURED" if secure else "UNSECURED", secure)
    timeline.restart()
    wait = max(DATA_WAIT * scale, 2.0)

    async def answer() -> Call:
        incoming = await line_b.wait_for_call()
        await incoming.answer()
        return incoming

    answering = asyncio.create_task(answer())
    timeline("A", f"dial {NUMBER_B}, secure={secure}")
    try:
        call = await line_a.make_call(NUMBER_B, secure=secure)
    except BaseException:
        answering.cancel()
        raise
    if call.state is not CallState.CONNECTED:
        answering.cancel()
        outcome.reason = enum_name(call.disconnect_reason)
        timeline("A", f"call failed: {outcome.reason}")
        return outcome
    callee = await asyncio.wait_for(answering, wait)
    outcome.connected = True
    if call.secure_report is not None:
        outcome.secured_by = tuple(m.name for m in call.secure_report.mechanisms
                                   if m.in_force and m.protecting)
        for text in report_summary(call.secure_report):
            timeline("A", text)
    outcome.data_before = await _transfer(call, callee, b"before call waiting\r\n", wait)
    timeline("A->B", "data arrived intact" if outcome.data_before else "data LOST")

    timeline("exchange", f"{THIRD_PARTY} ({THIRD_NAME}) calls A while A is in the call")
    party = await switch.call(ex.ring_in(NUMBER_A, caller=THIRD_PARTY, name=THIRD_NAME))
    settle = max(SETTLE * scale, 0.3)
    await _until(lambda: party.outcome is not None, settle)
    await _until(lambda: call.state is not CallState.CONNECTED, settle)
    outcome.party = party.outcome or "undecided"
    timeline("exchange", PARTY_OUTCOMES.get(outcome.party, f"third party: {outcome.party}"))
    outcome.survived = call.state is CallState.CONNECTED
    if outcome.survived:
        outcome.data_after = await _transfer(call, callee, b"after call waiting\r\n", wait)
        timeline("A->B", "data arrived intact: the call SURVIVED call waiting"
                 if outcome.data_after else "data LOST after call waiting")
        timeline("A", "hanging up")
        await call.drop()
        await _until(lambda: callee.state is CallState.DISCONNECTED, wait)
        outcome.reason = enum_name(call.disconnect_reason)
    else:
        outcome.reason = enum_name(call.disconnect_reason)
        timeline("A", f"the call DROPPED ({outcome.reason})")
        with contextlib.suppress(Exception):
            await callee.drop()
    return outcome


def conclusion(secured: Outcome, unsecured: Outcome) -> str:
    """The closing paragraph, from what actually happened."""
    if demo_passed(secured, unsecured):
        how = ", ".join(secured.secured_by) or "the line's mechanisms"
        return (f"The secured call survived call waiting and kept carrying data: securing "
                f"applied {how} before it was dialled, and when {THIRD_NAME} called, the "
                f"exchange reported '{secured.party}'.  The same call "
                f"without securing dropped ({unsecured.reason}) the moment the third party "
                "called, which is what happens to a fax or data session on a default modem "
                "on a line with call waiting.  `modemctl dial --secure` and "
                "`line.make_call(..., secure=True)` do this for you, and fail closed when a "
                "line cannot be secured.")
    return ("The demo did NOT show the expected result: "
            f"secured call survived={secured.survived} (data after={secured.data_after}), "
            f"unsecured call survived={unsecured.survived}.  Rerun with -v for details.")


async def _start_exchange(time_scale: float) -> Exchange:
    ex = Exchange(time_scale=time_scale)
    await ex.start()
    for number in (NUMBER_A, NUMBER_B):
        await ex.add_line(number, personality=PERSONALITY, rfc2217=True)
    return ex


async def _both_scenarios(ex: Exchange, switch: LoopThread, time_scale: float,
                          timeline: Timeline, echo: Callable[[str], None]) -> list[Outcome]:
    url_a, url_b = (ex.lines[n].url or ex.lines[n].port for n in (NUMBER_A, NUMBER_B))
    echo(click.wrap_text(
        f"Two fake {PERSONALITY} modems on a simulated exchange, running "
        f"{1 / time_scale:g}x faster than real time (times below are simulated seconds):",
        width=78))
    echo(f"  A = {NUMBER_A} on {url_a}    B = {NUMBER_B} on {url_b}")
    outcomes = []
    for step, secure in ((1, True), (2, False)):
        echo("")
        echo(f"{step}. {'SECURED' if secure else 'UNSECURED'} call A -> B, "
             "then call waiting on A")
        # Fresh lines for each scenario, so the two calls share nothing but the modems.
        async with open_line(url_a, location=LOCATION, time_scale=time_scale,
                             name="A") as line_a, \
                open_line(url_b, location=LOCATION, time_scale=time_scale,
                          name="B") as line_b, \
                narrated(line_a, "A", timeline), narrated(line_b, "B", timeline):
            outcomes.append(await scenario(ex, switch, line_a, line_b, secure=secure,
                                           timeline=timeline, scale=time_scale))
    return outcomes


def demo_passed(secured: Outcome, unsecured: Outcome) -> bool:
    """The secured call survived with data intact, and the unsecured one dropped."""
    return (secured.connected and secured.data_before and secured.survived
            and secured.data_after and unsecured.connected and not unsecured.survived)


async def run_demo(time_scale: float, echo: Callable[[str], None]) -> bool:
    """Run both scenarios, printing as it goes; True when the demo showed its point.

    The exchange runs on its own thread and event loop, as a telephone
    exchange is not part of the program that uses the modems; its lines are
    served over RFC 2217 so that, as on a real serial port, the driver sees
    the modem's RI and DCD lines (a pty has neither).
    """
    timeline = Timeline(time_scale, echo)
    switch = LoopThread()
    try:
        ex = await switch.call(_start_exchange(time_scale))
        try:
            outcomes = await _both_scenarios(ex, switch, time_scale, timeline, echo)
        finally:
            await switch.call(ex.close())
    finally:
        switch.stop()
    secured, unsecured = outcomes
    echo("")
    echo(f"Secured:   {'SURVIVED' if secured.survived else 'DROPPED'} call waiting "
         f"(data after: {'intact' if secured.data_after else 'lost'})")
    echo(f"Unsecured: {'SURVIVED' if unsecured.survived else 'DROPPED'} call waiting "
         f"({unsecured.reason or 'no reason'})")
    echo("")
    echo(click.wrap_text(conclusion(secured, unsecured), width=78))
    return demo_passed(secured, unsecured)


@click.command("demo")
@click.option("--time-scale", type=click.FloatRange(0.01, 1.0), default=0.1, show_default=True,
              help="Real seconds per simulated second (1.0 = real time).")
@pass_settings
def command(settings: Settings, time_scale: float) -> None:
    """Show a secured call surviving call waiting, and an unsecured one dropping.

    No hardware needed: two fake modems on a simulated exchange, in-process.
    """
    passed = asyncio.run(run_demo(time_scale, click.echo))
    click.get_current_context().exit(int(ExitCode.OK if passed else ExitCode.ERROR))

