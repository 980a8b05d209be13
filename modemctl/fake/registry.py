"""Registry of running fake exchanges, so other processes can find their lines.

Each ``modemctl fake run`` process writes one JSON file,
``exchange-<pid>.json``, into a per-user runtime directory: its PID, the
process start time, its control socket and its lines.  ``modemctl ports``
and ``modemctl fake ring/inject/...`` read these files instead of talking to
every process.

Why files and not a daemon: a crashed exchange cannot leave a broker in a
bad state; a reader simply ignores (and removes) the file of a PID that is
gone.  The PID is checked together with the process start time from
``/proc/<pid>/stat``, so a recycled PID does not resurrect a dead entry.
Files are written to a temporary name and renamed, so a reader never sees a
half-written entry.

The directory mirrors ``platformdirs.user_runtime_dir("modemctl")`` on
Linux (plus ``/fake``) without importing platformdirs: ``modemctl.fake``
depends only on the standard library, pyserial and ``modemctl.log`` (see
docs/design.md).  ``MODEMCTL_FAKE_DIR`` overrides it (tests use that).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from modemctl.log import get_logger

_log = get_logger()

ENV_DIR = "MODEMCTL_FAKE_DIR"
"""Environment variable that overrides the registry directory."""

FORMAT_VERSION = 1
_PREFIX = "exchange-"
_SUFFIX = ".json"
_SOCK_SUFFIX = ".sock"
_TMP_PREFIX = ".tmp-"
LINK_DIR_PREFIX = "modemctl-fake-"
"""Prefix of the temporary directory an Exchange makes for its device links."""
_TMP_MAX_AGE = 60.0  # seconds; a live writer renames its temp file within milliseconds
_MAX_ENTRY_BYTES = 1 << 20  # a registry file larger than this is not ours


class RegistryError(Exception):
    """The registry directory cannot be used (wrong owner, not a directory...)."""


@dataclass(frozen=True)
class FakeLineInfo:
    """One line of a running fake exchange, as ``modemctl ports`` shows it."""

    number: str
    personality: str
    port: str
    """The pty slave path, opened like ``/dev/ttyUSB0``."""
    url: str | None
    """``rfc2217://127.0.0.1:PORT`` when the line is also served over RFC 2217."""
    pid: int
    """PID of the exchange process that serves the line."""
    control: str | None
    """Path of that exchange's control socket, if it has one."""
    time_scale: float = 1.0
    """The exchange's time scale: a driver talking to this line should use the same."""

    def to_json(self) -> dict[str, Any]:
        """The line as a JSON-ready dict (the shape ``--json`` outputs use)."""
        return {"number": self.number, "personality": self.personality, "port": self.port,
                "url": self.url, "pid": self.pid, "control": self.control,
                "time_scale": self.time_scale}


def default_directory() -> Path:
    """Where registry files (and default control sockets) live.

    Same choice as platformdirs' ``user_runtime_dir("modemctl")`` on Linux:
    ``$XDG_RUNTIME_DIR`` when it is a private directory of ours, else
    ``/run/user/<uid>``, else ``<tmp>/runtime-<uid>``; then ``modemctl/fake``.
    """
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    uid = os.geteuid()
    xdg = os.environ.get("XDG_RUNTIME_DIR", "")
    candidates = [xdg] if xdg else []
    candidates.append(f"/run/user/{uid}")
    for cand in candidates:
        if cand and _private_dir(Path(cand), uid):
            return Path(cand) / "modemctl" / "fake"
    return Path(tempfile.gettempdir()) / f"runtime-{uid}" / "modemctl" / "fake"


def _private_dir(path: Path, uid: int) -> bool:
    try:
        st = path.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == uid
            and stat.S_IMODE(st.st_mode) & 0o077 == 0)


def ensure_directory(directory: Path | None = None) -> Path:
    """Create the registry directory (mode 0700) and check that it is ours."""
    d = directory or default_directory()
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = d.lstat()
    except FileExistsError:
        raise RegistryError(f"{d} is not a directory; set {ENV_DIR} to another path") from None
    except OSError as e:
        raise RegistryError(f"cannot create {d}: {e.strerror or e}; "
                            f"set {ENV_DIR} to another path") from None
    if not stat.S_ISDIR(st.st_mode):
        raise RegistryError(f"{d} is not a directory; set {ENV_DIR} to another path")
    if st.st_uid != os.geteuid():
        raise RegistryError(f"{d} belongs to another user; set {ENV_DIR} to another path")
    return d


def default_socket_path(directory: Path | None = None, pid: int | None = None) -> Path:
    """Default control socket of exchange process ``pid`` (default: this one), next to
    its registry entry; :func:`list_exchanges` removes it once the process is gone."""
    d = directory or default_directory()
    return d / f"{_PREFIX}{pid if pid is not None else os.getpid()}{_SOCK_SUFFIX}"


def process_start_time(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None if unknown/gone.

    Field 22 of ``/proc/<pid>/stat``; the command name (field 2) may contain
    spaces and parentheses, so the fields are counted after the last ``)``.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2:].split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def _alive(pid: int, start_time: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, belongs to someone else
    if start_time is None:
        return True
    now = process_start_time(pid)
    return now is None or now == start_time


class Registration:
    """The registry entry of this process; remove it with :meth:`remove` or ``with``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def remove(self) -> None:
        """Delete the entry (idempotent)."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> Registration:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.remove()


def register(lines: Iterable[tuple[str, str, str, str | None]], *, control: str | None,
             time_scale: float = 1.0, directory: Path | None = None,
             unplugged: Iterable[str] = ()) -> Registration:
    """Publish this process's lines: ``(number, personality, port, url)`` tuples.

    Calling it again for the same process replaces the entry atomically (use
    that when lines are added, unplugged or plugged back in).  ``unplugged``
    numbers are not lines anyone can open (``modemctl ports`` does not list
    them) but are still served: ``modemctl fake inject N replug`` finds them.
    """
    d = ensure_directory(directory)
    pid = os.getpid()
    records = [{"number": n, "personality": p, "port": port, "url": url}
               for n, p, port, url in lines]
    doc = {
        "version": FORMAT_VERSION,
        "pid": pid,
        "start_time": process_start_time(pid),
        "control": control,
        "time_scale": time_scale,
        "lines": records,
        "unplugged": sorted(unplugged),
    }
    target = d / f"{_PREFIX}{pid}{_SUFFIX}"
    try:
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=_SUFFIX, dir=d)
    except OSError as e:
        raise RegistryError(f"cannot write in {d}: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise RegistryError(f"cannot write {target}: {e.strerror or e}") from None
        raise
    _log.debug("registered", path=str(target), lines=len(records))
    return Registration(target)


@dataclass(frozen=True)
class ExchangeEntry:
    """One running exchange process as read from the registry."""

    pid: int
    control: str | None
    time_scale: float
    lines: tuple[FakeLineInfo, ...]
    path: Path
    unplugged: tuple[str, ...] = ()
    """Numbers of lines this exchange serves that are unplugged (no device now)."""

    def serves(self, number: str) -> bool:
        """True when this exchange has line ``number``, plugged in or not."""
        return number in self.unplugged or any(ln.number == number for ln in self.lines)


def _parse(path: Path, doc: Any) -> ExchangeEntry | None:
    if not isinstance(doc, dict) or doc.get("version") != FORMAT_VERSION:
        return None
    pid, control, lines = doc.get("pid"), doc.get("control"), doc.get("lines")
    if not isinstance(pid, int) or not isinstance(lines, list):
        return None
    if control is not None and not isinstance(control, str):
        return None
    raw_scale = doc.get("time_scale", 1.0)
    scale = float(raw_scale) if isinstance(raw_scale, int | float) and raw_scale > 0 else 1.0
    out = []
    for item in lines:
        if not isinstance(item, dict):
            return None
        number, pers, port, url = (item.get(k) for k in ("number", "personality", "port", "url"))
        if not (isinstance(number, str) and isinstance(pers, str) and isinstance(port, str)
                and (url is None or isinstance(url, str))):
            return None
        out.append(FakeLineInfo(number, pers, port, url, pid, control, scale))
    unplugged = doc.get("unplugged", [])
    if not isinstance(unplugged, list) or not all(isinstance(n, str) for n in unplugged):
        return None
    return ExchangeEntry(pid, control, scale, tuple(out), path, tuple(unplugged))


def list_exchanges(directory: Path | None = None, *, clean: bool = True) -> list[ExchangeEntry]:
    """Running exchanges, oldest PID first; entries of dead processes are removed.

    Unreadable or malformed files are skipped (and removed when the PID in
    their name is gone), so one bad file never hides the others.
    """
    d = directory or default_directory()
    try:
        names = sorted(os.listdir(d))
    except (FileNotFoundError, NotADirectoryError):
        return []
    entries: list[ExchangeEntry] = []
    for name in names:
        if name.startswith(_TMP_PREFIX):
            if clean:
                _remove_abandoned_temp(d / name)
            continue
        if name.startswith(_PREFIX) and name.endswith(_SOCK_SUFFIX):
            if clean:
                _remove_orphan_socket(d / name, name[len(_PREFIX):-len(_SOCK_SUFFIX)])
            continue
        if not (name.startswith(_PREFIX) and name.endswith(_SUFFIX)):
            continue
        path = d / name
        entry, start = _read_entry(path)
        pid = entry.pid if entry else _pid_from_name(name)
        alive = pid is not None and _alive(pid, start)
        if entry is not None and alive:
            entries.append(entry)
            continue
        if not alive and clean:
            _log.debug("stale registry entry removed", path=str(path))
            if entry is not None:
                _remove_device_links(entry)
            with contextlib.suppress(OSError):
                path.unlink()
    entries.sort(key=lambda e: e.pid)
    return entries


def _remove_device_links(entry: ExchangeEntry) -> None:
    """Remove the dangling device links of an exchange that died without
    cleaning up (SIGKILL), and the link directory if the exchange made it
    (``modemctl-fake-*``) and nothing else is left in it."""
    dirs: set[Path] = set()
    for line in entry.lines:
        link = Path(line.port)
        with contextlib.suppress(OSError):
            if link.is_symlink():
                link.unlink()
                dirs.add(link.parent)
    for d in dirs:
        if d.name.startswith(LINK_DIR_PREFIX):
            with contextlib.suppress(OSError):
                d.rmdir()          # only if empty


def _remove_abandoned_temp(path: Path) -> None:
    """Remove a temporary file a writer killed mid-write left (older than a minute)."""
    with contextlib.suppress(OSError):
        if time.time() - path.lstat().st_mtime > _TMP_MAX_AGE:
            path.unlink()


def _remove_orphan_socket(path: Path, pid_text: str) -> None:
    """Remove the default control socket of a process that is gone (killed, crashed)."""
    try:
        pid = int(pid_text)
    except ValueError:
        return
    if _alive(pid, None):
        return
    with contextlib.suppress(OSError):
        if stat.S_ISSOCK(path.lstat().st_mode):
            path.unlink()
            _log.debug("stale control socket removed", path=str(path))


def _read_entry(path: Path) -> tuple[ExchangeEntry | None, int | None]:
    """The parsed entry (None if unreadable/malformed) and its recorded start time."""
    try:
        with path.open("rb") as f:
            raw = f.read(_MAX_ENTRY_BYTES + 1)
        if len(raw) > _MAX_ENTRY_BYTES:
            return None, None
        doc = json.loads(raw)
    except (OSError, ValueError):
        return None, None
    entry = _parse(path, doc)
    start = doc.get("start_time") if entry is not None else None
    return entry, start if isinstance(start, int) else None


def _pid_from_name(name: str) -> int | None:
    try:
        return int(name[len(_PREFIX):-len(_SUFFIX)])
    except ValueError:
        return None


def list_running_lines(directory: Path | None = None) -> list[FakeLineInfo]:
    """Every plugged-in line of every running fake exchange (for ``modemctl ports``)."""
    return [line for entry in list_exchanges(directory) for line in entry.lines]


def find_running_line(port: str, directory: Path | None = None) -> FakeLineInfo | None:
    """The running fake line reached through ``port`` (its device path, the pty it
    links to, or its RFC 2217 URL), or None; lets a client pick up the line's
    time scale."""
    try:
        real = os.path.realpath(port)
    except (OSError, ValueError):
        real = port
    for line in list_running_lines(directory):
        if port in (line.port, line.url) or real == os.path.realpath(line.port):
            return line
    return None
