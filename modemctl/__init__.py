"""modemctl: a controller for analog modems on serial lines."""

__version__ = "0.1.0"
