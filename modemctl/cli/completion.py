"""Shell completion of ``PORT``: configured line names, serial ports, fake lines.

click generates the shell side (``_MODEMCTL_COMPLETE=bash_source modemctl``);
this module supplies the candidates.  Completion must never print an error
into the user's shell, so every source failing just yields fewer candidates.
"""

from __future__ import annotations

import contextlib

import click
from click.shell_completion import CompletionItem
from serial.tools import list_ports

from modemctl.cli.config import load_config


def port_candidates() -> list[CompletionItem]:
    """Everything that may be given as ``PORT``, with a short help text each."""
    items: list[CompletionItem] = []
    with contextlib.suppress(Exception):
        for line in load_config().lines.values():
            items.append(CompletionItem(line.name, help=f"line -> {line.port}"))
    with contextlib.suppress(Exception):
        for info in list_ports.comports():
            items.append(CompletionItem(info.device, help=info.description or "serial port"))
    with contextlib.suppress(Exception):
        from modemctl.fake.registry import list_running_lines

        for fake in list_running_lines():
            items.append(CompletionItem(fake.port, help=f"fake line {fake.number}"))
    return items


def complete_port(ctx: click.Context, param: click.Parameter, incomplete: str
                  ) -> list[CompletionItem]:
    """Complete the first positional argument (``PORT``) only."""
    earlier = ctx.params.get(param.name or "") or ()
    if isinstance(earlier, tuple | list) and len(earlier) >= 1:
        return []
    return [item for item in port_candidates() if str(item.value).startswith(incomplete)]


def complete_location(ctx: click.Context, param: click.Parameter, incomplete: str
                      ) -> list[CompletionItem]:
    """Location codes that have dialing rules (``US``, ``CA``, ...)."""
    try:
        from modemctl.locations import builtin_locations

        locations = builtin_locations()
    except Exception:
        return []
    return [CompletionItem(code, help=loc.name) for code, loc in sorted(locations.items())
            if code.startswith(incomplete.upper())]
