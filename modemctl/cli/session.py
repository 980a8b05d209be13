"""The options of a terminal session, shared by ``dial`` and ``answer``.

They follow the programs users know: ``-e``/``--escape`` as in picocom (cu's
``-E``), ``--echo`` as picocom's, and ``--send``/``--expect`` steps as in a
chat script, run in the order given on the command line.  Piped input is
data: unless ``--escape`` is given, a session whose stdin is not a terminal
has no escape character, so no byte of a file is taken as a command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from modemctl.cli.script import SessionOptions, Step, unescape

F = TypeVar("F", bound=Callable[..., Any])

_STEP_FLAGS = {"--send": "send", "--expect": "expect"}
_ORDER_KEY = "modemctl.script_order"


class ScriptedCommand(click.Command):
    """A command that remembers the order of its ``--send``/``--expect`` options.

    click collects each repeated option into its own tuple; a chat script
    needs the interleaving (expect a prompt, send the answer, expect the
    next), so the raw arguments are scanned for it before click parses them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        order: list[str] = []
        takes_value = {o for p in self.params if isinstance(p, click.Option) and not p.is_flag
                       for o in p.opts}
        pending_value = False
        for arg in args:
            if pending_value:
                pending_value = False
                continue
            if arg == "--":
                break
            flag = arg.split("=", 1)[0]
            if flag in _STEP_FLAGS:
                order.append(_STEP_FLAGS[flag])
            pending_value = flag in takes_value and "=" not in arg
        ctx.meta[_ORDER_KEY] = order
        return super().parse_args(ctx, args)


def _escape_char(_ctx: click.Context, _param: click.Parameter, value: str | None
                 ) -> str | None:
    if value is None or value == "none" or (len(value) == 1 and value.isascii()):
        return value
    raise click.BadParameter("give one ASCII character, or `none` for no escape")


def session_options(func: F) -> F:
    """The session options, added to a command (use with :class:`ScriptedCommand`)."""
    decorators = [
        click.option("-e", "--escape", metavar="CHAR", callback=_escape_char,
                     help="The escape character (~. hangs up), or `none`.  Default: ~ when "
                          "stdin is a terminal; none when it is a pipe or file, whose bytes "
                          "are all data."),
        click.option("--echo", is_flag=True, help="Show what you type (local echo)."),
        click.option("--send", "send", multiple=True, metavar="TEXT",
                     help=r"Once connected, send TEXT (\r, \n, \xNN escapes); repeat, and mix "
                          "with --expect: the steps run in the order given, before stdin "
                          "is read."),
        click.option("--expect", "expect", multiple=True, metavar="TEXT",
                     help="Once connected, wait until the far end has sent TEXT; fails with "
                          "status 22 after --expect-timeout."),
        click.option("--expect-timeout", type=click.FloatRange(0, min_open=True), default=30.0,
                     show_default=True, metavar="S", help="Seconds to wait for each --expect."),
        click.option("--idle", type=click.FloatRange(0, min_open=True), default=None,
                     metavar="S",
                     help="After end of input, keep the call up until the far end has been "
                          "quiet for S seconds (default: hang up at end of input)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def stdin_is_terminal() -> bool:
    """True when the session's input is a terminal (then ``~`` escapes by default)."""
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def build_options(escape: str | None, echo: bool, send: tuple[str, ...],
                  expect: tuple[str, ...], expect_timeout: float, idle: float | None
                  ) -> SessionOptions:
    """The :class:`SessionOptions` from the command's options (call inside the command)."""
    ctx = click.get_current_context()
    order: list[str] = ctx.meta.get(_ORDER_KEY) or ["send"] * len(send) + ["expect"] * len(expect)
    texts = {"send": iter(send), "expect": iter(expect)}
    steps = []
    for kind in order:
        text = next(texts[kind])
        try:
            data = unescape(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{kind}") from None
        if kind == "expect" and not data:
            raise click.BadParameter("cannot wait for an empty text", param_hint="--expect")
        steps.append(Step("send" if kind == "send" else "expect", data))
    if escape is None:
        char: int | None = ord("~") if stdin_is_terminal() else None
    else:
        char = None if escape == "none" else ord(escape)
    return SessionOptions(escape=char, echo=echo, steps=tuple(steps),
                          expect_timeout=expect_timeout, idle=idle)
