"""``modemctl dial``: make a call, show its progress, then talk to the far end like ``cu``."""

from __future__ import annotations

import asyncio
from typing import Literal

import click

from modemctl.cli import completion
from modemctl.cli.calls import Progress, converse, opened, watching
from modemctl.cli.config import SecureSetting
from modemctl.cli.context import Settings, pass_settings
from modemctl.cli.exitcodes import ExitCode, render_table
from modemctl.cli.target import Target, default_line_set
from modemctl.line.dialstring import validate_number

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


def choose_secure(flag: bool | None, best_effort: bool, target: Target) -> SecureSetting:
    """The secure setting: command line first, then the line's config, else off."""
    if best_effort:
        return "best-effort"
    if flag is not None:
        return flag
    return target.secure if target.secure is not None else False


@click.command("dial", epilog=EXIT_EPILOG)
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
              help="Dialing rules (cancel-call-waiting code...), e.g. US (default: the line's "
                   "config, else US).")
@click.option("--session", "identity", metavar="IDENTITY",
              help="Authenticate and encrypt the call as IDENTITY (see `modemctl identity`).")
@pass_settings
def command(settings: Settings, args: tuple[str, ...], secure: bool | None, best_effort: bool,
            media: str, location: str | None, identity: str | None) -> None:
    """Call NUMBER on PORT and connect this terminal to the call.

    Each state change is printed as it happens.  Once connected, what you
    type goes to the far end; at the start of a line, ~. hangs up, ~s secures
    the call that is up (and prints what was applied), ~? shows help.
    """
    port, number = split_port_number(args)
    validate_number(number)             # a bad number is refused before the port is opened
    target = settings.target(port)
    media_kind: Literal["data", "fax"] = "fax" if media == "fax" else "data"
    code = asyncio.run(_dial(settings, target, number, choose_secure(secure, best_effort, target),
                             media_kind, location, identity))
    click.get_current_context().exit(int(code))


async def _dial(settings: Settings, target: Target, number: str, secure: SecureSetting,
                media: Literal["data", "fax"], location: str | None,
                identity: str | None = None) -> ExitCode:
    progress = Progress(settings)
    progress(f"dialling {number} on {target.label}"
             + (" for a fax call" if media == "fax" else "")
             + (f", secure={str(secure).lower()}" if secure else ""))
    async with opened(settings, target, location) as line, watching(line, progress):
        call = await line.make_call(number, secure=secure, media=media)
        if identity is not None:
            from modemctl.cli.sessions import dial_session
            return await dial_session(call, identity, settings, progress)
        return await converse(call, settings, progress)
