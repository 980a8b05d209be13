"""Learn that a client opened a pty without polling: Linux inotify on the slave device.

Until a client opens the slave, the master of a pty reads EIO and polls as
readable (hang-up) all the time, so the event loop cannot simply wait on it;
the fallback is to try a read now and then.  inotify reports ``IN_OPEN`` on a
``/dev/pts/N`` node like on any file, so an idle line can wait on one shared
inotify descriptor and cost nothing until someone opens it.  The standard
library has no inotify binding; the three libc calls are made with ctypes.
Where inotify is missing, :func:`open_watcher` returns None and the caller
polls as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import struct
import sys
from collections.abc import Callable

IN_OPEN = 0x00000020
"""inotify event: the watched file was opened."""
_EVENT = struct.Struct("iIII")          # wd, mask, cookie, length of the name that follows


class OpenWatcher:
    """One inotify descriptor on one event loop, shared by every pty of the process."""

    def __init__(self, loop: asyncio.AbstractEventLoop, libc: ctypes.CDLL) -> None:
        self._loop = loop
        self._libc = libc
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self._fd = fd
        self._callbacks: dict[int, Callable[[], None]] = {}
        loop.add_reader(fd, self._readable)

    def watch(self, path: str, on_open: Callable[[], None]) -> int:
        """Call ``on_open()`` whenever ``path`` is opened; returns the watch id."""
        wd = self._libc.inotify_add_watch(self._fd, os.fsencode(path), IN_OPEN)
        if wd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), path)
        self._callbacks[wd] = on_open
        return int(wd)

    def unwatch(self, wd: int) -> None:
        """Stop watching (call before the file goes away, so the id is not reused)."""
        if self._callbacks.pop(wd, None) is not None:
            self._libc.inotify_rm_watch(self._fd, wd)
        if not self._callbacks:
            self._close()

    def _readable(self) -> None:
        try:
            data = os.read(self._fd, 65536)
        except BlockingIOError:
            return
        pos = 0
        due: list[Callable[[], None]] = []
        while pos + _EVENT.size <= len(data):
            wd, mask, _cookie, length = _EVENT.unpack_from(data, pos)
            pos += _EVENT.size + length
            callback = self._callbacks.get(wd)
            if mask & IN_OPEN and callback is not None and callback not in due:
                due.append(callback)
        for callback in due:
            callback()

    def _close(self) -> None:
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        _watchers.pop(self._loop, None)


_watchers: dict[asyncio.AbstractEventLoop, OpenWatcher] = {}


def open_watcher() -> OpenWatcher | None:
    """The running loop's watcher, made on first use; None where inotify is missing."""
    loop = asyncio.get_running_loop()
    watcher = _watchers.get(loop)
    if watcher is not None:
        return watcher
    if not sys.platform.startswith("linux"):
        return None
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        watcher = _watchers[loop] = OpenWatcher(loop, libc)
    return watcher
