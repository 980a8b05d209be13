"""``modemctl fax send`` / ``modemctl fax receive``: the fax API at the command line.

Progress goes to stderr (a page bar for sending, a line per page for
receiving), the result to stdout (one readable block, or one JSON object
with ``--json``), and the exit status follows the fax result
(:func:`modemctl.cli.exitcodes.for_fax`): 0 only when every page went
through.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modemctl.cli import completion
from modemctl.cli.calls import Progress, opened, watching
from modemctl.cli.cancelcode import cancel_code_options, with_cancel_codes
from modemctl.cli.config import SecureSetting
from modemctl.cli.context import Settings, pass_settings
from modemctl.cli.dial import check_location
from modemctl.cli.exitcodes import ExitCode, for_fax, render_table
from modemctl.cli.render import report_summary
from modemctl.cli.target import Target
from modemctl.errors import DocumentError
from modemctl.line.dialstring import validate_number

if TYPE_CHECKING:
    from modemctl.fax.api import FaxResult

EXIT_EPILOG = "Exit status (follows the fax result):\n\n\b\n" + render_table()


def fax_secure(flag: bool | None, best_effort: bool, target: Target) -> SecureSetting:
    """Fax default: secured where the line can (the cancel code), else go ahead."""
    if best_effort:
        return "best-effort"
    if flag is not None:
        return flag
    return target.secure if target.secure is not None else "best-effort"


def exit_code(result: FaxResult) -> ExitCode:
    return for_fax(result.hangup.cause.value, result.hangup.detail,
                   bool(result.pages) and all(p.accepted for p in result.pages))


def show(result: FaxResult, settings: Settings, as_json: bool) -> None:
    """The result on stdout."""
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    params = result.params
    click.echo(f"result: {'ok' if result.ok else 'FAILED'}: {result.hangup.text} "
               f"(+FHS {result.hangup.fhs_code})")
    click.echo(f"remote station: {result.remote_id or '(none given)'}")
    if params is not None:
        click.echo(f"negotiated: {params.modulation.family} {params.modulation.rate} bit/s, "
                   f"{params.resolution.name.lower()}, {params.coding.value}")
    for page in result.pages:
        extra = f", {page.quality.bad_lines} bad lines" if page.quality else ""
        click.echo(f"page {page.index + 1}: {'accepted' if page.accepted else 'REJECTED'} "
                   f"({page.response.name if page.response else 'no response'}, "
                   f"{page.attempts} attempt{'s' if page.attempts > 1 else ''}{extra})")
    if result.path is not None:
        click.echo(f"saved: {result.path}" + (f" and {result.pdf_path}" if result.pdf_path
                                              else ""))
    if result.secure_report is not None:
        for text in report_summary(result.secure_report):
            click.echo(text)
    click.echo(f"duration: {result.duration:.1f} s")


@click.group("fax")
def command() -> None:
    """Send and receive faxes (Class 1: T.30 runs here, on the host)."""


@command.command("send", epilog=EXIT_EPILOG)
@click.argument("port", shell_complete=completion.complete_port)
@click.argument("number")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--fine/--standard", default=True, show_default=True,
              help="Vertical resolution: fine 196 lpi, standard 98 lpi.")
@click.option("--header", metavar="TEXT", help="Stamp a header line (TEXT, page n/N) on "
                                              "each page (default: none).")
@click.option("--station-id", metavar="ID", default="", help="Our station ID (TSI), e.g. "
                                                             "'+1 555 0100'.")
@click.option("--secure/--no-secure", default=None,
              help="--secure: refuse to dial unless the call can be protected from call "
                   "waiting (only a cancel code, the location's or --cancel-code, protects "
                   "a fax call).")
@click.option("--best-effort", is_flag=True,
              help="Protect the call where the line can, else send anyway (the default).")
@click.option("--location", metavar="CODE", shell_complete=completion.complete_location,
              callback=check_location,
              help="Dialing rules (cancel-call-waiting code...), e.g. US.")
@cancel_code_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@pass_settings
def send(settings: Settings, port: str, number: str, files: tuple[str, ...], fine: bool,
         header: str | None, station_id: str, secure: bool | None, best_effort: bool,
         location: str | None, cancel_code: str | None, cancel_code_pulse: str | None,
         as_json: bool) -> None:
    """Fax FILES (TIFF, PDF, PNG, JPEG, PBM/PGM; pages in order) to NUMBER on PORT."""
    validate_number(number)             # a bad number is refused before the port is opened
    from modemctl.fax import Resolution, load_document

    resolution = Resolution.FINE if fine else Resolution.STANDARD
    pages = load_document(list(files), resolution=resolution)   # errors before dialling
    target = with_cancel_codes(settings.target(port), cancel_code, cancel_code_pulse)
    code = asyncio.run(_send(settings, target, number, pages, resolution, header, station_id,
                             fax_secure(secure, best_effort, target), location, as_json))
    click.get_current_context().exit(int(code))


async def _send(settings: Settings, target: Target, number: str, pages: list[Any],
                resolution: Any, header: str | None, station_id: str, secure: SecureSetting,
                location: str | None, as_json: bool) -> ExitCode:
    from modemctl import fax
    from modemctl.fax.t30 import Negotiated, PageDone

    progress = Progress(settings)
    progress(f"faxing {len(pages)} page{'s' if len(pages) > 1 else ''} to {number} on "
             f"{target.label}")
    show_bar = not as_json and not settings.quiet
    with click.progressbar(length=len(pages), label="pages", file=sys.stderr,
                           hidden=not show_bar) as bar:
        def on_progress(event: object) -> None:
            if isinstance(event, Negotiated):
                p = event.params
                progress(f"negotiated {p.modulation.rate} bit/s, "
                         f"{p.resolution.name.lower()}, {p.coding.value} with "
                         f"{event.remote_id or 'the far end'}")
            elif isinstance(event, PageDone):
                bar.update(1)

        async with opened(settings, target, location) as line, watching(line, progress):
            result = await fax.send(line, number, [p.to_image() for p in pages],
                                    resolution=resolution, header=header,
                                    station_id=station_id, secure=secure,
                                    progress=on_progress)
    show(result, settings, as_json)
    return exit_code(result)


@command.command("receive", epilog=EXIT_EPILOG)
@click.argument("port", shell_complete=completion.complete_port)
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, writable=True, path_type=Path),
              help="Folder for received faxes (fax-<UTC time>-<remote ID>.tif).")
@click.option("--pdf", is_flag=True, help="Also write each fax as a PDF.")
@click.option("--rings", type=click.IntRange(1, 50), default=1, show_default=True,
              help="Answer on this ring.")
@click.option("--once", is_flag=True, help="Receive one fax, then exit with its status "
                                           "(default: serve until Ctrl-C).")
@click.option("--station-id", metavar="ID", default="", help="Our station ID (CSI).")
@click.option("--json", "as_json", is_flag=True, help="Print each result as JSON.")
@pass_settings
def receive(settings: Settings, port: str, out_dir: Path, pdf: bool, rings: int, once: bool,
            station_id: str, as_json: bool) -> None:
    """Answer calls on PORT as a fax machine; write each fax to --out."""
    if not out_dir.is_dir():
        raise DocumentError(str(out_dir), "--out must be an existing folder")
    target = settings.target(port)
    code = asyncio.run(_receive(settings, target, out_dir, pdf, rings, once, station_id,
                                as_json))
    click.get_current_context().exit(int(code))


async def _receive(settings: Settings, target: Target, out_dir: Path, pdf: bool, rings: int,
                   once: bool, station_id: str, as_json: bool) -> ExitCode:
    from modemctl import fax
    from modemctl.fax.t30 import Negotiated, PageDone

    progress = Progress(settings)

    def on_progress(event: object) -> None:
        if isinstance(event, Negotiated):
            progress(f"receiving from {event.remote_id or 'an unnamed station'} at "
                     f"{event.params.modulation.rate} bit/s")
        elif isinstance(event, PageDone):
            page = event.result
            progress(f"page {page.index + 1}: {'accepted' if page.accepted else 'rejected'}")

    async with opened(settings, target, None) as line, watching(line, progress):
        while True:
            progress(f"waiting for a fax call on {target.label}")
            result = await fax.receive(line, out_dir, station_id=station_id, rings=rings,
                                       pdf=pdf, progress=on_progress)
            show(result, settings, as_json)
            if once:
                return exit_code(result)
