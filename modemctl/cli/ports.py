"""``modemctl ports``: which serial ports (and fake lines) this machine has.

The first question after plugging in a USB modem is "which tty is it?".
pyserial's port listing answers it with the USB vendor/product strings that
identify a modem; running fake exchanges (``modemctl fake``) add their lines,
so the same command shows what can be dialled without hardware.  Configured
line names are shown too, so the user sees what ``PORT`` may be.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

import click
from serial.tools import list_ports

from modemctl.cli.config import LineConfig
from modemctl.cli.context import Settings, pass_settings

#: Where a row comes from: a serial port the kernel has, a fake exchange's line,
#: or a line named in the config file.
PortKind = Literal["serial", "fake", "line"]


@dataclass(frozen=True)
class PortRow:
    """One row of the listing, whatever its source."""

    kind: PortKind
    port: str
    description: str


def serial_ports() -> list[PortRow]:
    """Hardware (and kernel) serial ports, as pyserial sees them."""
    rows = []
    for info in sorted(list_ports.comports(), key=lambda p: p.device):
        parts = [info.description or ""]
        if info.vid is not None and info.pid is not None:
            parts.append(f"USB {info.vid:04x}:{info.pid:04x}")
        if info.manufacturer:
            parts.append(info.manufacturer)
        desc = ", ".join(p for p in parts if p and p != "n/a")
        rows.append(PortRow("serial", info.device, desc))
    return rows


def fake_ports() -> list[PortRow]:
    """Lines of fake exchanges running on this machine (from their registry files)."""
    from modemctl.fake.registry import list_running_lines

    rows = []
    for line in list_running_lines():
        desc = f"fake {line.personality}, number {line.number}"
        if line.url:
            desc += f", also {line.url}"
        rows.append(PortRow("fake", line.port, desc))
    return rows


def configured_lines(settings: Settings) -> list[PortRow]:
    """Lines named in the config file."""
    rows = []
    for line in settings.config.lines.values():
        extra = [f"location {line.location}" if line.location else "",
                 f"secure {str(line.secure).lower()}" if line.secure is not None else "",
                 f"cancel code {line.cancel_code}" if line.cancel_code else ""]
        desc = ", ".join(["line name", *[e for e in extra if e]])
        rows.append(PortRow("line", f"{line.name} -> {line.port}", desc))
    return rows


def line_object(line: LineConfig) -> dict[str, object]:
    """A configured line for ``--json``: its settings as fields, not a display string.

    ``secure`` is true, false, "best-effort" or null (not set: dial's default
    applies); ``location``, ``baudrate`` and the cancel codes are null when not set.
    """
    return {"kind": "line", "name": line.name, "port": line.port, "location": line.location,
            "secure": line.secure, "baudrate": line.baudrate, "cancel_code": line.cancel_code,
            "cancel_code_pulse": line.cancel_code_pulse}


@click.command("ports")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@pass_settings
def command(settings: Settings, as_json: bool) -> None:
    """List serial ports, running fake lines and configured line names."""
    rows = serial_ports() + fake_ports() + configured_lines(settings)
    if as_json:
        found: list[dict[str, object]] = [asdict(r) for r in rows if r.kind != "line"]
        found += [line_object(line) for line in settings.config.lines.values()]
        click.echo(json.dumps(found, indent=2))
        return
    if not rows:
        click.echo("no serial ports found (start a fake exchange: `modemctl fake run`)")
        return
    width = max(len(r.port) for r in rows)
    for row in rows:
        click.echo(f"{row.kind:<6} {row.port:<{width}}  {row.description}".rstrip())
