"""Authenticated, encrypted sessions over a connected data call.

Layers, bottom up, each in its own file: ``noise`` (the Noise handshakes),
``context`` (the SSPI-shaped security context), ``frames`` (CRC'd frames on
a noisy byte stream), ``stream`` (acknowledgement and retransmission), and
the async wrapper over a :class:`~modemctl.line.Call`.  All but the wrapper
are sans-IO: bytes and tokens in, bytes, events and timer requests out.
"""

from modemctl.session.channel import SecureChannel, accept, connect
from modemctl.session.context import SecurityContext, Sizes
from modemctl.session.credentials import Credentials

__all__ = ["Credentials", "SecureChannel", "SecurityContext", "Sizes", "accept", "connect"]
