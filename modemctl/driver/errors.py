"""Errors the engine adds to :mod:`modemctl.errors` (derived from its classes)."""

from __future__ import annotations

from modemctl.errors import OperationFailed


class CallLost(OperationFailed):
    """The call ended (NO CARRIER, DCD drop, port gone) while an operation on it
    was in progress, e.g. the carrier dropped during ``escape()``."""
