"""``--cancel-code`` and ``--cancel-code-pulse``: the line's carrier's cancel code.

Many locations ship no cancel-call-waiting code, or one that is not the
user's carrier's (a PBX, a New Zealand network using ``*52``); these options
give it for one command, in place of the location's and of the line's config
(``cancel_code``/``cancel_code_pulse``).  Given on the command line the two
replace the config's pair as a pair: a config's pulse code belongs to the
config's tone code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import click

from modemctl.cli.target import Target
from modemctl.errors import InvalidCancelCode
from modemctl.locations.model import check_cancel_code

F = TypeVar("F", bound=Callable[..., object])


def _check(_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A bad code is a usage error before the port is opened."""
    if value is not None:
        try:
            check_cancel_code(value, pulse=param.name == "cancel_code_pulse")
        except InvalidCancelCode as exc:
            raise click.BadParameter(f"{exc.reason} (got {value!r})") from None
    return value


def cancel_code_options(f: F) -> F:
    """Add ``--cancel-code CODE`` and ``--cancel-code-pulse CODE`` to a command."""
    f = click.option("--cancel-code-pulse", metavar="CODE", callback=_check,
                     help="The cancel code for pulse-dialled calls (digits only), with "
                          "--cancel-code.")(f)
    return click.option("--cancel-code", metavar="CODE", callback=_check,
                        help="Your carrier's cancel-call-waiting code, e.g. *52, dialled "
                             "before the number to secure a call (default: the line's "
                             "config, else the location's).")(f)


def with_cancel_codes(target: Target, tone: str | None, pulse: str | None) -> Target:
    """``target`` with the command line's codes, when it gave any, in place of the config's."""
    if tone is None and pulse is None:
        return target
    if tone is None:
        raise click.UsageError("--cancel-code-pulse needs --cancel-code (the tone code) too")
    return dataclasses.replace(target, cancel_code=tone, cancel_code_pulse=pulse)
