"""The rig file: the documented example loads, and every mistake is a ConfigError naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from modemctl.errors import ConfigError
from modemctl.hil.rig import DEFAULT_DATA_BYTES, load_rig, parse_rig

EXAMPLE = Path(__file__).parents[2] / "hil" / "rig-example.toml"

MODEM = {"name": "a", "url": "/dev/ttyS0", "profile": "usr", "line": "101"}


def test_example_rig_loads() -> None:
    rig = load_rig(EXAMPLE)
    assert [m.name for m in rig.modems] == ["usr-1", "mt-2", "zoom-3", "actiontec-4"]
    assert len(rig.pairs) == 4
    assert rig.line_simulator.kind == "asterisk"
    assert rig.power_switch.kind == "command"
    assert rig.modem("mt-2").removable and not rig.modem("usr-1").removable
    assert rig.modem("usr-1").modem_lines == ("dcd", "ri", "dtr")
    assert rig.modem("usr-1").outlet == "1"


def test_defaults() -> None:
    rig = parse_rig({"modem": [MODEM]}, "r.toml")
    assert rig.line_simulator.kind == "none" and rig.power_switch.kind == "none"
    assert rig.data_bytes == DEFAULT_DATA_BYTES and rig.time_scale == 1.0
    assert rig.pairs == ()


@pytest.mark.parametrize(("data", "words"), [
    ({}, "at least one [[modem]]"),
    ({"modem": [{**MODEM, "profile": "nosuch"}]}, "no profile"),
    ({"modem": [{**MODEM, "colour": "red"}]}, "unknown keys"),
    ({"modem": [{**MODEM, "modem_lines": ["cts"]}]}, "modem_lines"),
    ({"modem": [MODEM, MODEM]}, "same name"),
    ({"modem": [MODEM], "pair": [{"caller": "a", "answerer": "b"}]}, "no modem named 'b'"),
    ({"modem": [MODEM], "pair": [{"caller": "a", "answerer": "a"}]}, "cannot call itself"),
    ({"modem": [MODEM], "line_simulator": {"kind": "tls5"}}, "not one of"),
    ({"modem": [MODEM], "rig": {"time_scale": 0}}, "time_scale"),
    ({"modem": [MODEM], "rig": {"data_bytes": -1}}, "data_bytes"),
])
def test_mistakes_are_config_errors(data: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_rig(data, "r.toml")
    assert info.value.source == "r.toml" and words in info.value.reason


def test_missing_rig_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such rig file"):
        load_rig(tmp_path / "none.toml")
