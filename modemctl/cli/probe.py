"""``modemctl probe``: identify the modem and show how calls on it can be secured.

This is the command to run after plugging a modem in, and the one error
messages point to: it shows what the modem says it is, which profile was
chosen from that, and for each securing mechanism whether it can be used
when dialling and after connect, and why (or why not).  ``--json`` gives the
same for scripts and bug reports.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

import click

from modemctl.cli import completion
from modemctl.cli.calls import opened
from modemctl.cli.cancelcode import cancel_code_options, with_cancel_codes
from modemctl.cli.context import Settings, baud_option, pass_settings
from modemctl.cli.dial import check_location
from modemctl.cli.target import Target
from modemctl.line.caps import HOW_TO_GIVE, LineCaps
from modemctl.line.report import PROTECTING
from modemctl.line.secure import plan_secure


@click.command("probe")
@click.argument("port", required=False, shell_complete=completion.complete_port)
@click.option("--location", metavar="CODE", shell_complete=completion.complete_location,
              callback=check_location,
              help="Judge securing for this location's dialing rules (default: the line's "
                   "config, else US).")
@cancel_code_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@baud_option
@pass_settings
def command(settings: Settings, port: str | None, location: str | None,
            cancel_code: str | None, cancel_code_pulse: str | None, as_json: bool) -> None:
    """Identify the modem on PORT and list its capabilities.

    Shows the identity answers, the profile chosen from them, V.92 and fax
    support, and for each way of securing a call against call waiting
    whether it works when dialling, after connect, and why.
    """
    target = with_cancel_codes(settings.target(port), cancel_code, cancel_code_pulse)
    found = asyncio.run(_probe(settings, target, location))
    found = {"port": target.url, **({"line": target.name} if target.name else {}), **found}
    if as_json:
        click.echo(json.dumps(found, indent=2))
    else:
        click.echo("\n".join(render(found)))


async def _probe(settings: Settings, target: Target, location: str | None) -> dict[str, Any]:
    async with opened(settings, target, location) as line:
        caps = line.caps or await line.probe()      # open_line has probed already
        return {**caps.describe(), **applies(caps)}


def applies(caps: LineCaps) -> dict[str, list[str]]:
    """Every mechanism ``dial --secure`` and ``~s`` will apply, from the line's own plans.

    The plans are what securing does, so the summary cannot leave out a
    setting that is changed (modem-on-hold off, auto-answer off) because it
    does not protect the call on its own.
    """
    dial, connected = plan_secure(caps, "dial"), plan_secure(caps, "connected")
    return {"dial_secure_applies": [m.name for m in dial.mechanisms if m.usable],
            "connected_secure_applies": [m.name for m in connected.mechanisms if m.usable]}


def _yes(value: object) -> str:
    return "yes" if value else "no"


def _cancel_code(found: Mapping[str, Any]) -> str:
    """Which cancel code a secure dial would use, and whose it is."""
    code: Mapping[str, Any] = found.get("cancel_code") or {}
    if not code.get("tone"):
        return (f"none: securing by cancel code is unavailable; {HOW_TO_GIVE}")
    pulse = code.get("pulse") or "none"
    whose = ("given for this line" if code.get("source") == "user"
             else f"{found.get('location')}'s default")
    return f"{code['tone']} (pulse {pulse}), {whose}"


def render(found: Mapping[str, Any]) -> list[str]:
    """The probe findings (``LineCaps.describe()`` shape) for people."""
    identity: Mapping[str, str] = found.get("identity") or {}
    known = "identified" if found.get("identified") else "NOT recognised: generic Hayes profile"
    fax: Sequence[str] = found.get("fax_classes") or []
    lines = [
        f"port        {found['port']}" + (f" (line {found['line']})" if found.get("line") else ""),
        f"profile     {found.get('profile')} ({known})",
    ]
    lines += [f"  {key:<9} {value}" for key, value in identity.items()]
    lines += [
        f"location    {found.get('location')}"
        + (f" (modem country {found['modem_country']})" if found.get("modem_country") else ""),
        f"cancel code {_cancel_code(found)}",
        f"V.92        {_yes(found.get('v92'))}",
        f"fax         {'classes ' + ', '.join(fax) if fax else 'no'}",
        f"max rate    {found.get('max_rate') or 'unknown'}",
        f"caller ID   {_yes(found.get('caller_id'))}",
        "",
        "Securing calls against call waiting:",
    ]
    mechanisms: Sequence[Mapping[str, Any]] = found.get("mechanisms") or []
    width = max((len(str(m["name"])) for m in mechanisms), default=9)
    lines.append(f"  {'mechanism':<{width}}  at dial  after connect  why")
    lead = 2 + width + 2 + 9 + 15
    wrap_at = max(shutil.get_terminal_size((120, 24)).columns, lead + 30)
    for m in mechanisms:
        why = textwrap.wrap(str(m["reason"]), wrap_at - lead) or [""]
        lines.append(f"  {m['name']:<{width}}  {_yes(m['at_dial']):<7}  "
                     f"{_yes(m['after_connect']):<13}  {why[0]}")
        lines += [" " * lead + more for more in why[1:]]
    at_dial: Sequence[str] = found.get("dial_secure_applies") or []
    later: Sequence[str] = found.get("connected_secure_applies") or []
    lines += [
        "",
        "dial --secure applies: " + (", ".join(at_dial) if any(m in PROTECTING for m in at_dial)
                                     else "nothing (it fails closed; --best-effort dials "
                                          "anyway)"),
        "~s on a connected call applies: " + (", ".join(later)
                                              if any(m in PROTECTING for m in later)
                                              else "nothing"),
    ]
    findings: Sequence[Mapping[str, Any]] = found.get("findings") or []
    if findings:
        lines += ["", "What the modem showed (the probe does not take a bare OK as support):"]
        fwidth = max(len(str(f["feature"])) for f in findings)
        lines += [f"  {f['feature']:<{fwidth}}  {_yes(f['supported']):<3}  {f['evidence']}"
                  for f in findings]
    notes: Sequence[str] = found.get("notes") or []
    if notes:
        lines += ["", "Notes:", *[f"  - {n}" for n in notes]]
    return lines
