"""Fixtures for the session tests: two lines on a fake exchange (shared with tests/line)."""

from tests.line.conftest import make_pair

__all__ = ["make_pair"]
