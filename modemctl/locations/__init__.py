"""Locations: per-country dialing rules as data (``data/<CODE>.toml``)."""

from modemctl.locations.loader import (
    builtin_locations,
    get_location,
    load_location_file,
    parse_location,
)
from modemctl.locations.model import Location

__all__ = ["Location", "builtin_locations", "get_location", "load_location_file",
           "parse_location"]
