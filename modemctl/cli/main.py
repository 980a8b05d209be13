"""The ``modemctl`` command group: global options, and errors handled in one place.

Every command raises typed errors (:mod:`modemctl.errors`) and lets them
fly; :class:`ModemctlGroup` catches them here, prints the short message from
:mod:`modemctl.cli.failures` and exits with the status from
:mod:`modemctl.cli.exitcodes`.  A traceback is printed only with ``-v``,
because a user who did not ask for one needs the next step, not the stack.

Shell completion is click's: ``eval "$(_MODEMCTL_COMPLETE=bash_source modemctl)"``
(``zsh_source``, ``fish_source`` for the other shells).
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import Any

import click

from modemctl import __version__
from modemctl.cli.context import Settings, configure_logging
from modemctl.cli.exitcodes import ExitCode, for_error
from modemctl.cli.failures import describe
from modemctl.cli.terminal import json_line
from modemctl.errors import ATError, ModemctlError


def _leaf(exc: BaseException) -> BaseException:
    """The one real error inside (nested) exception groups from task groups, if single."""
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]
    return exc


def report_error(lines: list[str], status: int, settings: Settings | None) -> None:
    """Print an error's lines; with ``--log-format json``, as one JSON object instead."""
    if settings is None or settings.log_format != "json":
        for line in lines:
            click.echo(line, err=True)
        return
    message = lines[0].removeprefix("error: ") if lines else ""
    hints = [ln.removeprefix("hint: ") for ln in lines[1:] if ln.startswith("hint: ")]
    details = [ln.strip() for ln in lines[1:] if not ln.startswith("hint: ")]
    fields: dict[str, object] = {"message": message, "exit_status": status}
    if details:
        fields["details"] = details
    if hints:
        fields["hint"] = " ".join(hints)
    click.echo(json_line("error", "error", **fields), err=True)


#: Subcommands, imported only when used: shell completion runs the program on
#: every TAB, and ``modemctl ports`` should not pay for importing the driver.
COMMANDS: dict[str, str] = {
    "ports": "modemctl.cli.ports",
    "probe": "modemctl.cli.probe",
    "dial": "modemctl.cli.dial",
    "answer": "modemctl.cli.answer",
    "at": "modemctl.cli.at",
    "demo": "modemctl.cli.demo",
    "fake": "modemctl.cli.fake",
    "fax": "modemctl.cli.fax",
    "identity": "modemctl.cli.identity",
    "hil": "modemctl.cli.hil",
}


class ModemctlGroup(click.Group):
    """A click group that reports modemctl's errors briefly and maps them to exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return super().get_command(ctx, cmd_name)
        loaded = importlib.import_module(module)
        found = getattr(loaded, "command", None) or getattr(loaded, cmd_name)
        if not isinstance(found, click.Command):
            raise TypeError(f"{module} does not define a click command")
        return found

    def main(self, args: Any = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Run the command line; usage errors in the same ``error:``/``hint:`` style.

        click would print its own ``Error:`` block; every other failure says
        ``error: ...`` then ``hint: ...``, so usage errors do too.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            lines = [f"error: {exc.format_message()}"]
            settings = exc.ctx.find_object(Settings) if exc.ctx is not None else None
            if exc.ctx is not None:
                usage = exc.ctx.get_usage().removeprefix("Usage: ")
                lines.append(f"hint: usage: {usage}; `{exc.ctx.command_path} --help` for more")
            report_error(lines, exc.exit_code, settings)
            sys.exit(exc.exit_code)
        except click.exceptions.ClickException as exc:
            report_error([f"error: {exc.format_message()}"], exc.exit_code, None)
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            report_error(["error: interrupted"], int(ExitCode.INTERRUPTED), None)
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except (ModemctlError, OSError, KeyboardInterrupt, BaseExceptionGroup) as raised:
            exc = _leaf(raised)
            if isinstance(exc, click.exceptions.ClickException | click.exceptions.Exit):
                raise exc from None
            if not isinstance(exc, ModemctlError | OSError | KeyboardInterrupt):
                raise
            settings = ctx.find_object(Settings)
            if settings is not None and settings.verbosity > 0:
                click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
            lines = describe(exc)
            if settings is not None and settings.scale_mismatch and isinstance(exc, ATError):
                # The modem is fake and fine: the clocks disagree.
                lines = [ln for ln in lines if not ln.startswith("hint:")]
                lines.append(f"hint: {settings.scale_mismatch}")
            report_error(lines, int(for_error(exc)), settings)
            raise click.exceptions.Exit(int(for_error(exc))) from None
        except Exception as exc:
            # Not an error modemctl raises on purpose: a bug.  Say so, briefly.
            settings = ctx.find_object(Settings)
            if settings is not None and settings.verbosity > 0:
                raise
            report_error([f"error: modemctl failed unexpectedly ({type(exc).__name__})",
                          "hint: this is a bug in modemctl; rerun with -v for the traceback "
                          "and report it"], int(ExitCode.ERROR), settings)
            raise click.exceptions.Exit(int(ExitCode.ERROR)) from None


@click.group(cls=ModemctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True,
              help="More log output (repeat for debug); tracebacks on errors.")
@click.option("-q", "--quiet", count=True,
              help="Less output: no progress lines (repeat: errors only in the log).")
@click.option("--log-format", type=click.Choice(["console", "json"]), default="console",
              show_default=True, help="Log lines for people, or JSON for machines.")
@click.option("--trace", is_flag=True,
              help="Log every byte exchanged with the modem (hex and text, secrets redacted).")
@click.option("--time-scale", type=click.FloatRange(0, 10, min_open=True), default=1.0,
              envvar="MODEMCTL_TIME_SCALE", show_default=True, metavar="S",
              help="Real seconds per protocol second (a fake line's exchange's own scale "
                   "is used when this is not given).")
@click.version_option(__version__, "-V", "--version", prog_name="modemctl")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: int, log_format: str, trace: bool,
         time_scale: float) -> None:
    """Dial, answer and secure calls on analog modems; probe them; talk AT.

    PORT is a device (/dev/ttyUSB0), a pyserial URL (rfc2217://host:port),
    or a line named in the config file (MODEMCTL_CONFIG, default: the user
    config folder's modemctl/config.toml).  MODEMCTL_LINE names the default.

    New here? Run `modemctl demo`: no hardware needed.

    \b
    Shell completion (zsh_source and fish_source likewise):
      eval "$(_MODEMCTL_COMPLETE=bash_source modemctl)"
    """
    given = ctx.get_parameter_source("time_scale") in (click.core.ParameterSource.COMMANDLINE,
                                                       click.core.ParameterSource.ENVIRONMENT)
    settings = Settings(verbosity=verbose - quiet, trace=trace,
                        log_format="json" if log_format == "json" else "console",
                        time_scale=time_scale, time_scale_given=given)
    ctx.obj = settings
    configure_logging(settings)
