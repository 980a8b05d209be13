"""Driving an interactive program in a real terminal: a private tmux server."""

from __future__ import annotations

import shlex
import subprocess
import time
import uuid
from collections.abc import Mapping


class Tmux:
    """One tmux server on a private socket (``-L``), with one 120x40 session."""

    def __init__(self, tmux: str, env: Mapping[str, str]) -> None:
        self.tmux = tmux
        self.socket = f"modemctl-test-{uuid.uuid4().hex[:12]}"
        self.env = dict(env)
        self.started = False

    def _cmd(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.tmux, "-L", self.socket, *args], env=self.env,
                              capture_output=True, text=True, timeout=10, check=check)

    def start(self, argv: list[str], then: str = "") -> None:
        """Run ``argv`` in a new detached session; ``then`` is shell run after it exits.

        The pane is kept (``sleep``) after the program ends so its last screen
        and exit status can be read.
        """
        # The shell traps SIGINT (a handler, not "ignore", so the program still gets
        # its default Ctrl-C) and survives to print the exit status.
        script = (f"trap 'true' INT; {shlex.join(argv)}; echo \"EXIT=$?\"; "
                  f"{then + '; ' if then else ''}sleep 120")
        self._cmd("new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "sh", "-c", script)
        self.started = True

    def keys(self, *keys: str) -> None:
        """Key names (``Enter``, ``Up``, ``C-d``) as tmux knows them."""
        self._cmd("send-keys", "-t", "t", *keys)

    def type(self, text: str) -> None:
        """Literal characters, as if typed."""
        self._cmd("send-keys", "-t", "t", "-l", text)

    def screen(self) -> str:
        return self._cmd("capture-pane", "-p", "-t", "t", "-S", "-200").stdout

    def wait_for(self, needle: str, limit: float = 20.0, count: int = 1) -> str:
        """Poll the screen (bounded) until ``needle`` shows ``count`` times; return it."""
        deadline = time.monotonic() + limit
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(needle) >= count:
                return screen
            time.sleep(0.05)            # the screen of another process: polled, bounded
        raise AssertionError(f"{needle!r} (x{count}) not on screen after {limit}s:\n{screen}")

    def kill(self) -> None:
        if self.started:
            self._cmd("kill-server", check=False)
