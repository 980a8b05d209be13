"""How a fake modem is reached: a pseudo-terminal, and optionally an RFC 2217 server.

A Linux pty carries bytes only: no DCD, RI or DTR (reference
hil-and-serial-transports.md §4).  What it does give is a hang-up signal:
when the last client closes the slave, reads on the master fail with EIO.
:class:`PtyPort` turns that into "DTR dropped" and then waits for a client to
open the device again without spinning on EIO: on Linux it waits on inotify's
``IN_OPEN`` for the slave (:mod:`~modemctl.fake.ptywatch`), so an idle line
costs nothing; elsewhere it polls slowly (every :data:`PTY_POLL` real seconds).
Output written while no client has the device open is discarded, so the next
client never reads stale results.

:class:`Rfc2217Server` serves the same modem over RFC 2217 on 127.0.0.1 with
pyserial's :class:`serial.rfc2217.PortManager`: DCD, RI, DSR and CTS reach the
client as NOTIFY-MODEMSTATE (immediately on change, and by a
:data:`LINE_POLL` poll as the RFC expects), while DTR, RTS and baud rate
arrive from the client.  Mask changes are acknowledged, which strict clients
(serialx) wait for and pyserial's server does not do.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from serial import rfc2217

from modemctl.fake import ptywatch
from modemctl.log import get_logger

PTY_POLL = 0.05
"""Longest real interval between checks for a client (re)opening a closed pty."""
PTY_POLL_FIRST = 0.002
"""First re-check after the pty closed; the interval doubles up to :data:`PTY_POLL`, so a
client that opens right away is seen at once and an idle line costs ~20 reads a second."""
LINE_POLL = 0.02
"""Real seconds between modem-line checks on the RFC 2217 connection."""
READ_CHUNK = 4096

_log = get_logger()


class PtyPort:
    """The pty side of a fake line; ``path`` is a stable symlink to the slave device."""

    def __init__(self, link: Path, on_data: Callable[[bytes], None],
                 on_open_change: Callable[[bool], None]) -> None:
        self.link = link
        self._on_data = on_data
        self._on_open_change = on_open_change
        self._loop = asyncio.get_running_loop()
        self._master = -1
        self.tty_path = ""
        self.client_open = False
        self._out = bytearray()
        self._writing = False
        self._poll_handle: asyncio.TimerHandle | None = None
        self._poll_interval = PTY_POLL_FIRST
        self._paused = False
        self._watch = -1

    @property
    def path(self) -> str:
        """The device path clients open (the symlink)."""
        return str(self.link)

    def open(self) -> None:
        """Create the pty (raw mode) and its symlink, and start watching for clients."""
        master, slave = os.openpty()
        try:
            tty.setraw(slave)
            self.tty_path = os.ttyname(slave)
        finally:
            os.close(slave)
        os.set_blocking(master, False)
        self._master = master
        with contextlib.suppress(FileNotFoundError):
            self.link.unlink()
        self.link.symlink_to(self.tty_path)
        watcher = ptywatch.open_watcher()
        if watcher is not None:
            with contextlib.suppress(OSError):      # e.g. inotify watches used up: poll
                self._watch = watcher.watch(self.tty_path, self._opened)
        self._poll()

    @property
    def watching(self) -> bool:
        """True when a client's open is awaited on inotify (no polling while idle)."""
        return self._watch >= 0

    def _opened(self) -> None:
        if self._master >= 0 and not self.client_open:
            self._poll()

    @property
    def backlog(self) -> int:
        """Bytes written but not yet taken by the pty (the client is not reading)."""
        return len(self._out)

    def pause_reading(self) -> None:
        """Flow control: stop taking bytes from the client (its writes then block)."""
        if not self._paused:
            self._paused = True
            if self._master >= 0 and self.client_open:
                self._loop.remove_reader(self._master)

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            if self._master >= 0 and self.client_open:
                self._loop.add_reader(self._master, self._readable)

    def write(self, data: bytes) -> None:
        """Queue bytes for the client; dropped when no client has the device open."""
        if not data or self._master < 0 or not self.client_open:
            return
        self._out += data
        self._flush()

    def _flush(self) -> None:
        while self._out:
            try:
                n = os.write(self._master, self._out)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EIO:
                    self._client_gone()
                    return
                raise
            del self._out[:n]
        if self._out and not self._writing:
            self._loop.add_writer(self._master, self._flush)
            self._writing = True
        elif not self._out and self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False

    def _readable(self) -> None:
        try:
            data = os.read(self._master, READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            self._client_gone()
            return
        if data:
            self._on_data(data)

    def _client_gone(self) -> None:
        self._loop.remove_reader(self._master)
        if self._writing:
            self._loop.remove_writer(self._master)
            self._writing = False
        self._out.clear()
        if self.client_open:
            self.client_open = False
            self._on_open_change(False)
        self._poll_interval = PTY_POLL_FIRST
        if self._watch >= 0:
            self._poll()          # a client that reopened before we looked sent no IN_OPEN now
        else:
            self._poll_handle = self._loop.call_later(self._poll_interval, self._poll)

    def _poll(self) -> None:
        """Is a client there?  EIO: no; EAGAIN or data: yes."""
        self._poll_handle = None
        if self._master < 0:
            return
        try:
            data = os.read(self._master, READ_CHUNK)
        except BlockingIOError:
            data = b""
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            if self._watch < 0:
                self._poll_interval = min(self._poll_interval * 2, PTY_POLL)
                self._poll_handle = self._loop.call_later(self._poll_interval, self._poll)
            return
        self.client_open = True
        if not self._paused:
            self._loop.add_reader(self._master, self._readable)
        self._on_open_change(True)
        if data:
            self._on_data(data)

    def close(self) -> None:
        """Close the master (clients get an error) and remove the symlink."""
        if self._poll_handle is not None:
            self._poll_handle.cancel()
            self._poll_handle = None
        if self._watch >= 0:
            watcher = ptywatch.open_watcher()
            if watcher is not None:
                watcher.unwatch(self._watch)  # before the slave goes: its id may be reused
            self._watch = -1
        if self._master >= 0:
            self._loop.remove_reader(self._master)
            if self._writing:
                self._loop.remove_writer(self._master)
                self._writing = False
            os.close(self._master)
            self._master = -1
        self._out.clear()
        self.client_open = False
        with contextlib.suppress(FileNotFoundError):
            if self.link.is_symlink() and os.readlink(self.link) == self.tty_path:
                self.link.unlink()


class PortSignals:
    """The modem-control signals a fake port carries: DCE outputs read, DTR written.

    Not :class:`modemctl.transport.PortSignals` (the driver's view of a real port):
    this is the fake modem's side, which the RFC 2217 server reports and sets.
    """

    def __init__(self, read: Callable[[], tuple[bool, bool, bool, bool]],
                 on_dtr: Callable[[bool], None]) -> None:
        self.read = read
        self.on_dtr = on_dtr


class _SerialAdapter:
    """The "serial port" PortManager manages: our modem's lines plus stored settings."""

    def __init__(self, lines: PortSignals) -> None:
        self._lines = lines
        self.baudrate = 115200
        self.bytesize = 8
        self.parity = "N"
        self.stopbits = 1
        self.xonxoff = False
        self.rtscts = False
        self.break_condition = False
        self.rts = True
        self._dtr = True

    @property
    def cd(self) -> bool:
        return self._lines.read()[0]

    @property
    def ri(self) -> bool:
        return self._lines.read()[1]

    @property
    def dsr(self) -> bool:
        return self._lines.read()[2]

    @property
    def cts(self) -> bool:
        return self._lines.read()[3]

    @property
    def dtr(self) -> bool:
        return self._dtr

    @dtr.setter
    def dtr(self, value: bool) -> None:
        self._dtr = bool(value)
        self._lines.on_dtr(self._dtr)

    def reset_input_buffer(self) -> None:
        """Nothing is buffered on the server side."""

    def reset_output_buffer(self) -> None:
        """Nothing is buffered on the server side."""


class _AckingPortManager(rfc2217.PortManager):  # type: ignore[misc]
    """PortManager that also acknowledges SET-LINESTATE-MASK / SET-MODEMSTATE-MASK."""

    def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
        super()._telnet_process_subnegotiation(suboption)
        if suboption[0:1] != rfc2217.COM_PORT_OPTION:
            return
        if suboption[1:2] == rfc2217.SET_LINESTATE_MASK:
            self.rfc2217_send_subnegotiation(rfc2217.SERVER_SET_LINESTATE_MASK, suboption[2:3])
        elif suboption[1:2] == rfc2217.SET_MODEMSTATE_MASK:
            self.rfc2217_send_subnegotiation(rfc2217.SERVER_SET_MODEMSTATE_MASK,
                                             suboption[2:3])


class _Connection:
    """PortManager's "connection": write raw bytes to the TCP client."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def write(self, data: bytes) -> None:
        if not self._writer.is_closing():
            self._writer.write(data)


class Rfc2217Server:
    """One fake modem served over RFC 2217 on 127.0.0.1 (one client at a time)."""

    def __init__(self, lines: PortSignals, on_data: Callable[[bytes], None],
                 on_client: Callable[[bool], None]) -> None:
        self._lines = lines
        self._on_data = on_data
        self._on_client = on_client
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._manager: Any = None
        self._adapter: _SerialAdapter | None = None
        self._reading = asyncio.Event()
        self._reading.set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"rfc2217://127.0.0.1:{self.port}"

    @property
    def client_connected(self) -> bool:
        return self._writer is not None

    @property
    def client_dtr(self) -> bool:
        return self._adapter.dtr if self._adapter is not None else False

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:``port`` (0: any free port; a busy one falls back to any)."""
        try:
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        except OSError:
            if port == 0:
                raise
            self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def write(self, data: bytes) -> None:
        """Send modem output to the client (IAC doubled)."""
        if self._writer is not None and data and not self._writer.is_closing():
            self._writer.write(data.replace(b"\xff", b"\xff\xff"))

    @property
    def backlog(self) -> int:
        """Bytes queued for the client but not yet sent."""
        if self._writer is None or self._writer.is_closing():
            return 0
        return int(self._writer.transport.get_write_buffer_size())

    def pause_reading(self) -> None:
        """Flow control: stop reading the client's socket (telnet controls wait too)."""
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def lines_changed(self) -> None:
        """Notify the client now rather than at the next poll (short RI pulses)."""
        if self._manager is not None:
            self._manager.check_modem_lines()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:
            writer.close()  # one client at a time, like a real serial port
            return
        self._writer = writer
        self._adapter = _SerialAdapter(self._lines)
        self._manager = _AckingPortManager(self._adapter, _Connection(writer))
        self._on_client(True)
        poller = asyncio.create_task(self._poll_lines())
        try:
            while True:
                await self._reading.wait()
                chunk = await reader.read(READ_CHUNK)
                if not chunk:
                    break
                data = b"".join(self._manager.filter(chunk))
                if data:
                    self._on_data(data)
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            # The loop or the server is tearing a still-connected client down.
            # Nobody awaits this handler: asyncio's stream callback would log
            # the cancellation as an error (Python 3.11 asks task.exception()
            # of a cancelled task), so the handler just ends.
            pass
        finally:
            poller.cancel()
            self._writer = None
            self._manager = None
            self._adapter = None
            writer.close()
            self._on_client(False)

    async def _poll_lines(self) -> None:
        while self._manager is not None:
            self._manager.check_modem_lines()
            await asyncio.sleep(LINE_POLL)

    def close(self) -> None:
        """Stop listening and drop the client."""
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._writer is not None:
            self._writer.close()
