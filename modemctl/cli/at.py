"""``modemctl at``: send AT commands and print the responses, or an interactive console.

With commands on the command line it is a scripting tool: each command is
sent in order, its information lines and final result printed, and the
first failure stops the run (as a modem stops executing a command line at
the first error) with a non-zero exit status.

Without commands it is a console: a readline prompt with history kept under
the user state folder, unsolicited lines (RING, caller ID...) printed as they
arrive, and a dial or answer that connects drops into the same ``cu``-style
session as ``modemctl dial`` (``~.`` hangs up and returns to the prompt).
All of it goes through the driver, so responses are framed by final result
code, port locking applies, and ``--trace`` shows every byte.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import platformdirs

from modemctl.at.codes import ResultCode
from modemctl.at.events import RingIndicator
from modemctl.cli import completion
from modemctl.cli.context import Settings, baud_option, pass_settings
from modemctl.cli.exitcodes import ExitCode, for_error, for_reason
from modemctl.cli.failures import describe
from modemctl.cli.target import Target, default_line_set, looks_like_port
from modemctl.cli.terminal import SessionEnd, notice, raw_terminal, run_session, std_streams
from modemctl.driver import Engine, EngineMode
from modemctl.errors import CommandError, ModemctlError
from modemctl.line.states import reason_for_result
from modemctl.loopthread import LoopThread

HISTORY_LENGTH = 1000
RESYNC_ATTEMPTS = 3
PROMPT = "AT> "
QUIT_WORDS = frozenset({"quit", "exit", "~."})
_ORIGINATE_PREFIXES = ("ATD", "ATA", "ATO")


def history_path() -> Path:
    """The console's history file, in the platform's user state folder."""
    return Path(platformdirs.user_state_dir("modemctl")) / "at_history"


def split_port_commands(args: tuple[str, ...], settings: Settings) -> tuple[str | None,
                                                                            list[str]]:
    """``PORT [COMMAND...]``; PORT may be left out when ``MODEMCTL_LINE`` is set.

    Without PORT the first word is a command, which is recognised by its
    ``AT`` prefix (and by not being a configured line or an existing port).
    """
    if not args:
        if default_line_set():
            return None, []
        raise click.UsageError("give PORT (or set MODEMCTL_LINE)")
    first = args[0]
    is_command = (first.upper().startswith("AT") or first.upper() == "A/")
    if is_command and first not in settings.config.lines and not looks_like_port(first):
        if default_line_set():
            return None, list(args)
        raise click.UsageError(f"{first!r} is an AT command, not a port: give PORT first "
                               "(modemctl at PORT COMMAND...), or set MODEMCTL_LINE")
    return first, list(args[1:])


class ConsoleInput:
    """The console's lines: bytes handed back by a call session first, then the keyboard.

    Keys typed after ``~.`` in a call from the console are meant for the
    console, so the session hands them back (:meth:`push`) and they are
    read before anything else.  Piped input is read from the descriptor a
    byte at a time, because ``sys.stdin`` reads ahead in blocks and would
    take the bytes that follow an ``ATD`` line away from the call.
    """

    def __init__(self, tty: bool) -> None:
        self._tty = tty
        self._pending = bytearray()

    def push(self, data: bytes) -> None:
        self._pending += data

    def line(self) -> str:
        """The next line (without its end); EOFError at the end of input."""
        ends = [i for i in (self._pending.find(b"\r"), self._pending.find(b"\n")) if i >= 0]
        if ends:
            cut = min(ends)
            text = self._pending[:cut].decode("utf-8", errors="replace")
            del self._pending[:cut + 1]
            if self._tty:
                click.echo(f"{PROMPT}{text}", err=True)     # show what is being run
            return text
        rest = self._pending.decode("utf-8", errors="replace")
        self._pending.clear()
        if self._tty:
            _prefill(rest)
            return input(PROMPT)
        try:
            return rest + _read_line_unbuffered()
        except EOFError:
            if rest:
                return rest
            raise


def _prefill(text: str) -> None:
    """Put ``text`` on the next readline prompt, as if typed (no-op without readline)."""
    if not text:
        return
    try:
        import readline
    except ImportError:
        return

    def hook() -> None:
        readline.insert_text(text)
        readline.redisplay()
        readline.set_pre_input_hook(None)

    readline.set_pre_input_hook(hook)


def _read_line_unbuffered() -> str:
    """One line of piped input, taken from the descriptor without read-ahead.

    Streams without a descriptor (test runners) have nothing to lose and use
    ``readline``.  Raises EOFError at the end of input.
    """
    stdin, _ = std_streams()
    try:
        fd = stdin.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        line = sys.stdin.readline()
        if not line:
            raise EOFError from None
        return line
    data = bytearray()
    while not data.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            if not data:
                raise EOFError
            break
        data += byte
    return data.decode("utf-8", errors="replace")


def is_originate(command: str) -> bool:
    """Commands that may put the modem online (dial, answer, return online)."""
    return command.strip().upper().startswith(_ORIGINATE_PREFIXES)


@click.command("at")
@click.argument("args", nargs=-1, metavar="PORT [COMMAND]...",
                shell_complete=completion.complete_port)
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=10.0,
              show_default=True, help="Seconds to wait for each command's final result.")
@click.option("--dial-timeout", type=click.FloatRange(0, min_open=True), default=90.0,
              show_default=True, help="Seconds to wait for CONNECT after ATD/ATA.")
@baud_option
@pass_settings
def command(settings: Settings, args: tuple[str, ...], timeout: float,
            dial_timeout: float) -> None:
    """Send AT COMMANDs to the modem on PORT and print the responses.

    \b
    modemctl at /dev/ttyUSB0 ATI3 'AT+GMM' 'AT&V'
    modemctl at office                # interactive console, with history

    In the console, a command that connects (ATD...) joins this terminal to
    the call as in `modemctl dial`; ~. hangs up and returns to the prompt.
    quit, exit or Ctrl-D leave.
    """
    port, commands = split_port_commands(args, settings)
    target = settings.target(port)
    console = Console(settings, target, timeout=timeout, dial_timeout=dial_timeout)
    with console.connected():
        code = console.run_batch(commands) if commands else console.interactive()
    click.get_current_context().exit(int(code))


class Console:
    """One engine on one port, driven from the main thread."""

    def __init__(self, settings: Settings, target: Target, *, timeout: float,
                 dial_timeout: float) -> None:
        self._settings = settings
        self._target = target
        self._timeout = timeout
        self._dial_timeout = dial_timeout
        self._loop: LoopThread | None = None
        self._engine: Engine | None = None

    @contextlib.contextmanager
    def connected(self) -> Iterator[None]:
        """Open the port (locked) for the duration; always close it and stop the loop."""
        self._loop = LoopThread()
        try:
            kwargs: dict[str, Any] = {"time_scale": self._settings.time_scale, "lock": True,
                                      "trace": self._settings.trace}
            if self._target.name is not None:
                kwargs["name"] = self._target.name
            if self._target.baudrate is not None:
                kwargs["baudrate"] = self._target.baudrate
            self._engine = self._loop.run(Engine.open(self._target.url, **kwargs))
            try:
                yield
            finally:
                with contextlib.suppress(Exception):
                    self._loop.run(self._engine.close(), timeout=10.0)
        finally:
            self._loop.stop()

    @property
    def engine(self) -> Engine:
        assert self._engine is not None, "use inside connected()"
        return self._engine

    @property
    def loop(self) -> LoopThread:
        assert self._loop is not None, "use inside connected()"
        return self._loop

    def send(self, text: str) -> ExitCode:
        """Send one command and print its response; the status it gives a script.

        ``ERROR`` is :attr:`ExitCode.MODEM_FAILED`; a dial or answer that ends
        without ``CONNECT`` (``BUSY``, ``NO CARRIER``...) gets the status of
        that disconnect reason, as ``modemctl dial`` would.
        """
        try:
            if is_originate(text):
                response = self.loop.run(self.engine.originate(text, timeout=self._dial_timeout))
            else:
                response = self.loop.run(self.engine.command(text, timeout=self._timeout))
        except CommandError as exc:
            for line in exc.info:
                click.echo(line)
            click.echo(exc.result)
            return ExitCode.MODEM_FAILED
        for line in response.info:
            click.echo(line)
        click.echo(response.text)
        if response.final in (ResultCode.OK, ResultCode.CONNECT):
            return ExitCode.OK
        return for_reason(reason_for_result(response.final.value))

    def run_batch(self, commands: list[str]) -> ExitCode:
        """Send each command in order; stop at the first failure."""
        for text in commands:
            status = self.send(text)
            if status is not ExitCode.OK:
                return status
            if self.engine.mode is not EngineMode.COMMAND:
                notice("the call is up; hanging up (`modemctl dial` keeps calls open)")
                self.loop.run(self.engine.hangup())
        return ExitCode.OK

    def interactive(self) -> ExitCode:
        """The console: read, send, print, until quit or end of input.

        ``ERROR`` answers are part of a console session and keep the status
        0; a modem that stopped answering (timeouts, failed recovery) makes it
        non-zero, so a script piping commands in can tell.
        """
        tty = sys.stdin.isatty()
        status = ExitCode.OK
        keyboard = ConsoleInput(tty)
        with _history(enabled=tty):
            self.loop.spawn(self._print_events())
            if tty:
                click.echo(f"connected to {self._target.label}; type AT commands, "
                           "quit or Ctrl-D to leave", err=True)
            while True:
                try:
                    text = keyboard.line().strip()
                except EOFError:
                    if tty:
                        click.echo("", err=True)
                    return status
                except KeyboardInterrupt:
                    if not tty:
                        raise
                    click.echo("^C", err=True)          # like a shell: drop the line
                    continue
                if not text:
                    continue
                if text.lower() in QUIT_WORDS:
                    return status
                try:
                    self.send(text)
                except ModemctlError as exc:
                    for line in describe(exc):
                        click.echo(line, err=True)
                    status = for_error(exc)
                    continue
                except KeyboardInterrupt:
                    if not tty:
                        raise
                    self._abandon()
                    continue
                if self.engine.mode is EngineMode.DATA:
                    keyboard.push(self._session())

    def _abandon(self) -> None:
        """Ctrl-C while a command runs: stop waiting, hang up, and resynchronise.

        Hanging up aborts a dial in progress.  The engine does not abort a
        cancelled dial itself (it does for a timed-out one), so the modem's
        late final result (``NO CARRIER``) may still be on its way: a few
        plain ``AT`` commands take it out of the way before the next command.
        """
        notice("interrupted: hanging up")
        with contextlib.suppress(ModemctlError, TimeoutError):
            self.loop.run(self.engine.hangup(), timeout=10 + 30 * self._settings.time_scale)
        for _ in range(RESYNC_ATTEMPTS):
            with contextlib.suppress(ModemctlError):
                if self.loop.run(self.engine.command("AT", timeout=self._timeout)).ok:
                    return
        notice("the modem does not answer AT after the interruption")

    def _session(self) -> bytes:
        """A call came up from the console: join the terminal to it until it ends.

        Returns what was typed after ``~.``, which is for the console.
        """
        notice("connected; ~. hangs up and returns to the console, ~? for help")

        async def no_secure() -> None:
            notice("~s is for `modemctl dial`/`answer`, which know the line's securing "
                   "mechanisms; here, set them with AT commands before dialling")

        stdin, stdout = std_streams()
        with raw_terminal(stdin):
            result = self.loop.run(run_session(self.engine, stdin=stdin, stdout=stdout,
                                               secure=no_secure))
        if self.engine.mode is not EngineMode.COMMAND:
            self.loop.run(self.engine.hangup())
        notice("call ended" if result.end is SessionEnd.REMOTE
               else f"{result.end.value}: hung up")
        return result.unread

    async def _print_events(self) -> None:
        events = self.engine.events()
        try:
            async for event in events:
                notice(f"[{_event_text(event)}]")
        finally:
            events.close()


def _event_text(event: object) -> str:
    if isinstance(event, RingIndicator):
        return f"RI {'on' if event.state else 'off'}"
    text = getattr(event, "text", None)
    return str(text) if text else type(event).__name__


@contextlib.contextmanager
def _history(enabled: bool) -> Iterator[None]:
    """readline editing with a persistent history file, when stdin is a terminal."""
    if not enabled:
        yield
        return
    try:
        import readline
    except ImportError:                  # no readline on this platform: plain input()
        yield
        return
    path = history_path()
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(HISTORY_LENGTH)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
