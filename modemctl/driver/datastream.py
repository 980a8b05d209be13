"""The call's data stream: bytes the far end sent, waiting for :meth:`Engine.read`.

Why a module of its own: the buffer has rules the rest of the engine must
not have to know.  It is bounded by back-pressure, not by dropping: at
:data:`DATA_HIGH_WATER` unread bytes :meth:`DataStream.put` says the stream
is full and the engine stops taking bytes from the port (the transport, the
modem and the port buffer the rest, and hardware flow control slows the far
end), so no byte of a call is ever lost.  But the modem's answers to
control (``OK`` to ``+++``, ``NO CARRIER``) arrive *behind* that data, so a
reader held back would never see them: while a command or escape waits for
an answer the engine takes everything, and a hang-up discards what nobody
will read.  Stale bytes of an ended call are dropped when the next call
connects, so they never start the next call's stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

DATA_HIGH_WATER = 1 << 20    # unread data bytes before the reader stops reading


class DataStream:
    """Unread call data, the engine's back-pressure signal and the readers' wake-up."""

    def __init__(self, high_water: int = DATA_HIGH_WATER,
                 on_room: Callable[[], None] = lambda: None) -> None:
        self._high_water = high_water
        self._on_room = on_room           # told whenever reading may go on
        self._data = bytearray()
        self._ready = asyncio.Event()     # set when there is data or news for readers

    @property
    def buffered(self) -> int:
        """Bytes received and not yet read."""
        return len(self._data)

    def put(self, data: bytes) -> bool:
        """Append call data; True when the stream is now full (the engine
        stops reading unless a control operation waits for an answer, see
        the module docstring)."""
        self._data += data
        self._ready.set()
        return len(self._data) >= self._high_water

    def take(self, max_bytes: int) -> bytes:
        """Up to ``max_bytes`` of unread data (``b""`` if none), without waiting."""
        chunk = bytes(self._data[:max_bytes])
        del self._data[:max_bytes]
        if len(self._data) < self._high_water:
            self._on_room()
        return chunk

    async def wait(self) -> None:
        """Wait for data or for :meth:`wake` (the caller checks which)."""
        self._ready.clear()
        await self._ready.wait()

    def wake(self) -> None:
        """Wake readers without data: the call's state changed (ended, held)."""
        self._ready.set()

    def release(self) -> None:
        """Let a held-back engine read on (an answer is awaited behind the data)."""
        self._on_room()

    def discard(self) -> int:
        """Drop every unread byte and release the engine; returns how many."""
        n = len(self._data)
        self._data.clear()
        self._on_room()
        return n
