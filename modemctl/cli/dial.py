"""``modemctl dial``: make a call, show its progress, then talk to the far end like ``cu``."""

from __future__ import annotations

import asyncio
from typing import Literal

import click

from modemctl.cli import completion
from modemctl.cli.calls import Progress, converse, opened, watching
from modemctl.cli.cancelcode import cancel_code_options, with_cancel_codes
from modemctl.cli.config import SecureSetting, known_locations, unknown_location
from modemctl.cli.context import Settings, baud_option, pass_settings
from modemctl.cli.exitcodes import ExitCode, render_table
from modemctl.cli.script import SessionOptions
from modemctl.cli.session import ScriptedCommand, build_options, session_options
from modemctl.cli.target import Target, default_line_set
from modemctl.line.dialstring import validate_number
from modemctl.log import register_secret

EXIT_EPILOG = "Exit status (follows the disconnect reason):\n\n\b\n" + render_table()


def split_port_number(args: tuple[str, ...]) -> tuple[str | None, str]:
    """``[PORT] NUMBER``: PORT may be left out when ``MODEMCTL_LINE`` is set."""
    if len(args) == 2:
        return args[0], args[1]
    if len(args) == 1:
        if not default_line_set():
            raise click.UsageError("give PORT and NUMBER (or set MODEMCTL_LINE to give "
                                   "only NUMBER)")
        return None, args[0]
    raise click.UsageError("expected PORT NUMBER; quote a number that contains spaces")


def check_location(_ctx: click.Context, _param: click.Parameter, value: str | None
                   ) -> str | None:
    """``--location``: a known code (any case), else a usage error listing the known ones."""
    if value is not None and unknown_location(value):
        raise click.BadParameter(f"{value!r} is not a known location ({known_locations()})")
    return value.upper() if value is not None else None


def choose_secure(flag: bool | None, best_effort: bool, target: Target) -> SecureSetting:
    """The secure setting: command line first, then the line's config, else off."""
    if best_effort and flag is not None:
        raise click.UsageError(f"--best-effort and --{'' if flag else 'no-'}secure contradict "
                               "each other: give one")
    if best_effort:
        return "best-effort"
    if flag is not None:
        return flag
    return target.secure if target.secure is not None else False


@click.command("dial", cls=ScriptedCommand, epilog=EXIT_EPILOG)
@click.argument("args", nargs=-1, metavar="PORT NUMBER",
                shell_complete=completion.complete_port)
@click.option("--secure/--no-secure", default=None,
              help="Protect the call from call waiting, or fail (default: the line's "
                   "config, else off).")
@click.option("--best-effort", is_flag=True,
              help="Secure with whatever this line can do; dial even if nothing can.")
@click.option("--media", type=click.Choice(["data", "fax"]), default="data", show_default=True,
              help="What the call carries.")
@click.option("--location", metavar="CODE", shell_complete=completion.complete_location,
              callback=check_location,
              help="Dialing rules (cancel-call-waiting code...), e.g. US (default: the line's "
                   "config, else US).")
@cancel_code_options
@click.option("--session", "identity", metavar="IDENTITY",
              help="Authenticate and encrypt the call as IDENTITY (see `modemctl identity`).")
@session_options
@baud_option
@pass_settings
def command(settings: Settings, args: tuple[str, ...], secure: bool | None, best_effort: bool,
            media: str, location: str | None, cancel_code: str | None,
            cancel_code_pulse: str | None, identity: str | None, escape: str | None,
            echo: bool, send: tuple[str, ...], expect: tuple[str, ...], expect_timeout: float,
            idle: float | None) -> None:
    """Call NUMBER on PORT and connect this terminal to the call.

    Each state change is printed as it happens.  Once connected, what you
    type goes to the far end; at the start of a line, ~. hangs up, ~s secures
    the call that is up (and prints what was applied), ~? shows help.
    Piped input is data (no escape unless -e), and end of input hangs up
    (after --idle S of quiet from the far end, if given).

    Digits in braces are secret (a calling-card PIN after pauses:
    '5558102,,,{1234}#'): they are dialled but shown as *** in the output,
    the log and the --trace byte trace.
    """
    port, number = split_port_number(args)
    dial = validate_number(number)      # a bad number is refused before the port is opened
    for secret in dial.secrets:
        register_secret(secret)
    options = build_options(escape, echo, send, expect, expect_timeout, idle)
    target = with_cancel_codes(settings.target(port), cancel_code, cancel_code_pulse)
    media_kind: Literal["data", "fax"] = "fax" if media == "fax" else "data"
    code = asyncio.run(_dial(settings, target, number, dial.redacted,
                             choose_secure(secure, best_effort, target), media_kind, location,
                             options, identity))
    click.get_current_context().exit(int(code))


async def _dial(settings: Settings, target: Target, number: str, shown: str,
                secure: SecureSetting, media: Literal["data", "fax"], location: str | None,
                options: SessionOptions, identity: str | None = None) -> ExitCode:
    progress = Progress(settings)
    progress(f"dialling {shown} on {target.label}"
             + (" for a fax call" if media == "fax" else "")
             + (f", secure={str(secure).lower()}" if secure else ""))
    async with opened(settings, target, location) as line, watching(line, progress):
        call = await line.make_call(number, secure=secure, media=media)
        if identity is not None:
            from modemctl.cli.sessions import dial_session
            return await dial_session(call, identity, settings, progress)
        return await converse(call, settings, progress, options)
