"""Modem personalities: what distinguishes one modem family from another, as data.

A personality is loaded from a TOML file in ``modemctl/fake/personalities/``.
Keeping the differences in data (identity strings, register table, result-code
numbers, V.92 defaults, quirks) rather than in ``if personality == ...``
branches keeps the interpreter a single V.250 implementation and makes adding
a modem a matter of writing a file.  Loading validates every field, so a
broken file fails at :func:`load_personality` with :class:`PersonalityError`
instead of misbehaving mid-call.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from modemctl.fake.faxwire import MODULATIONS, V21

V92_PARAMS: dict[str, tuple[int, int]] = {
    "PCW": (0, 2),
    "PMH": (0, 1),
    "PMHT": (0, 13),
    "PQC": (0, 3),
    "PIG": (0, 1),
}
"""V.92 parameters the interpreter knows, with their value ranges (§2.4)."""

FAX_CLASSES = ("0", "1", "1.0", "2", "2.0", "2.1", "8")
CLASS1 = ("1", "1.0")
"""The ``+FCLASS`` values that select T.31 (Class 1 / 1.0) in the fake."""


class PersonalityError(ValueError):
    """A personality file is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class RegisterSpec:
    """One S-register: factory default, allowed values and storage rules."""

    default: int
    ranges: tuple[tuple[int, int], ...]
    read_only: bool = False
    stored: bool = True

    def allows(self, value: int) -> bool:
        """True when ``value`` may be written (read-only registers allow nothing)."""
        return not self.read_only and any(lo <= value <= hi for lo, hi in self.ranges)


@dataclass(frozen=True)
class FaxSpec:
    """What a Class 1 modem offers (``[fax]`` in the personality file)."""

    ftm: tuple[int, ...]             # +FTM=? modulation codes
    frm: tuple[int, ...]             # +FRM=? modulation codes
    rh_connect_any_carrier: bool = False
    """CONNECT after +FRH=3 on any carrier (HylaFAX Class1HasRHConnectBug, §4.2, §5.3)."""
    tm_early_connect: bool = False
    """CONNECT after +FTM before the training is sent (HylaFAX Class1TMConnectDelay)."""
    hardware_flow: tuple[str, int] | None = None
    """The stored command and value that select RTS/CTS flow control for Class 1
    (``("&K", 3)`` on Conexant/Agere); None: the modem uses XON/XOFF in Class 1
    whatever else is set (USR, §4.1 [S2 usr-rts])."""


@dataclass(frozen=True)
class Personality:
    """Everything the DCE interpreter needs to behave like one modem family."""

    name: str
    description: str
    max_line: int
    x_max: int
    echo_backspace: str
    ring_counter_reset: float
    country: str
    countries: tuple[str, ...]
    caller_id: bool
    boot_banner: str
    v92: bool
    fax_classes: tuple[str, ...]
    max_rate: int
    identity: dict[str, str]
    registers: dict[int, RegisterSpec]
    result_codes: dict[str, int]
    connect_codes: dict[int, int]
    no_dialtone_text: str
    call_waiting_text: str | None
    call_waiting_min_x: int
    v92_defaults: dict[str, int] = field(default_factory=dict)
    v92_survive_factory: bool = False
    cw_detect_s10_min: int | None = None
    cw_detect_countries: tuple[str, ...] = ()
    accepted: dict[str, tuple[int, int]] = field(default_factory=dict)
    fax: FaxSpec | None = None
    """Class 1 details; set exactly when ``fax_classes`` offers 1 or 1.0."""

    def numeric(self, text: str) -> int | None:
        """Numeric (V0) code of a verbose result, or None if this modem has none."""
        if text.startswith("CONNECT "):
            rate = text[len("CONNECT "):]
            return self.connect_codes.get(int(rate)) if rate.isdigit() else None
        return self.result_codes.get(text)


def personality_dir() -> Path:
    """Directory holding the bundled personality files."""
    return Path(str(resources.files("modemctl.fake").joinpath("personalities")))


def available_personalities() -> list[str]:
    """Names of the bundled personalities, sorted."""
    return sorted(p.stem for p in personality_dir().glob("*.toml"))


_cache: dict[str, Personality] = {}


def load_personality(name_or_path: str | Path) -> Personality:
    """Load a bundled personality by name, or any personality file by path.

    Bundled ones are cached: a personality is immutable, and hundreds of lines
    in a benchmark share one.
    """
    key = str(name_or_path)
    if key in _cache:
        return _cache[key]
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = personality_dir() / f"{key}.toml"
        if not path.is_file():
            raise PersonalityError(
                f"unknown personality {key!r}; available: {', '.join(available_personalities())}")
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PersonalityError(f"cannot read personality file {path}: {exc}") from exc
    try:
        pers = _build(raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise PersonalityError(f"invalid personality file {path}: {exc!r}") from exc
    _cache[key] = pers
    return pers


def _build(raw: dict[str, Any]) -> Personality:
    caps = raw["capabilities"]
    regs: dict[int, RegisterSpec] = {}
    for num, spec in raw["registers"].items():
        if "ranges" in spec:
            ranges = tuple((int(lo), int(hi)) for lo, hi in spec["ranges"])
        else:
            ranges = ((int(spec["min"]), int(spec["max"])),)
        reg = RegisterSpec(default=int(spec["default"]), ranges=ranges,
                           read_only=bool(spec.get("read_only", False)),
                           stored=bool(spec.get("stored", True)))
        regs[int(num)] = reg
    for needed in range(13):
        if needed not in regs:
            raise ValueError(f"register S{needed} missing")
    results = dict(raw["results"])
    spelling = results.pop("spelling")
    connect = {int(rate): int(code) for rate, code in results.pop("connect").items()}
    codes = {str(k): int(v) for k, v in results.items()}
    for needed_text in ("OK", "CONNECT", "RING", "NO CARRIER", "ERROR", "BUSY", "NO ANSWER",
                        spelling["no_dialtone"]):
        if needed_text not in codes:
            raise ValueError(f"result {needed_text!r} has no numeric code")
    fax = tuple(str(c) for c in caps["fax_classes"])
    for cls in fax:
        if cls not in FAX_CLASSES:
            raise ValueError(f"unknown +FCLASS value {cls!r}")
    v92 = bool(caps["v92"])
    v92_section = raw.get("v92", {})
    v92_defaults = {str(k): int(v) for k, v in v92_section.get("defaults", {}).items()}
    if v92 and set(v92_defaults) != set(V92_PARAMS):
        raise ValueError(f"v92 defaults must set exactly {sorted(V92_PARAMS)}")
    quirks = raw.get("quirks", {})
    accepted = {str(k): (int(v[0]), int(v[1])) for k, v in raw.get("accepted", {}).items()}
    identity = {str(k): str(v) for k, v in raw["identity"].items()}
    countries = [str(c).upper() for c in raw.get("countries", ())]
    if countries and str(raw["country"]) not in countries:
        raise ValueError("country must be one of countries")
    echo_bs = str(raw["echo_backspace"])
    if echo_bs not in ("bs", "bs-sp-bs"):
        raise ValueError(f"echo_backspace must be 'bs' or 'bs-sp-bs', not {echo_bs!r}")
    cw_min = quirks.get("cw_detect_s10_min")
    fax_spec = _fax_spec(raw.get("fax"), fax)
    return Personality(
        name=str(raw["name"]), description=str(raw["description"]),
        max_line=int(raw["max_line"]), x_max=int(raw["x_max"]), echo_backspace=echo_bs,
        ring_counter_reset=float(raw["ring_counter_reset"]), country=str(raw["country"]),
        countries=tuple(str(c).upper() for c in raw.get("countries", ())),
        caller_id=bool(raw["caller_id"]), boot_banner=str(raw.get("boot_banner", "")),
        v92=v92, fax_classes=fax, max_rate=int(caps["max_rate"]), identity=identity,
        registers=regs, result_codes=codes, connect_codes=connect,
        no_dialtone_text=str(spelling["no_dialtone"]),
        call_waiting_text=spelling.get("call_waiting"),
        call_waiting_min_x=int(spelling.get("call_waiting_min_x", 99)),
        v92_defaults=v92_defaults, v92_survive_factory=bool(v92_section.get("survive_factory",
                                                                            False)),
        cw_detect_s10_min=None if cw_min is None else int(cw_min),
        cw_detect_countries=tuple(str(c) for c in quirks.get("cw_detect_countries", ())),
        accepted=accepted, fax=fax_spec,
    )


def _fax_spec(section: dict[str, Any] | None, classes: tuple[str, ...]) -> FaxSpec | None:
    """The ``[fax]`` table, required exactly when the modem offers Class 1."""
    offers = any(c in CLASS1 for c in classes)
    if section is None:
        if offers:
            raise ValueError("fax_classes offers class 1: a [fax] table with ftm and frm "
                             "is required")
        return None
    if not offers:
        raise ValueError("[fax] given but fax_classes offers no class 1")
    lists = {}
    for key in ("ftm", "frm"):
        codes = tuple(int(c) for c in section[key])
        bad = [c for c in codes if c not in MODULATIONS or c == V21.code]
        if bad or not codes:
            raise ValueError(f"[fax] {key}: unknown high-speed modulation codes {bad}")
        lists[key] = codes
    hw = section.get("hardware_flow")
    hardware_flow = None
    if hw is not None:
        match = re.fullmatch(r"(&[A-Z])(\d+)", str(hw))
        if match is None:
            raise ValueError(f"[fax] hardware_flow must look like '&K3', not {hw!r}")
        hardware_flow = (match.group(1), int(match.group(2)))
    return FaxSpec(ftm=lists["ftm"], frm=lists["frm"],
                   rh_connect_any_carrier=bool(section.get("rh_connect_any_carrier", False)),
                   tm_early_connect=bool(section.get("tm_early_connect", False)),
                   hardware_flow=hardware_flow)
