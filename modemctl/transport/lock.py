"""UUCP lock files, the port-locking scheme other modem software honours.

HylaFAX, mgetty, efax, minicom and picocom all agree on ``LCK..<name>`` in
``/var/lock`` holding the owner's PID as ten ASCII digits and a newline (the
HoneyDanBer format).  A lock whose PID no longer runs is stale and is
removed.  The lock is created atomically: the PID is written to a private
temporary file that is then hard-linked to the lock name, so a reader never
sees a half-written lock.

Naming: the device path is resolved (symlinks followed) and made relative to
``/dev``, with ``/`` replaced by ``_``: ``/dev/ttyUSB0`` → ``LCK..ttyUSB0``,
``/dev/pts/3`` → ``LCK..pts_3`` (the canonical name, see :func:`lock_name`).
Paths outside ``/dev`` use their full path the same way.

Aliases: other programs name the lock after the path *they* were given, by
its basename (minicom, picocom: ``/dev/modem`` → ``LCK..modem``, a ``by-id``
link → ``LCK..usb-…``, ``/dev/pts/3`` → ``LCK..3``) or ``/dev``-relative
(mgetty, HylaFAX).  A lock under one name alone therefore does not stop a
program that looks under another, so :func:`lock_names` lists every name the
port is known by - the canonical one first, then those of the resolved
device, every symlink hop of the given path, and the udev alias links in
:data:`ALIAS_DIRS` that lead to the same device - and the lock is checked and
taken under all of them.  Every modemctl takes the canonical name first, so
two of them racing through different aliases cannot both win.  A basename
can name two devices (two fake exchanges' ``/tmp/…/tty5551001`` links both
lock ``LCK..tty5551001``), so a live holder of an alias name counts only if
it has this very device open, or if its open files cannot be read: a holder
known to hold some other device is a name collision, and that name is
left to it.  The
exclusive open (flock) is kept as well: it is on the device itself and so
holds whatever name a pyserial or picocom user opened.

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
from typing import Any, Literal

from modemctl.errors import PortBusy, TransportError

LOCK_DIR_ENV = "MODEMCTL_LOCK_DIR"
DEFAULT_LOCK_DIRS = ("/var/lock", "/run/lock")


#: Where udev puts alias links to serial devices (``/dev/modem``, ``by-id``...).
ALIAS_DIRS = ("/dev", "/dev/serial/by-id", "/dev/serial/by-path")
#: Bound on symlink hops followed (a loop is cut rather than followed).
MAX_HOPS = 16


def lock_name(device: str) -> str:
    """The canonical UUCP lock file name for a device path (symlinks resolved)."""
    return _dev_relative_name(os.path.realpath(device))


def _dev_relative_name(path: str) -> str:
    rel = path[len("/dev/"):] if path.startswith("/dev/") else path.lstrip("/")
    return "LCK.." + rel.replace("/", "_")


def _symlink_hops(device: str) -> list[str]:
    """The given path and every symlink it passes through on its way to the device."""
    hops: list[str] = []
    path = os.path.abspath(device)
    for _ in range(MAX_HOPS):
        if not os.path.islink(path):
            break
        hops.append(path)
        try:
            target = os.readlink(path)
        except OSError:
            break
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return hops


def _alias_links(real: str, alias_dirs: tuple[str, ...]) -> list[str]:
    """Links in the udev alias directories that resolve to ``real``."""
    found: list[str] = []
    for d in alias_dirs:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            # /dev/stdin, /dev/fd... go through /proc/self: they name whatever
            # this process has open, not an alias of the device.
            if (entry.is_symlink() and not os.readlink(entry.path).startswith("/proc/")
                    and os.path.realpath(entry.path) == real):
                found.append(entry.path)
    return found


def lock_names(device: str, alias_dirs: tuple[str, ...] | None = None) -> list[str]:
    """Every UUCP lock name ``device`` may be locked under, canonical name first.

    For the resolved device and for each alias path: the ``/dev``-relative
    name (HylaFAX, mgetty, modemctl) and the basename (minicom, picocom).
    ``alias_dirs`` defaults to :data:`ALIAS_DIRS`.
    """
    if alias_dirs is None:
        alias_dirs = ALIAS_DIRS
    real = os.path.realpath(device)
    names = [_dev_relative_name(real), "LCK.." + os.path.basename(real)]
    for alias in (*_symlink_hops(device), *_alias_links(real, alias_dirs)):
        if alias.startswith("/dev/"):
            names.append(_dev_relative_name(alias))
        names.append("LCK.." + os.path.basename(alias))
    return list(dict.fromkeys(names))


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
    """The acquired ``LCK..`` files of one port (one per name it is known by);
    :meth:`release` removes each that is still ours."""

    def __init__(self, paths: list[Path], pid: int) -> None:
        self.paths = paths
        self.pid = pid

    @property
    def path(self) -> Path:
        """The lock under the canonical name."""
        return self.paths[0]

    @classmethod
    def acquire(cls, device: str, url: str, log: Any, directory: Path | None = None,
                alias_dirs: tuple[str, ...] | None = None) -> UucpLock | None:
        """Take the lock for ``device`` under every name it is known by, or raise
        :class:`PortBusy` naming the holder (nothing is left taken then).

        Returns None (and logs a warning) when no lock directory is writable.
        """
        d = directory if directory is not None else lock_dir()
        if d is None:
            log.warning("uucp-lock-skipped", reason="no writable lock directory",
                        tried=os.environ.get(LOCK_DIR_ENV) or ",".join(DEFAULT_LOCK_DIRS))
            return None
        me = os.getpid()
        fd, tmp = tempfile.mkstemp(prefix=".LTMP.", dir=d)
        taken = cls([], me)
        try:
            os.write(fd, f"{me:10d}\n".encode("ascii"))
            os.close(fd)
            os.chmod(tmp, 0o644)
            real = os.path.realpath(device)
            for i, name in enumerate(lock_names(device, alias_dirs)):
                path = d / name
                outcome = _link_lock(tmp, path, url, me, log, None if i == 0 else real)
                if outcome == "refused":
                    taken.release()
                    return None
                if outcome == "taken":
                    taken.paths.append(path)
        except BaseException:
            taken.release()
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        log.debug("uucp-lock-acquired", locks=[str(p) for p in taken.paths])
        return taken

    def release(self) -> None:
        """Remove the lock files, except any another process has since taken over."""
        for path in self.paths:
            if read_lock_pid(path) == self.pid:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def holds_device(pid: int, real: str) -> bool | None:
    """Whether process ``pid`` has the device ``real`` open; None when its open
    files cannot be read (another user's process, no /proc)."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}") == real:
                return True
    return False


def _link_lock(tmp: str, path: Path, url: str, me: int, log: Any, alias_of: str | None
               ) -> Literal["taken", "collision", "refused"]:
    """Hard-link the PID file ``tmp`` to the lock ``path``, removing a stale lock
    there first.  ``refused`` when the lock directory refuses us (locking
    skipped); ``collision`` when ``path`` is an alias name (of the device
    ``alias_of``) held by a process that demonstrably has another device;
    :class:`PortBusy` when a live process holds it."""
    for _ in range(3):
        try:
            os.link(tmp, path)
        except FileExistsError:
            holder = read_lock_pid(path)
            if (alias_of is not None and holder is not None and pid_alive(holder)
                    and holds_device(holder, alias_of) is False):
                log.info("uucp-lock-name-collision", lock=str(path), pid=holder)
                return "collision"
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
                return "refused"
            raise TransportError(f"cannot create lock {path}: {e}") from e
        else:
            return "taken"
    holder = read_lock_pid(path)
    raise PortBusy(url, holder, str(path), process_name(holder) if holder else None)


def _empty_or_garbage_old(path: Path) -> bool:
    """A lock with no readable PID is garbage once it is over a minute old
    (younger ones may be being written by a non-atomic locker)."""
    try:
        return time.time() - path.stat().st_mtime > 60
    except OSError:
        return False
