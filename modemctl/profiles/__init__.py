"""Modem profiles: per-chipset-family facts as data, chosen once at probe time.

The data files live in ``data/*.toml``; ``firmware-notes/`` explains, with
sources, what each file encodes and why.
"""

from modemctl.profiles.loader import (
    builtin_profiles,
    choose_profile,
    fallback_profile,
    get_profile,
    load_profile_file,
    parse_profile,
)
from modemctl.profiles.model import V92, MatchRules, Profile, Registers, RideThrough

__all__ = [
    "V92",
    "MatchRules",
    "Profile",
    "Registers",
    "RideThrough",
    "builtin_profiles",
    "choose_profile",
    "fallback_profile",
    "get_profile",
    "load_profile_file",
    "parse_profile",
]
