"""Fixtures for the transport tests: a raw pty pair standing in for a serial port."""

from __future__ import annotations

import contextlib
import os
import tty
from collections.abc import Iterator

import pytest


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    """(master descriptor, slave path) of a raw pty; both ends closed afterwards."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        yield master, path
    finally:
        for fd in (master, slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
def pty_path(pty_pair: tuple[int, str]) -> str:
    """The slave path of :func:`pty_pair`, for tests that never touch the master."""
    return pty_pair[1]
