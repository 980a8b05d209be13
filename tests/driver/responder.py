"""A small scripted DCE on a pty, for engine tests that need exact control.

Not a modem emulator (that is ``modemctl.fake``): it answers commands from a
table, echoes if asked to, can stay silent, inject unsolicited lines at
chosen moments, and in data mode loops call data back like a remote that
echoes.  The escape ``+++`` is honoured with guard times.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tty
from collections.abc import AsyncIterator, Callable

Reply = list[str] | Callable[[str], list[str]]
S12_DEFAULT = 50          # the escape guard time every profile starts from, in 20 ms
_FORMAT_COMMAND = re.compile(r"^AT(?:[EQV][01]?)+$")


class ScriptedDCE:
    """DCE side of a pty pair; the engine opens :attr:`port`."""

    def __init__(self, *, echo: bool = True, verbose: bool = True, guard: float = 0.05,
                 connect: str = "CONNECT 33600") -> None:
        self.echo = echo
        self.verbose = verbose
        self.quiet = False             # Q1: no result codes at all
        self.guard = guard
        self.connect_text = connect
        self.replies: dict[str, Reply] = {}
        self.silent = False            # ignore commands (a stalled modem)
        self.silent_until_dtr = False
        self.commands: list[str] = []
        self._command_seen = asyncio.Event()
        self.data_mode = False
        self.data_echo = True
        self.hang_dials = False        # ATD/ATA get no answer until a byte aborts them
        self.abort_connects = False    # ... and then the abort loses the race to CONNECT
        self._dialing = False
        self.received_data = bytearray()
        self._line = bytearray()
        self._loop = asyncio.get_running_loop()
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.port = os.ttyname(self._slave)
        self._last_rx = 0.0
        self.escape_quiet: list[float] = []   # silence before each accepted +++
        self.escape_seen = asyncio.Event()    # set when a guarded +++ arrives
        self.honour_escape = True             # False: +++ is just data (S2 > 127)
        self._plus_timer: asyncio.TimerHandle | None = None
        self._loop.add_reader(self.master, self._on_readable)
        self.before_final: list[str] = []   # unsolicited lines sent before each final

    def close(self) -> None:
        self._loop.remove_reader(self.master)
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)

    # --- output ---------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self.master, data)

    def send_line(self, text: str) -> None:
        """An unsolicited or information line in the current format."""
        self.send_raw(f"\r\n{text}\r\n".encode("latin-1"))

    def final(self, text: str, numeric: int) -> None:
        if self.quiet:
            return
        for urc in self.before_final:
            self.send_line(urc)
        if self.verbose:
            self.send_line(text)
        else:
            self.send_raw(f"{numeric}\r".encode())

    # --- input ----------------------------------------------------------

    def _on_readable(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:
            return
        now = self._loop.time()
        quiet_before = now - self._last_rx
        self._last_rx = now
        if self.data_mode:
            self._data(data, quiet_before)
            return
        if b"+++" in data:
            self.escape_seen.set()             # in command mode: just characters
        for b in data:
            self._byte(b)

    def _data(self, data: bytes, quiet_before: float) -> None:
        if self._plus_timer is not None:
            self._plus_timer.cancel()
            self._plus_timer = None
        if data == b"+++" and quiet_before >= self.guard * 0.9:
            self.escape_quiet.append(quiet_before)
            self.escape_seen.set()
            if self.honour_escape:
                self._plus_timer = self._loop.call_later(self.guard, self._escaped)
        self.received_data += data
        if self.data_echo:
            self.send_raw(data)

    def _escaped(self) -> None:
        self._plus_timer = None
        self.data_mode = False
        self.final("OK", 0)

    def _byte(self, b: int) -> None:
        if self._dialing:
            # V.250: any character aborts a dial or answer in progress.
            self._dialing = False
            if self.abort_connects:
                self.data_mode = True
                self.final(self.connect_text, 1)
            else:
                self.final("NO CARRIER", 3)
            return
        if self.echo and not self.silent:
            self.send_raw(bytes([b]))
        if b == 13:
            line = self._line.decode("latin-1")
            self._line.clear()
            self._command(line)
        elif b != 10:
            self._line.append(b)

    def _command(self, line: str) -> None:
        idx = line.upper().find("AT")
        if idx < 0:
            return
        cmd = line[idx:]
        self.commands.append(cmd)
        self._command_seen.set()
        if self.silent:
            return
        up = cmd.upper()
        if up in self.replies:
            reply = self.replies[up]
            lines = reply(cmd) if callable(reply) else reply
            for text in lines[:-1]:
                self.send_line(text) if self.verbose else self.send_raw(f"{text}\r\n".encode())
            if lines:
                last = lines[-1]
                self.final(last, {"OK": 0, "ERROR": 4, "NO CARRIER": 3, "BUSY": 7}.get(last, 4))
            return
        if self.hang_dials and (up.startswith("ATD") or up == "ATA"):
            self._dialing = True
            return
        if up.startswith("ATD") or up == "ATA" or up.startswith("ATO"):
            self.data_mode = True
            self.final(self.connect_text, 1)
            return
        if _FORMAT_COMMAND.match(up):
            self._set_format(up[2:])
            return
        if up.startswith("AT"):
            self.final("OK", 0)

    def _set_format(self, settings: str) -> None:
        """``E``/``Q``/``V`` settings; the command's own OK is in the new
        format (V.250 6.2.5), except that E changes only the next line's echo."""
        for letter, value in re.findall(r"([EQV])([01]?)", settings):
            on = value == "1"
            if letter == "E":
                self.echo = on
            elif letter == "Q":
                self.quiet = on
            else:
                self.verbose = on
        self.final("OK", 0)

    async def wait_command(self, command: str) -> None:
        """Wait until ``command`` has arrived (bound it with asyncio.timeout)."""
        while command not in self.commands:
            self._command_seen.clear()
            await self._command_seen.wait()

    def carrier_drop(self) -> None:
        """The remote hung up: NO CARRIER, back to command mode."""
        self.data_mode = False
        self.final("NO CARRIER", 3)


@contextlib.asynccontextmanager
async def scripted_dce(time_scale: float) -> AsyncIterator[ScriptedDCE]:
    """A :class:`ScriptedDCE` whose ``+++`` guard is the default S12 at
    ``time_scale`` (what an engine opened at that scale waits), closed afterwards."""
    dce = ScriptedDCE(guard=S12_DEFAULT * 0.02 * time_scale)
    try:
        yield dce
    finally:
        dce.close()
