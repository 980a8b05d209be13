"""``modemctl fake``: run a fake modem exchange, and drive a running one.

``modemctl fake run`` serves each line on a pty (and optionally RFC 2217),
prints where they are, publishes them in the registry (so ``modemctl ports``
and the other subcommands find them) and opens a control socket.  The other
subcommands (``ring``, ``inject``, ``hangup``, ``carrier-loss``, ``dead``,
``list``) talk to that socket from another terminal or a test process; they
find the right exchange by line number, or take ``--control PATH``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import structlog
from click.shell_completion import CompletionItem

from modemctl.fake import registry
from modemctl.fake.control import (
    ControlError,
    ControlRequestError,
    ControlUnavailable,
    request,
    serve_control,
)
from modemctl.log import get_logger

if TYPE_CHECKING:
    from modemctl.fake import FakeLine

DEFAULT_LINES = ("5551001:conexant-v92", "5551002:agere-v92")
_log = get_logger()
_NUMBER = re.compile(r"[0-9*#+]{1,32}")  # what the exchange accepts as a line number


@dataclass(frozen=True)
class LineSpec:
    """One ``--line NUMBER:PERSONALITY[:rfc2217][:cancel=CODES]`` option.

    ``cancel_codes`` are what the line's carrier takes as a per-call cancel
    code (``cancel=T*52,P1152``); ``None`` leaves the exchange's (NANP's).
    """

    number: str
    personality: str
    rfc2217: bool
    cancel_codes: tuple[tuple[str, str], ...] | None = None


_SPEC = "NUMBER:PERSONALITY[:rfc2217][:cancel=CODES]"
_CARRIER_CODE = re.compile(r"([TP])([0-9*#]{2,8})")


def parse_line_spec(text: str) -> LineSpec:
    """Parse ``NUMBER:PERSONALITY[:rfc2217][:cancel=CODES]``; raises ``click.BadParameter``.

    ``CODES`` are comma-separated, each ``T`` (tone) or ``P`` (pulse) and the
    digits: ``cancel=T*52,P1152`` for a carrier that cancels with ``*52``.
    """
    parts = text.split(":")
    if len(parts) not in (2, 3, 4) or not parts[1]:
        raise click.BadParameter(f"{text!r}: expected {_SPEC}, e.g. 5551001:conexant-v92")
    number, personality = parts[0], parts[1]
    if not _NUMBER.fullmatch(number):
        raise click.BadParameter(f"{text!r}: the number must be 1-32 of 0-9 * # +")
    rfc2217, codes = False, None
    for option in parts[2:]:
        if option == "rfc2217" and not rfc2217:
            rfc2217 = True
        elif option.startswith("cancel=") and codes is None:
            codes = tuple(_carrier_code(text, c) for c in option[len("cancel="):].split(","))
        else:
            raise click.BadParameter(f"{text!r}: the line options are 'rfc2217' and "
                                     f"'cancel=CODES', each once, not {option!r}")
    return LineSpec(number, personality, rfc2217, codes)


def _carrier_code(text: str, code: str) -> tuple[str, str]:
    m = _CARRIER_CODE.fullmatch(code)
    if m is None:
        raise click.BadParameter(f"{text!r}: a cancel code is T or P and 2-8 of 0-9 * #, "
                                 f"e.g. T*52 or P1152, not {code!r}")
    return m.group(1), m.group(2)


def _line_specs(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
                ) -> list[LineSpec]:
    specs = [parse_line_spec(v) for v in values]
    numbers = [s.number for s in specs]
    for n in numbers:
        if numbers.count(n) > 1:
            raise click.BadParameter(f"line {n} is given twice")
    return specs


def parse_param(text: str) -> tuple[str, Any]:
    """``k=v`` for ``inject --param``: ``v`` is read as JSON if it parses (numbers,
    true/false, null, quoted strings), else kept as a plain string."""
    key, sep, raw = text.partition("=")
    if not sep or not key.isidentifier():
        raise click.BadParameter(f"{text!r}: expected NAME=VALUE, e.g. count=8")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


@click.group("fake", invoke_without_command=True)
@click.pass_context
def fake(ctx: click.Context) -> None:
    """Fake modems on a simulated telephone exchange (no hardware needed).

    Start one with `modemctl fake run`, then open the printed device paths
    with any serial program; from another terminal, ring a line or inject
    faults with `modemctl fake ring/inject/...`.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


# ------------------------------------------------------------------------------ run


def _live_epilog(source: Callable[[], str]) -> type[click.Command]:
    """A command class whose help ends with ``source()``, computed when help is shown,
    so lists of installed things (personalities, fault kinds) never go stale."""

    class LiveEpilog(click.Command):
        def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
            formatter.write_paragraph()
            formatter.write_text(source())

    return LiveEpilog


def _personalities() -> str:
    from modemctl.fake import available_personalities

    return ("Personalities: " + ", ".join(available_personalities())
            + "; or the path of your own personality .toml file (copy a bundled one).")


class _FaultHelp(click.Command):
    """``inject --help`` ends with every fault kind and its parameters, from the
    fault table itself, so the help cannot drift from what the fake accepts."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from modemctl.fake.faults import fault_help

        formatter.write_paragraph()
        with formatter.section("Fault kinds (NAME=VALUE parameters in brackets)"):
            formatter.write_dl(fault_help())


@fake.command("run", cls=_live_epilog(_personalities))
@click.option("--line", "lines", multiple=True, callback=_line_specs,
              metavar=_SPEC,
              help="A line to serve, e.g. 5551001:conexant-v92 or 5551002:agere-v92:rfc2217 "
                   "(repeatable; default: " + " and ".join(DEFAULT_LINES) + "); "
                   "cancel=T*52,P1152 makes the line's carrier cancel call waiting with "
                   "*52 (1152 by pulse) instead of *70 (1170).")
@click.option("--time-scale", type=click.FloatRange(min=0, min_open=True, max=1000),
              default=1.0, show_default=True,
              help="Real seconds per protocol second (0.05 runs timers 20x faster).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the lines as one JSON document (for scripts) instead of a table.")
@click.option("--throttle/--no-throttle", default=False, show_default=True,
              help="Pace call data at the connect rate, as a real line would.")
@click.option("--device-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Put the device links (ttyNUMBER) here, so their paths are stable "
                   "(default: a new temporary directory).")
@click.option("--control", "control_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Control socket path (default: in the user runtime directory).")
def run_cmd(lines: list[LineSpec], time_scale: float, as_json: bool, throttle: bool,
            device_dir: Path | None, control_path: Path | None) -> None:
    """Start an exchange with the given lines and serve them until Ctrl-C/SIGTERM.

    \b
    Examples:
      modemctl fake run
      modemctl fake run --line 5551001:conexant-v92 --line 5551002:usr-v90:rfc2217
      modemctl fake run --time-scale 0.05 --json --device-dir /tmp/fake
    """
    specs = lines or [parse_line_spec(s) for s in DEFAULT_LINES]
    if not structlog.is_configured():
        from modemctl.log import configure  # run standalone (python -m): quiet logs on stderr
        configure()
    try:
        asyncio.run(_serve(specs, time_scale, as_json, throttle, device_dir, control_path))
    except (ControlError, registry.RegistryError) as e:
        raise click.ClickException(str(e)) from None


async def _serve(specs: Sequence[LineSpec], time_scale: float, as_json: bool, throttle: bool,
                 device_dir: Path | None, control_path: Path | None) -> None:
    # Imported here: only `run` needs the exchange, the other subcommands are clients.
    from modemctl.fake import Exchange, ExchangeError

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    # Absolute: other processes find the socket through the registry, from any directory.
    path = (control_path
            or registry.default_socket_path(registry.ensure_directory())).absolute()
    async with Exchange(time_scale=time_scale, throttle=throttle, directory=device_dir) as ex:
        served = []
        for spec in specs:
            try:
                carrier = {} if spec.cancel_codes is None else {
                    "cancel_codes": spec.cancel_codes}
                served.append(await ex.add_line(spec.number, personality=spec.personality,
                                                rfc2217=spec.rfc2217, **carrier))
            except (ExchangeError, ValueError) as e:
                raise click.ClickException(f"line {spec.number}: {_message(e)}") from None
        def publish() -> registry.Registration:
            # only plugged-in lines: an unplugged device is gone from `modemctl ports` at once
            plugged = ex.plugged_lines()
            return registry.register([(ln.number, ln.personality, ln.port, ln.url)
                                      for ln in plugged],
                                     control=str(path), time_scale=time_scale,
                                     unplugged=[n for n in ex.lines
                                                if ex.lines[n] not in plugged])

        def republish() -> None:
            try:
                publish()
            except registry.RegistryError as e:
                _log.warning("registry not updated", error=str(e))

        async with await serve_control(ex, path):
            with publish():
                stop_listening = ex.on_plugging_changed(republish)
                _print_started(served, path, time_scale, as_json)
                await stop.wait()
                stop_listening()
    if not as_json:
        click.echo("exchange stopped", err=True)


def _print_started(lines: Sequence[FakeLine], control: Path, time_scale: float,
                   as_json: bool) -> None:
    if as_json:
        doc = {"pid": os.getpid(), "control": str(control), "time_scale": time_scale,
               "lines": [{"number": ln.number, "personality": ln.personality,
                          "port": ln.port, "url": ln.url} for ln in lines]}
        sys.stdout.write(json.dumps(doc) + "\n")
        sys.stdout.flush()
        return
    _table(["NUMBER", "PERSONALITY", "DEVICE", "URL"],
           [[ln.number, ln.personality, ln.port, ln.url or "-"] for ln in lines])
    click.echo(f"\ncontrol socket: {control}  (time scale {time_scale:g})")
    click.echo("Ring a line from another terminal: modemctl fake ring NUMBER --caller 5559999")
    click.echo("Press Ctrl-C to stop.")
    sys.stdout.flush()


# --------------------------------------------------------------------- client commands

def complete_number(ctx: click.Context, param: click.Parameter, incomplete: str
                    ) -> list[CompletionItem]:
    """Shell completion: numbers of the running fake lines."""
    return [CompletionItem(line.number, help=f"{line.personality}, {line.port}")
            for line in registry.list_running_lines() if line.number.startswith(incomplete)]


def complete_fault(ctx: click.Context, param: click.Parameter, incomplete: str
                   ) -> list[CompletionItem]:
    """Shell completion: the fault kinds the fake knows."""
    from modemctl.fake import FAULT_KINDS

    return [CompletionItem(kind) for kind in FAULT_KINDS if kind.startswith(incomplete)]


_control_option = click.option(
    "--control", "control_path", type=click.Path(dir_okay=False, path_type=Path),
    help="Control socket of the exchange (default: looked up in the registry).")


def _find_control(number: str | None, control_path: Path | None,
                  choose: str = "--control PATH") -> Path:
    """The control socket to use: the given one, or the exchange serving ``number``;
    ``choose`` names the options that pick one when several exchanges run."""
    if control_path is not None:
        return control_path
    entries = [e for e in registry.list_exchanges() if e.control]
    if not entries:
        raise click.ClickException("no fake exchange is running; start one with "
                                   "`modemctl fake run` (or pass --control PATH)")
    if number is None:
        if len(entries) > 1:
            pids = ", ".join(str(e.pid) for e in entries)
            raise click.ClickException(f"{len(entries)} fake exchanges are running "
                                       f"(PIDs {pids}); pass {choose}")
        return Path(str(entries[0].control))
    serving = [e for e in entries if e.serves(number)]
    if len(serving) == 1:
        return Path(str(serving[0].control))
    if serving:
        pids = ", ".join(str(e.pid) for e in serving)
        raise click.ClickException(f"line {number} is on {len(serving)} running exchanges "
                                   f"(PIDs {pids}); pass --control PATH")
    known = ", ".join(line.number for e in entries for line in e.lines)
    raise click.ClickException(f"no running fake exchange has line {number} "
                               f"(running lines: {known})")


def _call(path: Path, op: str, fields: dict[str, Any], timeout: float = 10.0
          ) -> dict[str, Any]:
    try:
        return request(path, op, fields, timeout=timeout)
    except ControlUnavailable as e:
        raise click.ClickException(f"{e}; is `modemctl fake run` still running?") from None
    except ControlRequestError as e:
        raise click.ClickException(str(e)) from None
    except ControlError as e:
        raise click.ClickException(str(e)) from None


@fake.command("ring")
@click.argument("number", shell_complete=complete_number)
@click.option("--caller", help="Caller's number, sent as caller ID when the line asks for it.")
@click.option("--name", help="Caller's name for caller ID.")
@click.option("--wait", type=click.FloatRange(0, 600), default=0.0,
              help="Wait up to this many seconds for the call to be answered (or settle).")
@click.option("--max-rate", type=click.IntRange(300, 56000),
              help="The caller's modem's top rate in bit/s (default 33600).")
@click.option("--moh-timeout", type=click.IntRange(0, 13),
              help="Make the caller a V.92 modem granting modem-on-hold (+PMHT value).")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@_control_option
def ring_cmd(number: str, caller: str | None, name: str | None, wait: float,
             max_rate: int | None, moh_timeout: int | None, as_json: bool,
             control_path: Path | None) -> None:
    """Ring line NUMBER as a third party (call waiting if the line is in a call)."""
    path = _find_control(number, control_path)
    fields: dict[str, Any] = {"number": number, "caller": caller, "name": name,
                              "max_rate": max_rate, "moh_timeout": moh_timeout}
    if wait:
        fields["wait"] = wait
    r = _call(path, "ring", fields, timeout=wait + 10.0)
    if as_json:
        click.echo(json.dumps(r))
        return
    who = " ".join(x for x in (caller, f"({name})" if name else None) if x) or "an unknown caller"
    if r.get("outcome"):
        outcome = f": {r['outcome']}"
    else:
        outcome = f": no answer within {wait:g} s, still ringing" if wait else ""
    click.echo(f"ringing {number} from {who}, party {r['party']}{outcome}")


@fake.command("inject", cls=_FaultHelp)
@click.argument("number", shell_complete=complete_number)
@click.argument("kind", shell_complete=complete_fault)
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Fault parameter (repeatable); VALUE is read as JSON when it parses.")
@_control_option
def inject_cmd(number: str, kind: str, params: tuple[str, ...],
               control_path: Path | None) -> None:
    """Inject fault KIND into line NUMBER.

    \b
    Examples:
      modemctl fake inject 5551001 garbage --param count=16
      modemctl fake inject 5551001 stall --param duration=5
      modemctl fake inject 5551001 unsolicited --param 'lines=["RING"]'
      modemctl fake inject 5551001 stored-profile --param v=0 --param s0=2
    """
    try:
        parsed = dict(parse_param(p) for p in params)
    except click.BadParameter as e:
        raise click.BadParameter(e.message, param_hint="--param") from None
    _call(_find_control(number, control_path), "inject",
          {"number": number, "kind": kind, "params": parsed})
    click.echo(f"injected {kind} into {number}")


@fake.command("hangup")
@click.argument("number", shell_complete=complete_number)
@_control_option
def hangup_cmd(number: str, control_path: Path | None) -> None:
    """Make the far end of line NUMBER's call hang up (the modem says NO CARRIER)."""
    _call(_find_control(number, control_path), "hangup", {"number": number})
    click.echo(f"far end of {number} hung up")


@fake.command("carrier-loss")
@click.argument("number", shell_complete=complete_number)
@click.option("--duration", type=click.FloatRange(0, 600),
              help="How long the carrier is lost, in protocol seconds.")
@_control_option
def carrier_loss_cmd(number: str, duration: float | None, control_path: Path | None) -> None:
    """Interrupt the carrier of line NUMBER's call."""
    fields: dict[str, Any] = {"number": number}
    if duration is not None:
        fields["duration"] = duration
    _call(_find_control(number, control_path), "carrier-loss", fields,
          timeout=(duration or 0) + 10.0)
    click.echo(f"carrier lost on {number}")


@fake.command("dead")
@click.argument("number", shell_complete=complete_number)
@click.argument("state", type=click.Choice(["on", "off"]), default="on")
@_control_option
def dead_cmd(number: str, state: str, control_path: Path | None) -> None:
    """Make line NUMBER dead (NO DIALTONE) or, with `off`, working again."""
    _call(_find_control(number, control_path), "dead", {"number": number, "dead": state == "on"})
    click.echo(f"line {number} is {'dead' if state == 'on' else 'working'}")


_BY_LINE = "--line NUMBER (the line the party rang) or --control PATH"
_party_line_option = click.option(
    "--line", "number", metavar="NUMBER", shell_complete=complete_number,
    help="The line PARTY rang: its exchange is found as `ring` finds it (needed when "
         "more than one fake exchange runs).")


@fake.command("send")
@click.argument("party")
@click.argument("text")
@_party_line_option
@_control_option
def send_cmd(party: str, text: str, number: str | None, control_path: Path | None) -> None:
    """Send TEXT to the line as the caller PARTY (from `ring`), once it answered.

    TEXT goes out exactly as given; in bash, $'hello\\r\\n' adds a line end.
    """
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise click.BadParameter("only latin-1 characters (one byte each) can be sent",
                                 param_hint="TEXT") from None
    r = _call(_find_control(number, control_path, _BY_LINE), "send", {"party": party, "data": text})
    click.echo(f"sent {r['sent']} bytes as {party}")


@fake.command("recv")
@click.argument("party")
@click.option("--timeout", "wait", type=click.FloatRange(0, 600), default=1.0,
              show_default=True, help="Seconds to wait for data.")
@_party_line_option
@_control_option
def recv_cmd(party: str, wait: float, number: str | None, control_path: Path | None) -> None:
    """Print what the line sent to the caller PARTY (from `ring`); exit 3 when the
    call is over."""
    r = _call(_find_control(number, control_path, _BY_LINE), "recv",
              {"party": party, "timeout": wait, "max": 65536}, timeout=wait + 10.0)
    sys.stdout.buffer.write(str(r["data"]).encode("latin-1"))
    sys.stdout.flush()
    if r.get("closed"):
        raise click.exceptions.Exit(3)


@fake.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the lines as JSON.")
@_control_option
def list_cmd(as_json: bool, control_path: Path | None) -> None:
    """List the lines of running fake exchanges, with their call state."""
    if control_path is not None:
        sockets = [control_path]
    else:
        sockets = [Path(e.control) for e in registry.list_exchanges() if e.control]
    rows: list[dict[str, Any]] = []
    for path in sockets:
        if control_path is None:
            # One stuck exchange must not hide the others: report it and go on.
            try:
                r = request(path, "lines", timeout=5.0)
            except ControlError as e:
                click.echo(f"warning: {e}", err=True)
                continue
        else:
            r = _call(path, "lines", {})
        rows.extend({**line, "pid": r.get("pid"), "control": str(path)} for line in r["lines"])
    if as_json:
        click.echo(json.dumps(rows))
        return
    if not rows:
        click.echo("no fake exchange is running (start one with `modemctl fake run`)")
        return
    _table(["NUMBER", "PERSONALITY", "STATE", "DEVICE", "URL", "PID"],
           [[r["number"], r["personality"], r["state"] + (" (dead)" if r.get("dead") else ""),
             r["port"], r["url"] or "-", str(r["pid"])] for r in rows])


# --------------------------------------------------------------------------- helpers


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    for row in (header, *rows):
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _message(e: BaseException) -> str:
    return str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)


if __name__ == "__main__":
    fake(prog_name="modemctl fake")
