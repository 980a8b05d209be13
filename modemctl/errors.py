"""Typed errors raised by modemctl.

Every failure a user can meet has its own class, so that callers can catch
exactly what they can handle and the CLI can turn each into a short,
actionable message and an exit code.  Where TAPI defines an equivalent
``LINEERR_*`` value, the class carries it in ``tapi_error`` so that the
mapping to the design source stays visible.

This module imports nothing else from the package at run time but the
secret masking of :mod:`modemctl.log` (which imports nothing of ours; the
line's report type is named for the type checker only): every layer
(driver, line, CLI) may depend on it.  An error's text never shows a
registered secret (a dial command in a ``CommandError`` holds the PIN).
The fake exchange keeps its own errors and does not import this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modemctl.log import redact

if TYPE_CHECKING:
    from modemctl.line.report import SecureReport


class ModemctlError(Exception):
    """Base class of every error modemctl raises on purpose."""

    tapi_error: str | None = None

    def __str__(self) -> str:
        return redact(super().__str__())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


# --- transport -------------------------------------------------------------


class TransportError(ModemctlError):
    """The serial port could not be opened, read or written."""


class PortNotFound(TransportError):
    """The device path or URL names no port that exists."""

    tapi_error = "LINEERR_NODEVICE"

    def __init__(self, url: str, detail: str = "") -> None:
        self.url = url
        self.detail = detail
        super().__init__(f"no serial port at {url}" + (f": {detail}" if detail else ""))


class PortBusy(TransportError):
    """Another process holds the port (UUCP lock file or exclusive open)."""

    tapi_error = "LINEERR_RESOURCEUNAVAIL"

    def __init__(self, url: str, holder_pid: int | None, lock_path: str | None,
                 holder_name: str | None = None) -> None:
        self.url = url
        self.holder_pid = holder_pid
        self.lock_path = lock_path
        self.holder_name = holder_name
        who = "another process"
        if holder_pid is not None:
            who = f"process {holder_pid}" + (f" ({holder_name})" if holder_name else "")
        where = f" (lock {lock_path})" if lock_path else ""
        super().__init__(f"{url} is in use by {who}{where}")


class PortClosed(TransportError):
    """The port went away while open (device unplugged, peer closed)."""


# --- AT command engine ---------------------------------------------------


class ATError(ModemctlError):
    """A command did not complete as expected."""


class CommandError(ATError):
    """The modem answered a command with ERROR (or another failure code)."""

    tapi_error = "LINEERR_OPERATIONFAILED"

    def __init__(self, command: str, result: str, info: Sequence[str] = ()) -> None:
        self.command = command
        self.result = result
        self.info = tuple(info)
        super().__init__(f"{command!r} failed: {result}")


class CommandTimeout(ATError):
    """No final result code arrived within the command's absolute timeout."""

    def __init__(self, command: str, timeout: float, received: Sequence[str] = ()) -> None:
        self.command = command
        self.timeout = timeout
        self.received = tuple(received)
        super().__init__(f"no final result for {command!r} within {timeout:.3g}s")


class InvalidCommand(ATError, ValueError):
    """A command string cannot be sent as given (CR inside, too long, not AT...)."""

    def __init__(self, command: str, reason: str) -> None:
        self.command = command
        self.reason = reason
        super().__init__(f"invalid AT command {command!r}: {reason}")


@dataclass(frozen=True)
class RecoveryStep:
    """One rung of the recovery ladder, and how it went."""

    action: str          # "resync", "escape", "dtr-drop", "reset", "reopen"
    succeeded: bool
    detail: str = ""


class ModemUnresponsive(ATError):
    """The whole recovery ladder failed; ``attempts`` says what was tried."""

    tapi_error = "LINEERR_OPERATIONFAILED"

    def __init__(self, attempts: Sequence[RecoveryStep]) -> None:
        self.attempts = tuple(attempts)
        tried = ", ".join(f"{a.action}:{'ok' if a.succeeded else 'failed'}" for a in attempts)
        super().__init__(f"modem does not respond (tried {tried or 'nothing'})")


class ParseError(ATError):
    """The modem sent bytes the protocol core cannot accept (e.g. a runaway line)."""


# --- line / call -----------------------------------------------------------


class InvalidCallState(ModemctlError):
    """The operation is not allowed in the call's (or line's) current state,
    e.g. an AT command while the call is in data mode."""

    tapi_error = "LINEERR_INVALCALLSTATE"


class InvalidAddress(ModemctlError, ValueError):
    """A dial string contains something other than dial digits and modifiers."""

    tapi_error = "LINEERR_INVALADDRESS"

    def __init__(self, address: str, position: int | None, reason: str) -> None:
        self.address = address
        self.position = position
        self.reason = reason
        where = f" at position {position + 1} ({address[position]!r})" \
            if position is not None and 0 <= position < len(address) else ""
        super().__init__(f"invalid number {address!r}{where}: {reason}")


class InvalidCancelCode(InvalidAddress):
    """A call-waiting cancel code that is not 2-8 dial digits (a user's or a location's).

    A cancel code goes into the dial command ahead of the number, so it is
    checked as strictly as a number and more: only ``0-9 * #`` and one
    trailing pause, only digits for pulse dialling.
    """

    def __init__(self, code: str, position: int | None, reason: str) -> None:
        self.address = self.code = code
        self.position = position
        self.reason = reason
        where = f" at position {position + 1} ({code[position]!r})" \
            if position is not None and 0 <= position < len(code) else ""
        ModemctlError.__init__(self, f"invalid cancel code {code!r}{where}: {reason}")


class OperationUnavailable(ModemctlError):
    """Nothing on this line can do what was asked (TAPI LINEERR_OPERATIONUNAVAIL).

    Raised by a secure request that no mechanism can satisfy; ``report``
    carries the per-mechanism findings so the caller can see why.
    """

    tapi_error = "LINEERR_OPERATIONUNAVAIL"

    def __init__(self, message: str, report: SecureReport | None = None) -> None:
        self.report = report
        super().__init__(message)


class OperationFailed(ModemctlError):
    """The operation was possible but the modem refused or lost it midway."""

    tapi_error = "LINEERR_OPERATIONFAILED"


class CallLost(OperationFailed):
    """The call ended (NO CARRIER, DCD drop, port gone) while an operation on it
    was in progress, e.g. the carrier dropped during ``escape()``."""



class ConfigError(ModemctlError):
    """A profile, location or config file is missing or malformed."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class RigDeviceError(ModemctlError):
    """A hardware-in-the-loop rig's line simulator or power switch refused or failed a
    request (``modemctl.hil``): the rig, not the modem under test, is at fault."""

    def __init__(self, device: str, reason: str) -> None:
        self.device = device
        self.reason = reason
        super().__init__(f"{device}: {reason}")


# --- fax pages -------------------------------------------------------------


class FaxError(ModemctlError):
    """Base class of the fax layer's errors (pages, T.4 coding, T.30)."""


class DocumentError(FaxError):
    """A document to fax cannot be read or turned into fax pages.

    ``source`` names the file (or "image 2" for an in-memory image) so the
    message says which input of several is at fault.
    """

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


class MissingExtra(FaxError):
    """An optional feature needs a package that is not installed.

    The message names the extra to install, so it is the whole next step.
    """

    def __init__(self, feature: str, extra: str, package: str) -> None:
        self.feature = feature
        self.extra = extra
        self.package = package
        super().__init__(f"{feature} needs {package}: pip install 'modemctl[{extra}]'")


class PageCodingError(FaxError, ValueError):
    """Page data or coding parameters the T.4 codec cannot work with
    (a row of the wrong length, K below 1, an unknown width)."""


# --- fax protocol (T.30) ---------------------------------------------------


class FrameError(FaxError, ValueError):
    """Bytes that are not a T.30 frame (or information field) we can act on.

    ``data`` holds the bytes, ``reason`` says what is wrong with them; the
    T.30 machine treats such a frame like one with a bad FCS.
    """

    def __init__(self, data: bytes, reason: str) -> None:
        self.data = bytes(data)
        self.reason = reason
        super().__init__(f"bad T.30 frame {self.data[:8].hex(' ')}: {reason}")


# --- sessions (security contexts on a data call) ---------------------------


class SessionError(ModemctlError):
    """Base class of the session layer's errors (handshake, messages, credentials).

    Messages never contain key material or passwords: they name the
    identity, the sequence numbers or the file, never the secret.
    """


class HandshakeFailed(SessionError):
    """The security context could not be established (wrong key, a peer that is
    not who it should be, a malformed or missing handshake token)."""


class UnknownIdentity(HandshakeFailed):
    """The caller named an identity this side holds no credentials for."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        super().__init__(f"unknown identity {identity!r}")


class MessageAltered(SessionError):
    """A signed or encrypted message failed its integrity check
    (SSPI SEC_E_MESSAGE_ALTERED): altered in transit, forged or inserted."""

    tapi_error = None

    def __init__(self, seq: int | None, reason: str = "integrity check failed") -> None:
        self.seq = seq
        where = f" (message {seq})" if seq is not None else ""
        super().__init__(f"message altered{where}: {reason}")


class OutOfSequence(SessionError):
    """An authentic message arrived out of its place (SSPI SEC_E_OUT_OF_SEQUENCE):
    ``kind`` is ``"replay"`` (seen before or too old), ``"gap"`` (earlier
    messages were lost) or ``"reordered"``/``"unexpected"`` (not the number
    the caller expected)."""

    def __init__(self, seq: int, expected: int, kind: str) -> None:
        self.seq = seq
        self.expected = expected
        self.kind = kind
        super().__init__(f"message {seq} out of sequence ({kind}; expected {expected})")


class ContextClosed(SessionError):
    """The security context is closed (by us or by the peer) or failed; its keys
    are gone and it cannot sign, verify, encrypt or decrypt any more."""


class CredentialError(SessionError):
    """An identity's secret cannot be had: missing under a ``never`` prompt
    policy, no terminal to prompt on, or a store that is not safe to use."""


class InsecureStore(CredentialError):
    """A secret store modemctl refuses: a keyring backend that keeps secrets in
    plaintext or fails, or a secret file others can read (as ``.pgpass``)."""
