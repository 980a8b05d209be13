"""Output files appear whole or not at all.

A fax written to disk is often picked up by another program watching the
directory; it must never see half a file, and a failed write must leave
nothing behind.  So every output goes to a temporary file in the target's
directory and is renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from modemctl.errors import FaxError


def write_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file and a rename.

    The temporary file is created with mode 0666 so the umask applies, as
    for any ordinary file (``tempfile.mkstemp`` would leave it 0600).
    """
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise FaxError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise FaxError(f"cannot write {target}: {exc.strerror or exc}") from exc
