"""Blocking fax calls for scripts, on a line from ``modemctl.line.sync.open_line``.

    from modemctl.line import sync
    from modemctl.fax import sync as fax_sync
    with sync.open_line("/dev/ttyUSB0", location="US") as line:
        result = fax_sync.send(line, "5551234", "letter.pdf", timeout=600)
        print(result.ok, result.hangup.text)

Same arguments and results as :func:`modemctl.fax.send` and
:func:`modemctl.fax.receive`, plus ``timeout`` (real seconds; ``TimeoutError``
after it, the call hung up).  A ``progress`` callback runs in the line's
loop thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modemctl.fax import api
from modemctl.fax.api import FaxResult
from modemctl.fax.document import Document
from modemctl.line.sync import SyncLine


def send(line: SyncLine, number: str, document: Document, *, timeout: float | None = None,
         **options: Any) -> FaxResult:
    """:func:`modemctl.fax.send`, blocking."""
    return line.run(lambda async_line: api.send(async_line, number, document, **options),
                    timeout)


def receive(line: SyncLine, out_dir: str | Path, *, timeout: float | None = None,
            **options: Any) -> FaxResult:
    """:func:`modemctl.fax.receive` (one fax), blocking."""
    return line.run(lambda async_line: api.receive(async_line, out_dir, **options), timeout)
