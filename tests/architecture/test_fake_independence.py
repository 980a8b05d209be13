"""The fake is an independent implementation: it must not import the driver side.

design.md: "modemctl/fake imports only the standard library, pyserial and
structlog".  Imports are read with ``ast`` (not by importing), so a violation
inside a function or an ``if TYPE_CHECKING`` block is caught too.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

FAKE = Path(__file__).resolve().parents[2] / "modemctl" / "fake"
FORBIDDEN = ("at", "driver", "transport", "line", "profiles", "locations", "cli", "errors")
ALLOWED_THIRD_PARTY = ("serial", "structlog")
# Logging plumbing only (quiet until the application configures structlog);
# it knows nothing of the protocol, so it cannot make the two sides agree.
ALLOWED_MODEMCTL = ("modemctl.log",)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against modemctl.fake
                base = "modemctl.fake" if node.level == 1 else "modemctl"
                names.append(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.append(node.module)
    return names


def _violations(path: Path) -> list[str]:
    """Imports of ``path`` that break the independence rule."""
    bad: list[str] = []
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "modemctl":
            if name not in ALLOWED_MODEMCTL and (len(parts) < 2 or parts[1] != "fake"):
                bad.append(name)
        elif parts[0] not in sys.stdlib_module_names and parts[0] not in ALLOWED_THIRD_PARTY \
                and parts[0] != "__future__":
            bad.append(name)
    return bad


def _fake_modules() -> list[Path]:
    return sorted(FAKE.rglob("*.py"))


def test_there_are_modules_to_check() -> None:
    assert len(_fake_modules()) >= 5


@pytest.mark.parametrize("path", _fake_modules(), ids=lambda p: p.name)
def test_fake_module_imports_only_stdlib_pyserial_structlog(path: Path) -> None:
    assert _violations(path) == []


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_checker_catches_forbidden_import(forbidden: str, tmp_path: Path) -> None:
    """The checker sees absolute, relative and function-local imports of the driver side."""
    src = tmp_path / "mod.py"
    src.write_text(f"from modemctl.{forbidden} import thing\n"
                   f"from .. import {forbidden}\n"
                   f"def f():\n    import modemctl.{forbidden}.sub\n"
                   "import serial, structlog, os\nfrom . import dce\n")
    assert _violations(src) == [f"modemctl.{forbidden}", "modemctl", f"modemctl.{forbidden}.sub"]


def test_checker_catches_third_party(tmp_path: Path) -> None:
    src = tmp_path / "mod.py"
    src.write_text("import click\nimport platformdirs.api\n")
    assert _violations(src) == ["click", "platformdirs.api"]
