"""read_toml: every failure but a missing file is a ConfigError naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from modemctl.errors import ConfigError
from modemctl.tomlfile import read_toml


def test_reads_utf8_toml(tmp_path: Path) -> None:
    p = tmp_path / "ok.toml"
    p.write_text('[line.office]\nport = "/dev/ttyS0"  # caf\u00e9\n', encoding="utf-8")
    assert read_toml(p) == {"line": {"office": {"port": "/dev/ttyS0"}}}


@pytest.mark.parametrize(("content", "reason"), [
    (b"port = \n", "not valid TOML"),
    (b"name = \"\xff\xfe\"\n", "not UTF-8 text (byte 8)"),
])
def test_bad_content_names_file_and_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    p = tmp_path / "bad.toml"
    p.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        read_toml(p)
    assert err.value.source == str(p) and err.value.reason.startswith(reason)


def test_unreadable_is_config_error_and_missing_is_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_toml(tmp_path)                       # a directory
    with pytest.raises(FileNotFoundError):
        read_toml(tmp_path / "absent.toml")
