"""The README's command line section is true: its examples run, and it names every option.

The console examples are run as written (``/dev/ttyUSB0`` and the line
``office`` are a fake Conexant line, ``5551234`` a fake Agere line answered by
``modemctl answer``), each must exit as its shown output says, and every
output line shown that does not depend on the machine (paths, times, column
wrapping) must be printed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from modemctl.cli import main
from tests.cli.procs import Fake, Proc, fake_exchange, far_end, port_of

README = Path(__file__).resolve().parents[2] / "README.md"
OFFICE, FAR = "5551001", "5551234"
#: Console examples that do not run against a fake exchange, and why.
NOT_RUN = {
    "modemctl demo": "runs its own exchange; tested in test_demo.py",
}


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def console_examples() -> list[tuple[str, list[str]]]:
    """(command, shown output lines) for each ``$ `` line of the Command line section."""
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section("Command line"), re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                command = re.sub(r"\s+#.*$", "", line[2:]).strip()
                examples.append((command, []))
            elif examples and line.strip() and not line.lstrip().startswith("#"):
                examples[-1][1].append(line)
    return examples


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[Fake]:
    with fake_exchange(tmp_path, f"{OFFICE}:conexant-v92", f"{FAR}:agere-v92") as (doc, env):
        office = next(str(ln["port"]) for ln in doc["lines"] if ln["number"] == OFFICE)
        (tmp_path / "config.toml").write_text(
            f'[line.office]\nport = "{office}"\nlocation = "US"\nsecure = true\n')
        bin_dir = Path(sys.executable).parent
        yield doc, {**env, "PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "COLUMNS": "100"}


def login_far_end(doc: dict[str, Any], env: dict[str, str]) -> Proc:
    """The far end of the README's login example: prompts, expects, welcomes."""
    return far_end(doc, env, "--send", "login: ", "--expect", "LOGIN guest",
                   "--send", r"welcome guest\r\n", number=FAR)


def comparable(line: str) -> bool:
    """Shown output that any machine prints the same way (no paths, times, wrapping).

    ``~.`` is what the user types in the interactive example, not output.
    """
    if line.strip() == "~.":
        return False
    return not ("..." in line or line.startswith(("[", "serial ", "fake ", " " * 20))
                or "/tmp/" in line or re.match(r"\s+\d+\.\d+s", line))


def squash(text: str) -> str:
    return " ".join(text.split())


def test_the_readme_console_examples_run(fake: Fake, tmp_path: Path) -> None:
    doc, env = fake
    office = port_of(doc, OFFICE)
    examples = console_examples()
    assert len(examples) >= 8, examples
    ran = 0
    for command, shown in examples:
        if command in NOT_RUN:
            continue
        far = login_far_end(doc, env) if FAR in command else None
        try:
            result = subprocess.run(["bash", "-c", command.replace("/dev/ttyUSB0", office)],
                                    cwd=tmp_path, env=env, capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=60, check=False)
        finally:
            if far is not None:
                far.stop()
        ran += 1
        if "> reply.txt" in command:       # the scripted call got the whole reply
            assert (tmp_path / "reply.txt").read_bytes() == b"login: welcome guest\r\n"
        output = squash(result.stdout + "\n" + result.stderr)
        failing = any(line.startswith("error:") for line in shown)
        assert (result.returncode != 0) == failing, (command, result.returncode, result.stderr)
        for line in shown:
            if comparable(line):
                expected = squash(line.replace("/dev/ttyUSB0", office))
                assert expected in output, (command, line, result.stdout, result.stderr)
    assert ran >= 7


def test_the_sync_facade_example_runs(fake: Fake, tmp_path: Path) -> None:
    doc, env = fake
    (code,) = re.findall(r"```python\n(from modemctl.line import sync\n.*?)```",
                         section("Python API"), re.S)
    script = tmp_path / "example.py"
    script.write_text(code.replace("/dev/ttyUSB0", port_of(doc, OFFICE)))
    far = login_far_end(doc, env)
    try:
        result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                                text=True, timeout=60, check=False)
    finally:
        far.stop()
    assert result.returncode == 0, result.stderr
    assert "CallState.CONNECTED" in result.stdout and "login: " in result.stdout
    assert "welcome guest" in result.stdout


def long_options(command: click.Command) -> set[str]:
    return {opt for p in command.params if isinstance(p, click.Option)
            for opt in (*p.opts, *p.secondary_opts) if opt.startswith("--") and opt != "--help"}


def test_help_and_readme_name_the_same_options() -> None:
    ctx = click.Context(main)
    text = section("Command line")
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", text))
    known = long_options(main)
    for name in ("ports", "probe", "dial", "answer", "at", "demo"):
        command = main.get_command(ctx, name)
        assert command is not None
        options = long_options(command)
        known |= options
        missing = options - named
        assert not missing, f"`modemctl {name} --help` options not in the README: {missing}"
    missing = long_options(main) - named
    assert not missing, f"global options not in the README: {missing}"
    for group in ("fax", "identity"):
        options = long_options_of_group(ctx, group)
        known |= options
        missing = options - named
        assert not missing, f"`modemctl {group} ...` options not in the README: {missing}"
    stale = named - known - {"--help"} - long_options_of_group(ctx, "fake")
    assert not stale, f"README options that no command has: {stale}"


def long_options_of_group(ctx: click.Context, name: str) -> set[str]:
    group = main.get_command(ctx, name)
    assert isinstance(group, click.Group)
    found = set()
    for sub in group.list_commands(ctx):
        command = group.get_command(ctx, sub)
        if command is not None:
            found |= long_options(command)
    return found
