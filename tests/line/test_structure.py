"""The line and its calls know each other only through public, typed faces (issue 7).

``line.py`` used to reach into ``call.py``'s privates (``_finish``,
``_set_state``, ``_require``) while ``call.py`` imported ``Line``: a circle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import modemctl.line.call as call_module
import modemctl.line.line as line_module
from modemctl.errors import InvalidCallState
from modemctl.line.states import TRANSITIONS, CallState, check_transition


def _tree(module: object) -> ast.Module:
    return ast.parse(Path(str(getattr(module, "__file__", ""))).read_text())


def test_call_module_does_not_import_the_line_module() -> None:
    imported = {node.module for node in ast.walk(_tree(call_module))
                if isinstance(node, ast.ImportFrom)}
    assert "modemctl.line.line" not in imported


@pytest.mark.parametrize("module", [line_module, call_module], ids=["line", "call"])
def test_no_private_attribute_of_another_object_is_used(module: object) -> None:
    foreign = sorted(
        f"{ast.unparse(node.value)}.{node.attr} (line {node.lineno})"
        for node in ast.walk(_tree(module))
        if isinstance(node, ast.Attribute) and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")))
    assert foreign == []


def test_every_state_can_end_and_nothing_leaves_disconnected() -> None:
    for state in CallState:
        if state is not CallState.DISCONNECTED:
            assert CallState.DISCONNECTED in TRANSITIONS[state], state
    assert TRANSITIONS[CallState.DISCONNECTED] == frozenset()


@pytest.mark.parametrize(("old", "new"), [
    (CallState.DISCONNECTED, CallState.CONNECTED),
    (CallState.IDLE, CallState.CONNECTED),
    (CallState.OFFERING, CallState.DIALING),
    (CallState.CONNECTED, CallState.RINGBACK),
])
def test_an_illegal_change_of_state_raises(old: CallState, new: CallState) -> None:
    with pytest.raises(InvalidCallState, match=f"from {old.name} to {new.name}"):
        check_transition("near#1", old, new)


def test_errors_module_imports_the_line_layer_for_the_type_checker_only() -> None:
    import modemctl.errors as errors_module
    tree = _tree(errors_module)
    guarded = {id(n) for node in ast.walk(tree)
               if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
               for n in ast.walk(node)}
    runtime = [ast.unparse(node) for node in ast.walk(tree)
               if isinstance(node, ast.ImportFrom | ast.Import) and id(node) not in guarded
               and "modemctl" in ast.unparse(node)]
    # modemctl.log (secret masking) imports nothing of ours; the line layer is out.
    assert [imp for imp in runtime if not imp.startswith("from modemctl.log import")] == []
    assert errors_module.OperationUnavailable.__init__.__annotations__["report"] \
        == "SecureReport | None"
