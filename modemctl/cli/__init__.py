"""The ``modemctl`` command line (entry point ``modemctl.cli:main``)."""

from modemctl.cli.main import main

__all__ = ["main"]
