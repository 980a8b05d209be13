"""The rig file: which modems a hardware-in-the-loop rig has and how to reach them.

A rig is data, like a profile: the suite reads it and never guesses.  Each
modem names its port URL, the profile it must probe as, the line number it
answers to and the modem control lines its port really carries (a pty or a
ser2net port carries none, whatever pyserial pretends).  ``[[pair]]`` says
which modems can call each other; ``[line_simulator]`` and
``[power_switch]`` say what the rig can do to lines and modems.  What a test
needs and the rig lacks becomes a skip with that reason (:mod:`.needs`).

The format is documented with an example in ``hil/rig-example.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modemctl.errors import ConfigError
from modemctl.profiles import get_profile
from modemctl.tomlfile import read_toml

MODEM_LINES = ("dcd", "ri", "dtr")
"""Control lines a port may carry that some test needs."""
SIMULATOR_KINDS = ("fake", "asterisk", "none")
POWER_KINDS = ("fake", "command", "none")
DEFAULT_DATA_BYTES = 4 * 1024 * 1024
"""Bytes each way in the data-integrity test on a real rig ("several MB")."""


@dataclass(frozen=True)
class RigModem:
    """One modem on the rig."""

    name: str
    url: str
    profile: str
    line: str
    model: str = ""
    modem_lines: tuple[str, ...] = ()
    outlet: str | None = None
    """The power-switch outlet this modem hangs off (None: not switchable)."""
    removable: bool = False
    """Switching it off removes its port (a USB modem), so "port gone" can be tested."""


@dataclass(frozen=True)
class RigPair:
    """Two modems whose lines can call each other: ``caller`` dials ``answerer``."""

    caller: str
    answerer: str

    @property
    def name(self) -> str:
        return f"{self.caller}->{self.answerer}"


@dataclass(frozen=True)
class DeviceSpec:
    """A line simulator or power switch: its kind and its driver's settings."""

    kind: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rig:
    """A whole rig, as the suite uses it."""

    name: str
    modems: tuple[RigModem, ...]
    pairs: tuple[RigPair, ...]
    line_simulator: DeviceSpec = DeviceSpec("none")
    power_switch: DeviceSpec = DeviceSpec("none")
    location: str = "US"
    time_scale: float = 1.0
    data_bytes: int = DEFAULT_DATA_BYTES
    third_party: str = "5559999"
    """The number call waiting and rings appear to come from."""

    def modem(self, name: str) -> RigModem:
        for m in self.modems:
            if m.name == name:
                return m
        raise KeyError(name)


def _str(table: Mapping[str, Any], key: str, where: str, source: str,
         default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(source, f"{where}: '{key}' must be a non-empty string")
    return value


def _device(raw: object, kinds: tuple[str, ...], where: str, source: str) -> DeviceSpec:
    if raw is None:
        return DeviceSpec("none")
    if not isinstance(raw, dict):
        raise ConfigError(source, f"[{where}] must be a table")
    kind = _str(raw, "kind", f"[{where}]", source)
    if kind not in kinds:
        raise ConfigError(source, f"[{where}]: kind '{kind}' is not one of {', '.join(kinds)}")
    return DeviceSpec(kind, {k: v for k, v in raw.items() if k != "kind"})


def _modem(raw: object, index: int, source: str) -> RigModem:
    where = f"[[modem]] #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(source, f"{where} must be a table")
    lines = raw.get("modem_lines", [])
    if not isinstance(lines, list) or any(x not in MODEM_LINES for x in lines):
        raise ConfigError(source, f"{where}: modem_lines must list some of {MODEM_LINES}")
    outlet = raw.get("outlet")
    if outlet is not None and not isinstance(outlet, str | int):
        raise ConfigError(source, f"{where}: outlet must be a string or a number")
    removable = raw.get("removable", False)
    if not isinstance(removable, bool):
        raise ConfigError(source, f"{where}: removable must be true or false")
    unknown = set(raw) - {"name", "url", "profile", "line", "model", "modem_lines",
                          "outlet", "removable"}
    if unknown:
        raise ConfigError(source, f"{where}: unknown keys {sorted(unknown)}")
    return RigModem(
        name=_str(raw, "name", where, source), url=_str(raw, "url", where, source),
        profile=_str(raw, "profile", where, source), line=_str(raw, "line", where, source),
        model=str(raw.get("model", "")), modem_lines=tuple(lines),
        outlet=None if outlet is None else str(outlet), removable=removable)


def parse_rig(data: Mapping[str, Any], source: str) -> Rig:
    """Build a :class:`Rig` from parsed TOML; every mistake is a :class:`ConfigError`."""
    head = data.get("rig", {})
    if not isinstance(head, dict):
        raise ConfigError(source, "[rig] must be a table")
    raw_modems = data.get("modem", [])
    if not isinstance(raw_modems, list) or not raw_modems:
        raise ConfigError(source, "a rig needs at least one [[modem]]")
    modems = tuple(_modem(m, i, source) for i, m in enumerate(raw_modems))
    names = [m.name for m in modems]
    if len(set(names)) != len(names):
        raise ConfigError(source, "two [[modem]] tables have the same name")
    for m in modems:
        try:
            get_profile(m.profile)
        except ConfigError as exc:
            raise ConfigError(source, f"modem {m.name}: {exc.reason}") from exc
    pairs = []
    for i, raw in enumerate(data.get("pair", [])):
        if not isinstance(raw, dict):
            raise ConfigError(source, f"[[pair]] #{i + 1} must be a table")
        pair = RigPair(_str(raw, "caller", f"[[pair]] #{i + 1}", source),
                       _str(raw, "answerer", f"[[pair]] #{i + 1}", source))
        for end in (pair.caller, pair.answerer):
            if end not in names:
                raise ConfigError(source, f"[[pair]] {pair.name}: no modem named '{end}'")
        if pair.caller == pair.answerer:
            raise ConfigError(source, f"[[pair]] {pair.name}: a modem cannot call itself")
        pairs.append(pair)
    scale = head.get("time_scale", 1.0)
    data_bytes = head.get("data_bytes", DEFAULT_DATA_BYTES)
    if not isinstance(scale, int | float) or not 0 < scale <= 1:
        raise ConfigError(source, "[rig] time_scale must be a number in (0, 1]")
    if not isinstance(data_bytes, int) or data_bytes <= 0:
        raise ConfigError(source, "[rig] data_bytes must be a positive integer")
    return Rig(
        name=str(head.get("name", Path(source).stem)), modems=modems, pairs=tuple(pairs),
        line_simulator=_device(data.get("line_simulator"), SIMULATOR_KINDS,
                               "line_simulator", source),
        power_switch=_device(data.get("power_switch"), POWER_KINDS, "power_switch", source),
        location=str(head.get("location", "US")), time_scale=float(scale),
        data_bytes=data_bytes, third_party=str(head.get("third_party", "5559999")))


def load_rig(path: Path) -> Rig:
    """Read a rig file (a missing file is a :class:`ConfigError` too: it was asked for)."""
    try:
        data = read_toml(path)
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "no such rig file") from exc
    return parse_rig(data, str(path))
