"""The config file of named lines, and how PORT is resolved against it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modemctl.cli.config import config_path, load_config
from modemctl.cli.target import NoPortGiven, UnknownLine, resolve
from modemctl.errors import ConfigError

GOOD = """
[line.office]
port = "/dev/ttyUSB0"
location = "US"
secure = true

[line.lab]
port = "rfc2217://127.0.0.1:7000"
secure = "best-effort"
baudrate = 57600
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_lines_are_read_with_their_settings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    office, lab = config.lines["office"], config.lines["lab"]
    assert (office.port, office.location, office.secure) == ("/dev/ttyUSB0", "US", True)
    assert (lab.port, lab.secure, lab.baudrate) == ("rfc2217://127.0.0.1:7000", "best-effort",
                                                     57600)
    assert lab.location is None


def test_missing_file_is_an_empty_config(tmp_path: Path) -> None:
    config = load_config(tmp_path / "nope.toml")
    assert config.lines == {}


def test_env_overrides_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"


def test_default_path_is_in_the_user_config_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEMCTL_CONFIG", raising=False)
    assert config_path().parts[-2:] == ("modemctl", "config.toml")


@pytest.mark.parametrize(("text", "fragment"), [
    ("[line.office\nport = 1", "not valid TOML"),
    ("[line.office]\nlocation = \"US\"", "'port' is required"),
    ("[line.office]\nport = 5", "'port' is required"),
    ("[line.office]\nport = \"/dev/x\"\nsecure = \"maybe\"", "'secure' must be"),
    ("[line.office]\nport = \"/dev/x\"\nspeed = 9600", "unknown key 'speed'"),
    ("[line.office]\nport = \"/dev/x\"\nbaudrate = -1", "'baudrate' must be"),
    ("[line.office]\nport = \"/dev/x\"\nlocation = 1", "'location' must be"),
    ("line = 3", "'line' must be a table"),
    ("[lines.office]\nport = \"/dev/x\"", "unknown top-level key 'lines'"),
    ("[line]\noffice = 3", "[line.office] must be a table"),
])
def test_malformed_config_names_file_and_problem(tmp_path: Path, text: str,
                                                 fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert fragment in info.value.reason


def test_non_utf8_config_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b"[line.a]\nport = \"\xff\"\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(path)


def test_resolve_line_name_brings_its_settings(tmp_path: Path) -> None:
    target = resolve("office", load_config(write(tmp_path, GOOD)))
    assert (target.url, target.name, target.location, target.secure) == (
        "/dev/ttyUSB0", "office", "US", True)
    assert target.label == "office (/dev/ttyUSB0)"


@pytest.mark.parametrize("port", ["/dev/ttyS0", "rfc2217://127.0.0.1:1", "loop://", "COM3"])
def test_resolve_ports_and_urls_as_given(tmp_path: Path, port: str) -> None:
    target = resolve(port, load_config(write(tmp_path, GOOD)))
    assert (target.url, target.name, target.secure) == (port, None, None)


def test_unknown_line_lists_the_configured_ones(tmp_path: Path) -> None:
    with pytest.raises(UnknownLine) as info:
        resolve("offfice", load_config(write(tmp_path, GOOD)))
    assert "no line named 'offfice'" in str(info.value)
    assert "lab, office" in str(info.value)


def test_default_line_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEMCTL_LINE", "lab")
    assert resolve(None, load_config(write(tmp_path, GOOD))).name == "lab"


def test_no_port_and_no_default_is_an_error(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEMCTL_LINE", raising=False)
    with pytest.raises(NoPortGiven, match="MODEMCTL_LINE"):
        resolve(None, load_config(write(tmp_path, GOOD)))


def test_a_config_named_by_the_environment_must_exist(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEMCTL_CONFIG", str(tmp_path / "typo.toml"))
    with pytest.raises(ConfigError, match=r"typo\.toml: no such file \(named by MODEMCTL_CONFIG"):
        load_config()


def test_an_unknown_location_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[line.lab]\nport = "/dev/x"\n\n[line.office]\n'
                           'port = "/dev/ttyUSB0"\n  location = "XX"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert raised.value.source == f"{path}:6"
    assert "[line.office]: location 'XX' is not known (known: " in raised.value.reason
    assert "CH" in raised.value.reason and "JP" in raised.value.reason


def test_a_lines_cancel_code_is_read_and_brought_to_the_target(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[line.home]\nport = "/dev/ttyS0"\nlocation = "NZ"\n'
                                         'cancel_code = "*52"\ncancel_code_pulse = "1152"\n'))
    home = config.lines["home"]
    assert (home.cancel_code, home.cancel_code_pulse) == ("*52", "1152")
    target = resolve("home", config)
    assert (target.cancel_code, target.cancel_code_pulse) == ("*52", "1152")


@pytest.mark.parametrize(("text", "line", "fragment"), [
    ('cancel_code = "*52;ATS0=1"', 4, "cancel_code: invalid cancel code '*52;ATS0=1' at "
                                      "position 4 (';')"),
    ('cancel_code = "AT"', 4, "cancel_code: invalid cancel code 'AT' at position 1"),
    ('cancel_code = "*52"\ncancel_code_pulse = "*52"', 5,
     "cancel_code_pulse: invalid cancel code '*52' at position 1 ('*'): pulse dialling"),
    ('cancel_code_pulse = "1152"', 4, "cancel_code_pulse: invalid cancel code '1152': a pulse "
                                      "cancel code needs the tone code too"),
])
def test_a_bad_cancel_code_names_file_and_line(tmp_path: Path, text: str, line: int,
                                               fragment: str) -> None:
    path = write(tmp_path, f'# home\n[line.home]\nport = "/dev/x"\n{text}\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == f"{path}:{line}"
    assert fragment in info.value.reason


def test_a_cancel_code_must_be_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, '[line.home]\nport = "/dev/x"\ncancel_code = 52\n')
    with pytest.raises(ConfigError, match="'cancel_code' must be a string"):
        load_config(path)
