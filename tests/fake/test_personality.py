"""Personality files: the bundled ones load and are consistent; broken ones fail clearly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from modemctl.fake import PersonalityError, available_personalities, load_personality
from modemctl.fake.personality import V92_PARAMS, personality_dir


@pytest.mark.parametrize("name", available_personalities())
def test_bundled_personality_is_consistent(name: str) -> None:
    p = load_personality(name)
    assert p.name == name
    assert set(range(13)) <= set(p.registers)
    for num, reg in p.registers.items():
        assert reg.read_only or reg.allows(reg.default), f"S{num} default out of range"
    assert p.max_rate in p.connect_codes                 # CONNECT <max> has a numeric code
    assert p.fax_classes[0] == "0"
    assert (set(p.v92_defaults) == set(V92_PARAMS)) is p.v92
    assert "I0" in p.identity and {"gmi", "gmm", "gmr"} <= set(p.identity)
    if p.countries:
        assert p.country in p.countries


def test_loading_by_path_and_cache(tmp_path: Path) -> None:
    src = personality_dir() / "hayes-basic.toml"
    copy = tmp_path / "my-modem.toml"
    copy.write_bytes(src.read_bytes())
    assert load_personality(copy).name == "hayes-basic"
    assert load_personality("hayes-basic") is load_personality("hayes-basic")


def _broken(tmp_path: Path, edit: str, old: str, new: str) -> Path:
    text = (personality_dir() / "conexant-v92.toml").read_text()
    assert old in text, old
    path = tmp_path / f"{edit}.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(("edit", "old", "new", "match"), [
    ("no-s10", "10 = { default = 14, min = 1, max = 255 }\n", "", "S10 missing"),
    ("bad-fax", '["0", "1", "1.0"]', '["0", "7.5"]', "FCLASS"),
    ("no-v92-default", "PCW = 0, ", "", "v92 defaults"),
    ("no-busy-code", "BUSY = 7\n", "", "BUSY"),
    ("bad-echo", 'echo_backspace = "bs"', 'echo_backspace = "none"', "echo_backspace"),
    ("bad-country", 'country = "B5"', 'country = "ZZ"', "country"),
    ("not-toml", "[capabilities]", "[capabilities", "cannot read"),
])
def test_broken_files_raise_personality_error(tmp_path: Path, edit: str, old: str, new: str,
                                              match: str) -> None:
    with pytest.raises(PersonalityError, match=match):
        load_personality(_broken(tmp_path, edit, old, new))


def test_unknown_name_lists_the_available_ones() -> None:
    with pytest.raises(PersonalityError, match="conexant-v92"):
        load_personality("no-such-modem")


def test_files_are_valid_toml() -> None:
    for path in personality_dir().glob("*.toml"):
        with path.open("rb") as fh:
            assert tomllib.load(fh)["name"] == path.stem
