"""ser2net 4 in front of local serial devices, on 127.0.0.1, for the fake rig.

A rig host publishes its modems with ser2net; the fake rig does the same in
front of fake pty lines so the suite runs over the very path a remote modem
takes (``rfc2217://host:port?ign_set_control``).  What that path carries, as
measured (reference §2): data and baud changes; **not** the modem control
lines, because a pty has none, so DTR set by the client does nothing and
DCD/RI/DSR/CTS always read False.  ser2net never acknowledges SET-CONTROL on
a pty, hence ``ign_set_control``.  The connector has ``local`` (ignore the
device's modem lines), as labgrid's exporter starts it.

We start exactly one ser2net process and stop only that one, by its PID.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from modemctl.errors import RigDeviceError

START_LIMIT = 5.0
"""Real seconds ser2net gets to listen on every port."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def config(devices: Sequence[tuple[str, int]]) -> str:
    """ser2net YAML: one RFC 2217 accepter on 127.0.0.1 per (device path, TCP port)."""
    out = ["%YAML 1.1", "---"]
    for i, (path, port) in enumerate(devices):
        out += [f"connection: &line{i}",
                f"    accepter: telnet(rfc2217),tcp,127.0.0.1,{port}",
                f"    connector: serialdev,{path},115200n81,local",
                "    enable: on",
                "    options:",
                "      kickolduser: true",
                ""]
    return "\n".join(out)


def url(port: int) -> str:
    """The pyserial URL of a ser2net port (it never acks DTR/RTS on a pty)."""
    return f"rfc2217://127.0.0.1:{port}?ign_set_control"


class Ser2net:
    """One ser2net process serving ``devices``; ``ports[i]`` serves ``devices[i]``."""

    def __init__(self, devices: Sequence[str]) -> None:
        self.devices = tuple(devices)
        self.ports: tuple[int, ...] = ()
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> None:
        program = shutil.which("ser2net") or (
            "/usr/sbin/ser2net" if Path("/usr/sbin/ser2net").exists() else None)
        if program is None:
            raise RigDeviceError("ser2net", "not installed (Debian package ser2net)")
        self.ports = tuple(free_port() for _ in self.devices)
        self._dir = tempfile.TemporaryDirectory(prefix="modemctl-ser2net-")
        cfg = Path(self._dir.name) / "ser2net.yaml"
        cfg.write_text(config(list(zip(self.devices, self.ports, strict=True))))
        self._proc = subprocess.Popen(
            [program, "-n", "-u", "-c", str(cfg), "-P", str(Path(self._dir.name) / "pid")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_LIMIT
        for port in self.ports:
            while not _listening(port):
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode(errors="replace") if \
                        self._proc.stderr else ""
                    self.stop()
                    raise RigDeviceError("ser2net", f"exited at start: {err.strip()}")
                if time.monotonic() > deadline:
                    self.stop()
                    raise RigDeviceError("ser2net", f"not listening on {port} after "
                                                    f"{START_LIMIT}s")
                time.sleep(0.02)

    def stop(self) -> None:
        """Terminate our ser2net (by its PID) and wait for it."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.terminate()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait(timeout=5)
            if self._proc.stderr:
                self._proc.stderr.close()
            self._proc = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
