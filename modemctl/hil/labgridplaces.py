"""Reserving and acquiring labgrid places for a run, and the environment file that names them.

``modemctl hil run --labgrid SPEC`` takes each SPEC as a place name, or as
tags (``model=usr-v90,site=lab2``) for which the coordinator picks a free
place (a reservation, waited for).  The places are acquired with
``labgrid-client`` -- the CLI is labgrid's stable interface; its Python
session API is internal -- then the suite runs under labgrid's pytest
plugin on an environment file with one ``RemotePlace`` target per place
(:func:`env_yaml`), and the places are released (and reservations
cancelled) however the run ends.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from modemctl.errors import ConfigError, RigDeviceError
from modemctl.log import get_logger

TIMEOUT = 60.0
"""Real seconds one labgrid-client command may take."""
RESERVE_WAIT = 1800.0
"""Real seconds a reservation may wait for a free place (a busy lab is normal)."""
DEFAULT_COORDINATOR = "127.0.0.1:20408"


def parse_spec(spec: str) -> str | dict[str, str]:
    """A place name, or the tags of a place to reserve (``key=value,key=value``)."""
    if "=" not in spec:
        if not spec or "," in spec:
            raise ConfigError("--labgrid", f"{spec!r} is neither a place name nor key=value tags")
        return spec
    tags: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key or not value:
            raise ConfigError("--labgrid", f"{part!r} in {spec!r} is not key=value")
        tags[key] = value
    return tags


def env_yaml(places: Sequence[str], options: dict[str, object] | None = None) -> str:
    """A labgrid environment with one target per place (the target is named as its place).

    It imports :mod:`modemctl.hil.labgridrig` so the client knows our resource classes.
    """
    out = ["targets:"]
    for place in places:
        out += [f"  {_quote(place)}:", "    resources:", "      RemotePlace:",
                f"        name: {_quote(place)}"]
    if options:
        out.append("options:")
        out += [f"  {k}: {_quote(str(v)) if isinstance(v, str) else v}"
                for k, v in options.items()]
    out += ["imports:", "  - modemctl.hil.labgridrig", ""]
    return "\n".join(out)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _client() -> list[str]:
    program = shutil.which("labgrid-client") or str(Path(sys.executable).parent /
                                                     "labgrid-client")
    if not Path(program).exists():
        raise RigDeviceError("labgrid", "labgrid-client is not installed: "
                                        "pip install 'modemctl[hil]'")
    return [program]


class Client:
    """``labgrid-client`` against one coordinator."""

    def __init__(self, coordinator: str) -> None:
        self.coordinator = coordinator

    def run(self, *args: str, place: str | None = None, token: str | None = None,
            timeout: float = TIMEOUT) -> str:
        argv = [*_client(), "-x", self.coordinator]
        if place is not None:
            argv += ["-p", place]
        env = dict(os.environ, LG_COORDINATOR=self.coordinator)
        if token is not None:
            env["LG_TOKEN"] = token
        try:
            done = subprocess.run([*argv, *args], capture_output=True, text=True,
                                  timeout=timeout, env=env, check=False)
        except subprocess.TimeoutExpired as exc:
            raise RigDeviceError("labgrid", f"labgrid-client {' '.join(args)} took over "
                                            f"{timeout}s") from exc
        if done.returncode != 0:
            err = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise RigDeviceError("labgrid", f"labgrid-client {' '.join(args)}: "
                                            f"{err[-1] if err else f'exit {done.returncode}'}")
        return done.stdout

    def reserve(self, tags: dict[str, str]) -> str:
        """Wait for a free place with ``tags``; its reservation token."""
        out = self.run("reserve", "--wait", "--shell", *(f"{k}={v}" for k, v in tags.items()),
                       timeout=RESERVE_WAIT)
        for line in out.splitlines():
            if line.startswith("export LG_TOKEN="):
                return line.removeprefix("export LG_TOKEN=").strip()
        raise RigDeviceError("labgrid", f"no reservation token in {out.strip()!r}")

    def place_of(self, token: str) -> str:
        """The name of the place a reservation was allocated."""
        out = self.run("show", place=f"+{token}")
        for line in out.splitlines():
            if line.startswith("Place '"):
                return line.split("'")[1]
        raise RigDeviceError("labgrid", f"cannot tell which place +{token} is")


@contextmanager
def acquired(specs: Sequence[str], coordinator: str = DEFAULT_COORDINATOR) -> Iterator[list[str]]:
    """Reserve (for tags) and acquire every place; their names; release them at the end."""
    client = Client(coordinator)
    parsed = [parse_spec(s) for s in specs]
    tokens: list[str] = []
    held: list[str] = []
    try:
        for spec in parsed:
            if isinstance(spec, dict):
                token = client.reserve(spec)
                tokens.append(token)
                name = client.place_of(token)
            else:
                name = spec
            if name in held:
                raise ConfigError("--labgrid", f"place {name} is asked for twice")
            client.run("acquire", place=name)
            held.append(name)
        yield held
    finally:
        errors = []
        for name in reversed(held):
            try:
                client.run("release", place=name)
            except RigDeviceError as exc:
                errors.append(str(exc))
        for token in tokens:
            try:
                client.run("cancel-reservation", token)
            except RigDeviceError as exc:
                errors.append(str(exc))
        if errors:
            if sys.exc_info()[0] is None:
                raise RigDeviceError("labgrid", "; ".join(errors))
            # The run's own error wins; the places left held are still said.
            get_logger(coordinator=coordinator).warning("labgrid release failed",
                                                        errors=errors)
