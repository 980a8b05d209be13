"""pyserial's RFC 2217 client without its fixed sleeps on DTR changes and close.

pyserial 3.5's client (``serial/rfc2217.py``) waits by sleeping: each
control-line change and each purge sends its request, then sleeps 50 ms
before it first looks for the server's acknowledgement
(``TelnetSubnegotiation.wait``), and ``close()`` sleeps 0.3 s after joining
its reader thread, "in case of quick reconnects".  A local server answers
in well under a millisecond, so a hang-up by DTR drop (two changes) cost
100 ms and every close 0.3 s: most of the time ``modemctl dial`` took to
exit after Ctrl-C on an RFC 2217 line (README, "Ctrl-C during a dial").

:class:`Rfc2217Port` is pyserial's class with those waits made to end when
their reason does:

* an acknowledgement is awaited on a condition that pyserial's reader
  thread notifies after each subnegotiation it processes (and when it
  ends): the same checks (a rejected value raises ``ValueError``), the same
  network timeout and ``SerialException``, minus the 50 ms steps.  With
  ``?ign_set_control`` (servers that answer wrongly or not at all, like
  ser2net) pyserial's own fixed pause is kept: there is no answer to wait for;
* ``close()`` ends the connection and joins the reader thread without the
  sleep; the grace it gave the server before a new connection is paid by
  the next open of the same server in this process, and only for what is
  left of it (a server that serves one client, like the fake exchange's,
  turns away a client that comes back before it has seen the old one go);
* ``cancel_read()``, which pyserial's client lacks, wakes a pending
  ``read()`` with the marker its reader thread uses at the end of the
  connection, so a transport closing does not wait for a read timeout.

What is left of pyserial's sleeps is in ``open()``: two 50 ms polls (the
telnet options, then the port settings) that only a rewrite of ``open()``
could shorten.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import serial
from serial import rfc2217

RECONNECT_GRACE = 0.3
"""Seconds pyserial gives a server between a close and a new connection."""
READER_JOIN = 7.0
"""Seconds close waits for pyserial's reader thread (pyserial's own bound)."""

_closed_at: dict[tuple[str | None, int | None], float] = {}
_closed_lock = threading.Lock()


def open_serial(url: str, **kwargs: Any) -> Any:
    """Open ``url`` as ``serial.serial_for_url`` does, with :class:`Rfc2217Port`
    for ``rfc2217://`` URLs."""
    if url.lower().startswith("rfc2217://"):
        return Rfc2217Port(url, **kwargs)
    return serial.serial_for_url(url, **kwargs)


def _server(url: str) -> tuple[str | None, int | None]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


class Rfc2217Port(rfc2217.Serial):  # type: ignore[misc]
    """pyserial's ``rfc2217://`` client whose waits end with their reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Before pyserial's __init__, which opens the port.
        self._answered = threading.Condition()
        self._reader_done = False
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        self._reader_done = False
        server = _server(str(self.portstr))
        with _closed_lock:
            closed = _closed_at.pop(server, None)
        if closed is not None:
            left = RECONNECT_GRACE - (time.monotonic() - closed)
            if left > 0:
                time.sleep(left)
        super().open()

    def close(self) -> None:
        # Without its thread, pyserial's close only shuts the socket (which
        # ends the thread): no join, no sleep.  The join is done here.
        thread = getattr(self, "_thread", None)
        self._thread = None
        super().close()
        if thread is not None:
            thread.join(READER_JOIN)
            with _closed_lock:
                _closed_at[_server(str(self.portstr))] = time.monotonic()

    def cancel_read(self) -> None:
        """Make a pending :meth:`read` return what it has now."""
        if self.is_open:
            self._read_buffer.put(None)

    def _telnet_read_loop(self) -> None:
        try:
            super()._telnet_read_loop()
        finally:
            with self._answered:
                self._reader_done = True
                self._answered.notify_all()

    def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
        super()._telnet_process_subnegotiation(suboption)
        with self._answered:
            self._answered.notify_all()

    def rfc2217_set_control(self, value: bytes) -> None:
        if self._ignore_set_control_answer:
            super().rfc2217_set_control(value)
            return
        item = self._rfc2217_options["control"]
        item.set(value)
        self._await_answer(item)

    def rfc2217_send_purge(self, value: bytes) -> None:
        item = self._rfc2217_options["purge"]
        item.set(value)
        self._await_answer(item)

    def _await_answer(self, item: Any) -> None:
        """Wait for the server to acknowledge ``item``; pyserial's checks and errors."""
        deadline = time.monotonic() + self._network_timeout
        with self._answered:
            while not item.is_ready():          # ValueError: the server rejected the value
                left = deadline - time.monotonic()
                if self._reader_done:
                    raise serial.SerialException(
                        f"connection lost while waiting for option {item.name!r}")
                if left <= 0:
                    raise serial.SerialException(
                        f"timeout while waiting for option {item.name!r}")
                self._answered.wait(left)
