"""UUCP lock files, the port-locking scheme other modem software honours.

HylaFAX, mgetty, efax, minicom and picocom all agree on ``LCK..<name>`` in
``/var/lock`` holding the owner's PID as ten ASCII digits and a newline (the
HoneyDanBer format).  A lock whose PID no longer runs is stale and is
removed.  The lock is created atomically: the PID is written to a private
temporary file that is then hard-linked to the lock name, so a reader never
sees a half-written lock.

Naming: the device path is resolved (symlinks followed) and made relative to
``/dev``, with ``/`` replaced by ``_``: ``/dev/ttyUSB0`` → ``LCK..ttyUSB0``,
``/dev/pts/3`` → ``LCK..pts_3`` (the basename alone, ``3``, would collide
between ``/dev/pts/3`` and ``/dev/3``).  Paths outside ``/dev`` use their
full path the same way.

Lock directory: ``$MODEMCTL_LOCK_DIR`` if set, else ``/var/lock``, else
``/run/lock``.  When no directory is writable the lock is skipped with a
warning rather than refusing to open: the OS-level exclusive open (flock)
still protects the port against other pyserial/picocom users.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from modemctl.errors import PortBusy, TransportError

LOCK_DIR_ENV = "MODEMCTL_LOCK_DIR"
DEFAULT_LOCK_DIRS = ("/var/lock", "/run/lock")


def lock_name(device: str) -> str:
    """The UUCP lock file name for a device path."""
    real = os.path.realpath(device)
    rel = real[len("/dev/"):] if real.startswith("/dev/") else real.lstrip("/")
    return "LCK.." + rel.replace("/", "_")


def lock_dir() -> Path | None:
    """The directory lock files go to, or None if none is usable."""
    env = os.environ.get(LOCK_DIR_ENV)
    candidates = (env,) if env else DEFAULT_LOCK_DIRS
    for d in candidates:
        p = Path(d)
        if p.is_dir() and os.access(p, os.W_OK | os.X_OK):
            return p
    return None


def read_lock_pid(path: Path) -> int | None:
    """The PID stored in a lock file (ASCII HDB, or 4-byte binary of old UUCP)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    text = raw.strip()
    if text.isdigit():
        return int(text)
    if len(raw) == 4:
        return int.from_bytes(raw, "little")
    return None


def process_name(pid: int) -> str | None:
    """The command name of a running process (``/proc/PID/comm``), if readable."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() or None
    except OSError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this PID exists (EPERM means it does)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def flock_holder(device: str) -> int | None:
    """The PID holding an flock/POSIX lock on ``device``, from ``/proc/locks``.

    Used to name the holder when the exclusive open fails but no UUCP lock
    file exists (another pyserial or picocom user).  None when unknown.
    """
    try:
        st = os.stat(device)
        table = Path("/proc/locks").read_text()
    except OSError:
        return None
    want = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for row in table.splitlines():
        parts = row.split()
        if len(parts) < 6 or parts[1] == "->":
            continue
        try:
            maj, mnr, ino = parts[5].split(":")
            key = (int(maj, 16), int(mnr, 16), int(ino))
            pid = int(parts[4])
        except ValueError:
            continue
        if key == want:
            return pid
    return None


class UucpLock:
    """One acquired ``LCK..`` file; :meth:`release` removes it if still ours."""

    def __init__(self, path: Path, pid: int) -> None:
        self.path = path
        self.pid = pid

    @classmethod
    def acquire(cls, device: str, url: str, log: Any, directory: Path | None = None
                ) -> UucpLock | None:
        """Take the lock for ``device`` or raise :class:`PortBusy` naming the holder.

        Returns None (and logs a warning) when no lock directory is writable.
        """
        d = directory if directory is not None else lock_dir()
        if d is None:
            log.warning("uucp-lock-skipped", reason="no writable lock directory",
                        tried=os.environ.get(LOCK_DIR_ENV) or ",".join(DEFAULT_LOCK_DIRS))
            return None
        path = d / lock_name(device)
        me = os.getpid()
        fd, tmp = tempfile.mkstemp(prefix=".LTMP.", dir=d)
        try:
            os.write(fd, f"{me:10d}\n".encode("ascii"))
            os.close(fd)
            os.chmod(tmp, 0o644)
            for _ in range(3):
                try:
                    os.link(tmp, path)
                except FileExistsError:
                    holder = read_lock_pid(path)
                    if holder is not None and holder != me and not pid_alive(holder):
                        log.info("uucp-lock-stale-removed", lock=str(path), pid=holder)
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
                        continue
                    if holder is None and _empty_or_garbage_old(path):
                        log.info("uucp-lock-garbage-removed", lock=str(path))
                        with contextlib.suppress(FileNotFoundError):
                            path.unlink()
                        continue
                    raise PortBusy(url, holder, str(path),
                                   process_name(holder) if holder else None) from None
                except OSError as e:
                    if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                        log.warning("uucp-lock-skipped", reason=str(e), lock=str(path))
                        return None
                    raise TransportError(f"cannot create lock {path}: {e}") from e
                else:
                    log.debug("uucp-lock-acquired", lock=str(path))
                    return cls(path, me)
            holder = read_lock_pid(path)
            raise PortBusy(url, holder, str(path), process_name(holder) if holder else None)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def release(self) -> None:
        """Remove the lock file, unless another process has since taken it over."""
        if read_lock_pid(self.path) == self.pid:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def _empty_or_garbage_old(path: Path) -> bool:
    """A lock with no readable PID is garbage once it is over a minute old
    (younger ones may be being written by a non-atomic locker)."""
    try:
        return time.time() - path.stat().st_mtime > 60
    except OSError:
        return False
