"""The exit codes of ``modemctl``: defined once, here.

Scripts that wrap ``modemctl dial`` (cron jobs polling a remote site, alarm
panels, fax-out queues) need to tell "the line was busy, retry later" from
"the number is wrong, give up" without parsing text.  So the exit status of
a call follows its TAPI disconnect reason, a fax call's its T.30 result,
and every error class the CLI can report has its own status.  ``--help``
(the ``dial``/``answer``/``fax`` epilog),
the README and the tests all render or check :data:`EXIT_CODES`, so the
table cannot drift from the code.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from enum import IntEnum

from modemctl import errors


class ExitCode(IntEnum):
    """Process exit statuses, stable across releases."""

    OK = 0
    ERROR = 1
    USAGE = 2
    BUSY = 3
    NO_ANSWER = 4
    NO_DIALTONE = 5
    UNAVAILABLE = 6
    REJECTED = 7
    CALL_LOST = 8
    INVALID_NUMBER = 9
    SECURE_UNAVAILABLE = 10
    PORT_NOT_FOUND = 11
    PORT_BUSY = 12
    MODEM_FAILED = 13
    CONFIG = 14
    FAX_PAGE_REJECTED = 15
    FAX_FAILED = 16
    FAX_DOCUMENT = 17
    ENDED_UNEXPLAINED = 20
    NO_CALL = 21
    EXPECT_FAILED = 22
    INTERRUPTED = 130


@dataclass(frozen=True)
class ExitCodeRow:
    """One row of the table: the status, what gives it, and a gloss.

    ``reasons`` are disconnect-reason names (TAPI ``LINEDISCONNECTMODE_*``
    spelling, as :class:`modemctl.DisconnectReason` uses); ``errors`` are the
    exception classes reported with this status.
    """

    code: ExitCode
    meaning: str
    reasons: tuple[str, ...] = ()
    errors: tuple[type[BaseException], ...] = ()
    other: str = ""

    @property
    def causes(self) -> str:
        """What leads to this status, for the rendered table."""
        parts = [*self.reasons, *(e.__name__ for e in self.errors)]
        if self.other:
            parts.append(self.other)
        return ", ".join(parts)


# Error rows are matched in this order, so subclasses come before their bases.
EXIT_CODES: tuple[ExitCodeRow, ...] = (
    ExitCodeRow(ExitCode.OK, "the call was made and you hung up (~., end of input, a script "
                "that finished), or the command succeeded",
                reasons=("NORMAL",), other="command succeeded"),
    ExitCodeRow(ExitCode.ERROR, "an unexpected failure; rerun with -v for details",
                other="any other error"),
    ExitCodeRow(ExitCode.USAGE, "bad option or argument", other="usage error"),
    ExitCodeRow(ExitCode.BUSY, "the number was busy", reasons=("BUSY",)),
    ExitCodeRow(ExitCode.NO_ANSWER, "nobody answered", reasons=("NOANSWER",)),
    ExitCodeRow(ExitCode.NO_DIALTONE, "no dial tone: check the phone cable",
                reasons=("NODIALTONE",)),
    ExitCodeRow(ExitCode.UNAVAILABLE, "no modem answered, or no common modulation",
                reasons=("UNAVAIL", "UNREACHABLE", "INCOMPATIBLE", "BADADDRESS")),
    ExitCodeRow(ExitCode.REJECTED, "the network or the modem refused the call",
                reasons=("BLOCKED", "REJECT", "CONGESTION", "TEMPFAILURE", "CANCELLED")),
    ExitCodeRow(ExitCode.CALL_LOST, "the connected call was lost (carrier lost, call waiting...)",
                reasons=("CARRIERLOST", "CALLWAITING", "OUTOFORDER", "UNKNOWN"),
                other="any reason not listed"),
    ExitCodeRow(ExitCode.INVALID_NUMBER,
                "the number holds something that is not a dial digit or modifier",
                errors=(errors.InvalidAddress,)),
    ExitCodeRow(ExitCode.SECURE_UNAVAILABLE,
                "the line cannot do what was asked: --secure with nothing that can secure "
                "the call, or a fax call on a modem without fax",
                errors=(errors.OperationUnavailable,)),
    ExitCodeRow(ExitCode.PORT_NOT_FOUND, "no such serial port", errors=(errors.PortNotFound,)),
    ExitCodeRow(ExitCode.PORT_BUSY, "another program holds the port", errors=(errors.PortBusy,)),
    ExitCodeRow(ExitCode.MODEM_FAILED, "the modem did not answer, refused a command, or lost it",
                errors=(errors.ATError, errors.TransportError, errors.OperationFailed,
                        errors.InvalidCallState)),
    ExitCodeRow(ExitCode.CONFIG, "the config file is malformed, or names no such line",
                errors=(errors.ConfigError,)),
    ExitCodeRow(ExitCode.FAX_PAGE_REJECTED,
                "fax: the call ended normally but a page was rejected (RTN) or not confirmed",
                other="fax page not accepted"),
    ExitCodeRow(ExitCode.FAX_FAILED,
                "fax: T.30 failed once connected (no answer from a fax machine, training "
                "failed, no response, far end disconnected); the fax was not delivered",
                other="fax hang-up other than normal or call lost"),
    ExitCodeRow(ExitCode.FAX_DOCUMENT, "fax: a document cannot be read or turned into pages",
                errors=(errors.DocumentError, errors.MissingExtra)),
    ExitCodeRow(ExitCode.ENDED_UNEXPLAINED,
                "the call ended from the far end's side and this port cannot tell a hang-up "
                "from a lost line (a bare NO CARRIER, no DCD or RI to say more)",
                other="far end hung up or line lost"),
    ExitCodeRow(ExitCode.NO_CALL, "answer --timeout passed without a call",
                other="no call"),
    ExitCodeRow(ExitCode.EXPECT_FAILED,
                "the text given with --expect did not come within --expect-timeout",
                other="--expect timed out"),
    ExitCodeRow(ExitCode.INTERRUPTED, "interrupted", other="Ctrl-C"),
)

_BY_REASON: dict[str, ExitCode] = {
    reason: row.code for row in EXIT_CODES for reason in row.reasons
}


def for_reason(reason: object) -> ExitCode:
    """Exit status for a call's disconnect reason (an enum member, its name, or None).

    ``None`` means the call never ended abnormally (e.g. it was still up when
    the session closed it), which is a normal end.  A reason this table does
    not know is reported as a lost call rather than success: a script must
    never mistake an unexplained end for a clean one.
    """
    if reason is None:
        return ExitCode.OK
    name = getattr(reason, "name", None) or str(reason)
    key = name.upper().replace("_", "").replace("-", "")
    return _BY_REASON.get(key, ExitCode.CALL_LOST)


def for_fax(cause: str, detail: str, all_pages_accepted: bool) -> ExitCode:
    """Exit status for a fax call from its hang-up (``Cause`` value and detail).

    A call that never connected follows its disconnect reason (the detail);
    a lost call is CALL_LOST; any other abnormal end is FAX_FAILED; a normal
    end with a page not accepted is FAX_PAGE_REJECTED: a script must never
    take a fax with a rejected page for a delivered one.
    """
    if cause == "no-connection":
        code = for_reason(detail or "UNKNOWN")
        return ExitCode.CALL_LOST if code is ExitCode.OK else code
    if cause == "call-lost":
        return ExitCode.CALL_LOST
    if cause == "aborted":
        return ExitCode.INTERRUPTED
    if cause != "normal":
        return ExitCode.FAX_FAILED
    return ExitCode.OK if all_pages_accepted else ExitCode.FAX_PAGE_REJECTED


def for_error(exc: BaseException) -> ExitCode:
    """Exit status for an exception the CLI reports."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    for row in EXIT_CODES:
        if row.errors and isinstance(exc, row.errors):
            return row.code
    return ExitCode.ERROR


def render_table(markdown: bool = False) -> str:
    """The table as text: plain for ``--help`` epilogs, Markdown for the README."""
    if markdown:
        lines = ["| Exit | Reason / error | Meaning |", "|---:|---|---|"]
        lines += [f"| {int(r.code)} | {r.causes} | {r.meaning} |" for r in EXIT_CODES]
        return "\n".join(lines)
    lines = []
    for row in EXIT_CODES:
        text = textwrap.wrap(f"{row.meaning} [{row.causes}]", width=70)
        lines.append(f"{int(row.code):>4}  {text[0]}")
        lines += [f"      {more}" for more in text[1:]]
    return "\n".join(lines)
