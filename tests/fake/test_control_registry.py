"""The registry of running fake exchanges (``modemctl.fake.registry``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import platformdirs
import pytest

from modemctl.fake import registry
from modemctl.fake.registry import FakeLineInfo, list_exchanges, list_running_lines, register

LINES = [("5551001", "conexant-v92", "/dev/pts/7", None),
         ("5551002", "agere-v92", "/dev/pts/8", "rfc2217://127.0.0.1:4000")]


def test_register_then_list_then_remove(tmp_path: Path) -> None:
    reg = register(LINES, control="/run/x.sock", time_scale=0.5, directory=tmp_path)
    assert reg.path.name == f"exchange-{os.getpid()}.json"
    assert oct(reg.path.stat().st_mode & 0o777) == oct(0o600)
    lines = list_running_lines(tmp_path)
    assert lines == [
        FakeLineInfo("5551001", "conexant-v92", "/dev/pts/7", None, os.getpid(), "/run/x.sock",
                     0.5),
        FakeLineInfo("5551002", "agere-v92", "/dev/pts/8", "rfc2217://127.0.0.1:4000",
                     os.getpid(), "/run/x.sock", 0.5),
    ]
    (entry,) = list_exchanges(tmp_path)
    assert entry.time_scale == 0.5
    assert lines[1].to_json()["url"] == "rfc2217://127.0.0.1:4000"
    reg.remove()
    reg.remove()  # idempotent
    assert list_running_lines(tmp_path) == []


def test_reregister_replaces_atomically_and_leaves_no_temp_files(tmp_path: Path) -> None:
    with register(LINES[:1], control=None, directory=tmp_path):
        register(LINES, control=None, directory=tmp_path)
        assert [i.number for i in list_running_lines(tmp_path)] == ["5551001", "5551002"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [f"exchange-{os.getpid()}.json"]
    assert list(tmp_path.iterdir()) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=10)
    return proc.pid


def _write(directory: Path, pid: int, doc: object) -> Path:
    path = directory / f"exchange-{pid}.json"
    path.write_text(json.dumps(doc))
    return path


def test_entries_of_dead_processes_are_ignored_and_removed(tmp_path: Path) -> None:
    pid = _dead_pid()
    stale = _write(tmp_path, pid, {"version": 1, "pid": pid, "control": None, "lines": [
        {"number": "5550000", "personality": "x", "port": "/dev/pts/99", "url": None}]})
    with register(LINES, control=None, directory=tmp_path):
        assert {i.pid for i in list_running_lines(tmp_path)} == {os.getpid()}
    assert not stale.exists()


def test_recycled_pid_is_detected_by_start_time(tmp_path: Path) -> None:
    # Our own PID, but a start time that is not ours: a previous process that had this PID.
    start = registry.process_start_time(os.getpid())
    assert start is not None
    path = _write(tmp_path, os.getpid(), {
        "version": 1, "pid": os.getpid(), "start_time": start - 1, "control": None,
        "lines": [{"number": "1", "personality": "x", "port": "/dev/pts/1", "url": None}]})
    assert list_running_lines(tmp_path) == []
    assert not path.exists()


@pytest.mark.parametrize("content", [
    "{not json", "[]", '{"version": 99, "pid": 1, "lines": []}',
    '{"version": 1, "pid": "one", "lines": []}',
    '{"version": 1, "pid": 1, "lines": [{"number": 5}]}',
])
def test_malformed_entries_are_skipped_without_hiding_others(tmp_path: Path,
                                                             content: str) -> None:
    # Named after a live PID (ours via the parent), so it is skipped but kept.
    bad = tmp_path / f"exchange-{os.getppid()}.json"
    bad.write_text(content)
    with register(LINES, control=None, directory=tmp_path):
        assert len(list_running_lines(tmp_path)) == 2
    assert bad.exists()


def test_malformed_entry_of_dead_pid_is_removed(tmp_path: Path) -> None:
    bad = tmp_path / f"exchange-{_dead_pid()}.json"
    bad.write_text("{half")
    assert list_running_lines(tmp_path) == []
    assert not bad.exists()


def test_missing_directory_lists_nothing(tmp_path: Path) -> None:
    assert list_running_lines(tmp_path / "nope") == []


def test_directory_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(registry.RegistryError, match="cannot create"):
        register(LINES, control=None, directory=f / "sub")
    link = tmp_path / "link"
    link.symlink_to(f)
    with pytest.raises(registry.RegistryError, match="not a directory"):
        registry.ensure_directory(link)


def test_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(registry.ENV_DIR, str(tmp_path))
    assert registry.default_directory() == tmp_path
    with register(LINES, control=None):
        assert len(list_running_lines()) == 2


@pytest.mark.parametrize("xdg", [True, False])
def test_default_directory_matches_platformdirs(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path, xdg: bool) -> None:
    monkeypatch.delenv(registry.ENV_DIR, raising=False)
    if xdg:
        run = tmp_path / "run"
        run.mkdir(mode=0o700)
        monkeypatch.setenv("XDG_RUNTIME_DIR", str(run))
    else:
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = Path(platformdirs.user_runtime_dir("modemctl")) / "fake"
    assert registry.default_directory() == expected


def test_process_start_time_of_missing_process_is_none() -> None:
    assert registry.process_start_time(_dead_pid()) is None


def test_find_running_line_by_link_target_or_url(tmp_path: Path) -> None:
    target = tmp_path / "pts-7"
    target.write_text("")
    link = tmp_path / "tty5551001"
    link.symlink_to(target)
    with register([("5551001", "conexant-v92", str(link), None),
                   ("5551002", "agere-v92", "/dev/pts/8", "rfc2217://127.0.0.1:4000")],
                  control=None, time_scale=0.05, directory=tmp_path):
        by_link = registry.find_running_line(str(link), tmp_path)
        by_target = registry.find_running_line(str(target), tmp_path)
        by_url = registry.find_running_line("rfc2217://127.0.0.1:4000", tmp_path)
        assert by_link is not None and by_link == by_target
        assert by_link.number == "5551001" and by_link.time_scale == 0.05
        assert by_url is not None and by_url.number == "5551002"
        assert registry.find_running_line("/dev/ttyUSB0", tmp_path) is None


def test_bad_time_scale_in_entry_falls_back_to_real_time(tmp_path: Path) -> None:
    _write(tmp_path, os.getpid(), {
        "version": 1, "pid": os.getpid(), "control": None, "time_scale": -3,
        "lines": [{"number": "1", "personality": "x", "port": "/dev/pts/1", "url": None}]})
    (line,) = list_running_lines(tmp_path)
    assert line.time_scale == 1.0


def test_default_socket_path(tmp_path: Path) -> None:
    assert registry.default_socket_path(tmp_path, 12) == tmp_path / "exchange-12.sock"
    assert registry.default_socket_path(tmp_path).name == f"exchange-{os.getpid()}.sock"


def test_sockets_of_dead_processes_are_removed(tmp_path: Path) -> None:
    import socket

    def bound(path: Path) -> None:
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(path))
        s.close()

    dead = registry.default_socket_path(tmp_path, _dead_pid())
    live = registry.default_socket_path(tmp_path)
    bound(dead)
    bound(live)
    not_a_socket = tmp_path / f"exchange-{_dead_pid()}.sock"
    not_a_socket.write_text("")
    odd = tmp_path / "exchange-x.sock"
    bound(odd)
    list_exchanges(tmp_path)
    assert not dead.exists()
    assert live.exists() and not_a_socket.exists() and odd.exists()
    list_exchanges(tmp_path, clean=False)


def test_abandoned_temp_files_are_removed_fresh_ones_kept(tmp_path: Path) -> None:
    old = tmp_path / ".tmp-abc.json"
    old.write_text("{half")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / ".tmp-def.json"
    fresh.write_text("{half")
    assert list_running_lines(tmp_path) == []
    assert not old.exists() and fresh.exists()
