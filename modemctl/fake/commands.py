"""The V.250 command-line executor: one command line in, info text and a result out.

A command line is split into commands by V.250 syntax (basic ``E1``,
``&C1``, ``S7=60``, ``S0?``, extended ``+GCI=B5;``, and the line-ending
``D``, ``A``, ``O``) and each command is looked up in a table of handlers:
:data:`BASIC` for basic commands, :data:`EXTENDED` for extended ones (one
handler per form: action, ``=?`` test, ``?`` read, ``=`` set) and
:data:`LINE_ENDING` for the commands whose result comes later from the call
state machine.  Adding a command is adding a table entry; nothing here does
I/O or keeps time: handlers act on the :class:`~modemctl.fake.dce.Dce`.
Execution stops at the first failing command and only the last result is
reported, as V.250 §5.2 says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from modemctl.fake.callstate import DceState
from modemctl.fake.dialstring import DialStringError, parse_dial_string
from modemctl.fake.personality import V92_PARAMS, Personality
from modemctl.fake.settings import settings_rows

if TYPE_CHECKING:
    from modemctl.fake.dce import Dce


class CommandError(Exception):
    """The current command failed: stop executing the line, report ERROR."""


Op = Literal["action", "test", "read", "set"]
"""The four forms of an extended command: ``+X``, ``+X=?``, ``+X?``, ``+X=v``."""

BasicHandler = Callable[["Dce", int, list[bytes]], None]
"""Runs a basic command with its numeric parameter, appending any info text."""
ExtendedHandler = Callable[["Dce", str], "str | None"]
"""Runs one form of an extended command with its value; returns an info line or None."""
LineEndingHandler = Callable[["Dce", str], None]
"""Runs a command that takes the rest of the line and whose result comes later."""


# ---------------------------------------------------------------------- basic commands
def _echo(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.echo = num


def _quiet(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.quiet = num


def _verbose(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.verbose = num


def _x_level(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.x = num


def _amp_c(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.amp_c = num
    dce.output.lines_changed()


def _amp_d(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.settings.amp_d = num


def _identify(dce: Dce, num: int, infos: list[bytes]) -> None:
    info = dce.personality.identity.get(f"I{num}")
    if info is None:
        raise CommandError
    infos.append(dce.format_info(info.replace("{country}", dce.country).split("\n")))


def _hook(dce: Dce, num: int, infos: list[bytes]) -> None:
    if num == 0:
        dce.hang_up()
    elif dce.call_up:
        raise CommandError
    else:
        dce.off_hook = True


def _reset(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.hang_up()
    dce.restore(dce.stored)


def _factory(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.restore(dce.factory())


def _write(dce: Dce, num: int, infos: list[bytes]) -> None:
    dce.stored = dce.settings.copy()


def _view(dce: Dce, num: int, infos: list[bytes]) -> None:
    infos.append(dce.format_info(["ACTIVE PROFILE:", *settings_rows(dce.settings), "",
                                  "STORED PROFILE 0:", *settings_rows(dce.stored)]))


def _x_max(pers: Personality) -> int:
    return pers.x_max


@dataclass(frozen=True)
class BasicCommand:
    """A basic command: its handler and the highest parameter it takes."""

    handler: BasicHandler
    max_param: int | Callable[[Personality], int] | None   # None: any value

    def allows(self, pers: Personality, num: int) -> bool:
        limit = self.max_param(pers) if callable(self.max_param) else self.max_param
        return limit is None or num <= limit


BASIC: dict[str, BasicCommand] = {
    "E": BasicCommand(_echo, 1),
    "Q": BasicCommand(_quiet, 1),
    "V": BasicCommand(_verbose, 1),
    "X": BasicCommand(_x_level, _x_max),
    "&C": BasicCommand(_amp_c, 1),
    "&D": BasicCommand(_amp_d, 3),
    "I": BasicCommand(_identify, None),
    "H": BasicCommand(_hook, 1),
    "Z": BasicCommand(_reset, 1),
    "&F": BasicCommand(_factory, 0),
    "&W": BasicCommand(_write, 1),
    "&V": BasicCommand(_view, 1),
}
"""Basic commands every personality has; a personality's ``accepted`` commands (stored,
otherwise without effect) come after these."""


def _run_basic(dce: Dce, name: str, num: int, infos: list[bytes]) -> None:
    command = BASIC.get(name)
    pers = dce.personality
    if command is not None and command.allows(pers, num):
        command.handler(dce, num, infos)
    elif name in pers.accepted and pers.accepted[name][0] <= num <= pers.accepted[name][1]:
        dce.settings.accepted[name] = num
    else:
        raise CommandError


# ---------------------------------------------------------------------- extended commands
def _identity(name: str) -> ExtendedHandler:
    def action(dce: Dce, _value: str) -> str:
        return dce.personality.identity[name]
    return action


def _ok(_dce: Dce, _value: str) -> None:
    return None


def _fclass_test(dce: Dce, _value: str) -> str:
    return ",".join(dce.personality.fax_classes)


def _fclass_read(dce: Dce, _value: str) -> str:
    return dce.fclass


def _fclass_set(dce: Dce, value: str) -> None:
    if value not in dce.personality.fax_classes:
        raise CommandError
    dce.fclass = value


def _vcid_test(_dce: Dce, _value: str) -> str:
    return "(0-2)"


def _vcid_read(dce: Dce, _value: str) -> str:
    return str(dce.vcid)


def _vcid_set(dce: Dce, value: str) -> None:
    if value not in ("0", "1", "2"):
        raise CommandError
    dce.vcid = int(value)


def _gci_test(dce: Dce, _value: str) -> str:
    return f"+GCI: ({','.join(dce.personality.countries)})"


def _gci_read(dce: Dce, _value: str) -> str:
    return f"+GCI: {dce.country}"


def _gci_set(dce: Dce, value: str) -> None:
    if value.upper() not in dce.personality.countries:
        raise CommandError
    dce.country = value.upper()


def _v92_param(name: str) -> dict[Op, ExtendedHandler]:
    lo, hi = V92_PARAMS[name]

    def test(_dce: Dce, _value: str) -> str:
        if hi <= 2:
            return f"+{name}: ({','.join(str(v) for v in range(lo, hi + 1))})"
        return f"+{name}: ({lo}-{hi})"

    def read(dce: Dce, _value: str) -> str:
        return f"+{name}: {dce.settings.v92[name]}"

    def set_(dce: Dce, value: str) -> None:
        if not (value.isdigit() and lo <= int(value) <= hi):
            raise CommandError
        dce.settings.v92[name] = int(value)

    return {"test": test, "read": read, "set": set_}


def _pmhr(dce: Dce, _value: str) -> str:
    if dce.settings.v92["PMH"] != 0 or not dce.call_up:
        raise CommandError
    return f"+PMHR: {dce.telco.far_moh_timeout()}"


def _always(_pers: Personality) -> bool:
    return True


def _has_caller_id(pers: Personality) -> bool:
    return pers.caller_id


def _has_countries(pers: Personality) -> bool:
    return bool(pers.countries)


def _is_v92(pers: Personality) -> bool:
    return pers.v92


@dataclass(frozen=True)
class ExtendedCommand:
    """An extended command: a handler per form it supports, on the modems that have it."""

    forms: dict[Op, ExtendedHandler]
    available: Callable[[Personality], bool] = field(default=_always)


EXTENDED: dict[str, ExtendedCommand] = {
    **{name: ExtendedCommand({"action": _identity(name.lower()), "test": _ok})
       for name in ("GMI", "GMM", "GMR")},
    "FCLASS": ExtendedCommand({"test": _fclass_test, "read": _fclass_read, "set": _fclass_set}),
    "VCID": ExtendedCommand({"test": _vcid_test, "read": _vcid_read, "set": _vcid_set},
                            _has_caller_id),
    "GCI": ExtendedCommand({"test": _gci_test, "read": _gci_read, "set": _gci_set},
                           _has_countries),
    **{name: ExtendedCommand(_v92_param(name), _is_v92) for name in V92_PARAMS},
    "PMHR": ExtendedCommand({"action": _pmhr}, _is_v92),
}
"""Extended commands by name (without ``+``); a missing form or modem answers ERROR."""


def _run_extended(dce: Dce, name: str, op: Op, value: str) -> str | None:
    command = EXTENDED.get(name)
    if command is None or not command.available(dce.personality):
        raise CommandError
    handler = command.forms.get(op)
    if handler is None:
        raise CommandError
    return handler(dce, value)


# ---------------------------------------------------------------------- line-ending commands
def _dial(dce: Dce, rest: str) -> None:
    if dce.state is DceState.ONLINE_COMMAND or dce.call_up:
        raise CommandError
    regs = dce.settings.regs
    try:
        plan = parse_dial_string(rest, pulse=dce.pulse_default, comma_pause=regs[8],
                                 dtmf_ms=regs[11], pending=dce.pending_dial)
    except DialStringError:
        raise CommandError from None
    dce.dial(plan, rest)


def _answer(dce: Dce, rest: str) -> None:
    if dce.state is DceState.ONLINE_COMMAND or dce.call_up:
        raise CommandError
    dce.answer()


def _online(dce: Dce, rest: str) -> None:
    num, _ = _number(rest, 0)
    if num > 1 or dce.state is not DceState.ONLINE_COMMAND or not dce.call_up:
        raise CommandError
    dce.return_online()


LINE_ENDING: dict[str, LineEndingHandler] = {"D": _dial, "A": _answer, "O": _online}
"""Commands that end the line: the rest is theirs and their result comes later."""


# ---------------------------------------------------------------------- the line
def execute_line(dce: Dce, body: bytes) -> tuple[list[bytes], bool, bool]:
    """Run one command line (without ``AT`` and the terminator).

    Returns (info texts, succeeded?, result deferred?): a deferred result is
    written later by the call state machine (CONNECT, NO CARRIER, OK after
    ``D...;``).
    """
    text = body.decode("ascii", "replace")
    infos: list[bytes] = []
    pos = 0
    try:
        while pos < len(text):
            pos, deferred = _one_command(dce, text, pos, infos)
            if deferred:
                return infos, True, True
    except CommandError:
        return infos, False, False
    return infos, True, False


def _one_command(dce: Dce, text: str, pos: int, infos: list[bytes]) -> tuple[int, bool]:
    """Execute the command at ``pos``; return (next position, result deferred?)."""
    ch = text[pos].upper()
    if ch == " ":
        return pos + 1, False
    if ch == "+":
        return _extended(dce, text, pos + 1, infos), False
    if ch in "&\\%":
        if pos + 1 >= len(text):
            raise CommandError
        num, nxt = _number(text, pos + 2)
        _run_basic(dce, ch + text[pos + 1].upper(), num, infos)
        return nxt, False
    ending = LINE_ENDING.get(ch)
    if ending is not None:
        ending(dce, text[pos + 1:])
        return len(text), True
    if ch == "S":
        return _sreg(dce, text, pos + 1, infos), False
    if ch == "?":
        infos.append(dce.format_info([f"{dce.settings.regs[dce.sreg_pointer]:03d}"]))
        return pos + 1, False
    if not ch.isalpha():
        raise CommandError
    num, nxt = _number(text, pos + 1)
    _run_basic(dce, ch, num, infos)
    return nxt, False


def _sreg(dce: Dce, text: str, pos: int, infos: list[bytes]) -> int:
    num, pos = _number(text, pos)
    spec = dce.personality.registers.get(num)
    if spec is None:
        raise CommandError
    dce.sreg_pointer = num
    if pos < len(text) and text[pos] == "?":
        infos.append(dce.format_info([f"{dce.settings.regs[num]:03d}"]))
        return pos + 1
    if pos < len(text) and text[pos] == "=":
        value, pos = _number(text, pos + 1)
        if not spec.allows(value):
            raise CommandError
        dce.settings.regs[num] = value
    return pos


def _extended(dce: Dce, text: str, pos: int, infos: list[bytes]) -> int:
    start = pos
    while pos < len(text) and (text[pos].isalnum() or text[pos] in "!%-./:_"):
        pos += 1
    name = text[start:pos].upper()
    op: Op = "action"
    value = ""
    if text.startswith("=?", pos):
        op, pos = "test", pos + 2
    elif text.startswith("?", pos):
        op, pos = "read", pos + 1
    elif text.startswith("=", pos):
        end = text.find(";", pos)
        end = len(text) if end < 0 else end
        op, value, pos = "set", text[pos + 1:end].strip(), end
    if pos < len(text) and text[pos] == ";":
        pos += 1
    reply = _run_extended(dce, name, op, value)
    if reply is not None:
        infos.append(dce.format_info([reply]))
    return pos


def _number(text: str, pos: int) -> tuple[int, int]:
    """Parse a decimal parameter at ``pos`` (missing means 0, V.250 basic syntax)."""
    end = pos
    while end < len(text) and text[end].isdigit():
        end += 1
    return (int(text[pos:end]) if end > pos else 0), end
