"""Send and receive a fax on a line: ``await fax.send(...)``, ``await fax.receive(...)``.

This is the fax layer's public face.  It loads the document (before the
line is touched: a bad file never costs a call), places or answers the call
in fax mode through the line API, which also secures it, runs T.30 over
Class 1 (:mod:`modemctl.fax.runner`), hangs up, and returns a
:class:`FaxResult`.  A received fax is written as one multi-page TIFF Class
F file (optionally a PDF too), whole or not at all.

Securing: only the location's cancel code protects a fax call
(``firmware-notes/fax-call-waiting.md``).  The default, ``"best-effort"``,
dials it where the location has one and otherwise goes ahead, saying so in
``result.secured`` and ``result.secure_report``; ``secure=True`` refuses to
dial (OperationUnavailable) where the call cannot be secured, as for data.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modemctl.at import ResultCode
from modemctl.errors import CommandError, FaxError
from modemctl.fax.class1 import Class1Quirks, Class1Session, parse_code_list, usable_modulations
from modemctl.fax.document import Document, load_document
from modemctl.fax.header import stamp_header
from modemctl.fax.page import Page, PaperSize, Resolution
from modemctl.fax.pdf import write_pdf
from modemctl.fax.runner import ReceivedPage, run_session
from modemctl.fax.t30 import (
    T30,
    Capabilities,
    Finished,
    Modulation,
    Negotiated,
    Outcome,
    PageDone,
    PageResult,
    Params,
    T30Config,
)
from modemctl.fax.t30.hangup import Cause, Direction, Hangup, Phase
from modemctl.fax.tiff import write_tiff
from modemctl.line import Call, CallState, Line, Ring, SecureReport
from modemctl.line.call import SecureRequest

#: Progress callback: called with each T.30 progress notice as it happens
#: (:class:`~modemctl.fax.t30.Negotiated`, :class:`~modemctl.fax.t30.PageDone`,
#: then :class:`~modemctl.fax.t30.Finished`).
Progress = Callable[[Negotiated | PageDone | Finished], None]

_UNSAFE = re.compile(r"[^A-Za-z0-9+]+")


@dataclass(frozen=True)
class FaxResult:
    """One fax call: what T.30 reported, plus what only the caller's side knows.

    ``outcome`` has the hang-up reason (phase, cause, ``+FHS`` code), per-page
    results, the remote station ID and the negotiated parameters.
    ``duration`` is wall-clock seconds from dialling/answering to hang-up.
    ``path``/``pdf_path``: the received fax's files (receive only; None when
    no page arrived).  ``secured``/``secure_report``: whether the call was
    protected against call waiting, and how.
    """

    outcome: Outcome
    duration: float
    number: str | None
    secured: bool
    secure_report: SecureReport | None
    path: Path | None = None
    pdf_path: Path | None = None

    @property
    def ok(self) -> bool:
        """A normal end with every page accepted."""
        return self.outcome.ok

    @property
    def hangup(self) -> Hangup:
        return self.outcome.hangup

    @property
    def pages(self) -> tuple[PageResult, ...]:
        return self.outcome.pages

    @property
    def remote_id(self) -> str | None:
        return self.outcome.remote_id

    @property
    def params(self) -> Params | None:
        return self.outcome.params

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (``modemctl fax ... --json``)."""
        params = self.params
        return {
            "ok": self.ok,
            "direction": self.outcome.direction.value,
            "number": self.number,
            "remote_id": self.remote_id,
            "hangup": {"phase": self.hangup.phase.value, "cause": self.hangup.cause.value,
                       "fhs": self.hangup.fhs_code, "text": self.hangup.text},
            "rate": params.modulation.rate if params else None,
            "modulation": params.modulation.family if params else None,
            "resolution": params.resolution.name.lower() if params else None,
            "coding": params.coding.value if params else None,
            "pages": [{"page": p.index + 1, "accepted": p.accepted, "attempts": p.attempts,
                       "response": p.response.name if p.response else None,
                       "lines": p.lines,
                       "bad_lines": p.quality.bad_lines if p.quality else None}
                      for p in self.pages],
            "duration": round(self.duration, 3),
            "secured": self.secured,
            "secure": self.secure_report.summary() if self.secure_report else None,
            "path": str(self.path) if self.path else None,
            "pdf_path": str(self.pdf_path) if self.pdf_path else None,
        }


def fax_file_name(when: datetime, remote_id: str | None) -> str:
    """``fax-YYYYMMDD-HHMMSS-<remote id>.tif`` (UTC; the ID's non-alphanumerics as
    ``_``, ``unknown`` when the far end gave none)."""
    ident = _UNSAFE.sub("_", (remote_id or "").strip()).strip("_") or "unknown"
    return f"fax-{when.astimezone(UTC):%Y%m%d-%H%M%S}-{ident}.tif"


async def send(line: Line, number: str, document: Document, *,
               resolution: Resolution = Resolution.FINE, paper: PaperSize = PaperSize.A4,
               station_id: str = "", header: str | None = None,
               secure: SecureRequest = "best-effort",
               progress: Progress | None = None) -> FaxResult:
    """Fax ``document`` (a path, an image, or a list of them) to ``number``.

    ``header`` stamps a header line (the text plus "page n/N") on each page;
    off by default, so received pages compare with sent ones.  ``station_id``
    is sent as TSI.  A call that does not connect returns a result whose
    hang-up is in phase A with the line's disconnect reason as detail.
    """
    pages = load_document(document, resolution=resolution, paper=paper)
    if header is not None:
        pages = [stamp_header(page, f"{header}  page {n}/{len(pages)}")
                 for n, page in enumerate(pages, 1)]
    modulations = await _modulations(line)
    config = T30Config(local_id=station_id, resolution=resolution,
                       capabilities=Capabilities(modulations=modulations))
    started = time.monotonic()
    call = await line.make_call(number, secure=secure, media="fax")
    if call.state is not CallState.CONNECTED:
        return _not_connected(call, Direction.SEND, started)
    session = Class1Session(T30.sender(config, len(pages)), quirks(line))
    outcome, _ = await _run(line, call, session, pages, progress)
    return _result(call, outcome, started)


async def receive(line: Line, out_dir: str | Path, *, station_id: str = "",
                  rings: int = 1, secure: SecureRequest = "best-effort", pdf: bool = False,
                  mr: bool = True, progress: Progress | None = None) -> FaxResult:
    """Wait for one call, answer it as a fax machine after ``rings`` rings,
    and write what arrives to ``out_dir`` (see :func:`fax_file_name`).
    ``mr=False`` offers only one-dimensional coding (MH) in the DIS.

    The TIFF (and PDF with ``pdf=True``) holds every page received, in
    order (the last attempt of each), with each page's bad-line counts; it
    is written also when the call failed after a page came (the result says
    so), and not at all when none did.  Bound the wait with
    ``asyncio.timeout``; :func:`serve` answers call after call.
    """
    out = Path(out_dir)
    if not await asyncio.to_thread(out.is_dir):
        raise FaxError(f"{out} is not a directory")
    modulations = await _modulations(line)
    events = line.events()
    try:
        call = await line.wait_for_call()
        if rings > 1:
            async for event in events:      # subscribed before the first ring: all are here
                if isinstance(event, Ring) and event.count >= rings:
                    break
    finally:
        events.close()
    started = time.monotonic()
    await call.answer(secure=secure, media="fax")
    if call.state is not CallState.CONNECTED:
        return _not_connected(call, Direction.RECEIVE, started)
    config = T30Config(local_id=station_id,
                       capabilities=Capabilities(modulations=modulations, mr=mr))
    session = Class1Session(T30.receiver(config), quirks(line))
    outcome, received = await _run(line, call, session, (), progress)
    # Off the loop: the files are fsynced before they are renamed into place.
    path, pdf_path = await asyncio.to_thread(_write, out, outcome, received, pdf)
    return _result(call, outcome, started, path, pdf_path)


async def serve(line: Line, out_dir: str | Path, *, station_id: str = "", rings: int = 1,
                secure: SecureRequest = "best-effort", pdf: bool = False, mr: bool = True,
                progress: Progress | None = None,
                on_fax: Callable[[FaxResult], None] | None = None) -> None:
    """Receive fax after fax until cancelled; ``on_fax`` gets each result."""
    while True:
        result = await receive(line, out_dir, station_id=station_id, rings=rings,
                               secure=secure, pdf=pdf, mr=mr, progress=progress)
        if on_fax is not None:
            on_fax(result)


def quirks(line: Line) -> Class1Quirks:
    """The Class 1 quirk values of the line's profile."""
    fax = line.caps_required().profile.fax
    return Class1Quirks(fcs_octets=fax.fcs_octets,
                        tm_connect_delay=fax.tm_connect_delay_ms / 1000,
                        turnaround_silence=fax.turnaround_silence)


# --- internals -------------------------------------------------------------------


async def _modulations(line: Line) -> frozenset[Modulation]:
    """What the modem can send and receive pages on (``+FTM=?`` and ``+FRM=?``
    under ``+FCLASS=1``); every T.30 modulation if it will not say."""
    engine = line.engine
    codes: frozenset[int] | None = None
    try:
        await engine.command("AT+FCLASS=1")
        try:
            tx = await engine.command("AT+FTM=?")
            rx = await engine.command("AT+FRM=?")
            codes = parse_code_list(" ".join(tx.info)) & parse_code_list(" ".join(rx.info))
        finally:
            await engine.command("AT+FCLASS=0")
    except (CommandError, ValueError):
        codes = None
    found = usable_modulations(codes) if codes else frozenset()
    return found or frozenset(Modulation)


async def _run(line: Line, call: Call, session: Class1Session, pages: Sequence[Page],
               progress: Progress | None) -> tuple[Outcome, dict[int, ReceivedPage]]:
    def notify(action: object) -> None:
        if progress is not None and isinstance(action, Negotiated | PageDone | Finished):
            progress(action)

    try:
        return await run_session(line.engine, session, pages=pages, progress=notify,
                                 log=call.log)
    finally:
        # A cancel (Ctrl-C) still hangs up; the shield keeps the drop itself whole.
        await asyncio.shield(call.drop())


def _result(call: Call, outcome: Outcome, started: float, path: Path | None = None,
            pdf_path: Path | None = None) -> FaxResult:
    report = call.secure_report
    return FaxResult(outcome, time.monotonic() - started, call.number,
                     report is not None and report.secured, report, path, pdf_path)


def _not_connected(call: Call, direction: Direction, started: float) -> FaxResult:
    reason = call.disconnect_reason
    hangup = Hangup(Phase.A, Cause.NO_CONNECTION, direction,
                    reason.name if reason is not None else ResultCode.NO_CARRIER.value)
    outcome = Outcome(direction, hangup, (), None, None)
    return _result(call, outcome, started)


def _write(out: Path, outcome: Outcome, received: dict[int, ReceivedPage],
           pdf: bool) -> tuple[Path | None, Path | None]:
    """One TIFF (and PDF) of every page that arrived; nothing when none did."""
    if not received:
        return None, None
    got = [received[i] for i in sorted(received)]
    pages = [r.page() for r in got]
    target = out / fax_file_name(datetime.now(UTC), outcome.remote_id)
    tiff = write_tiff(target, pages, coding=got[0].params.coding,
                      quality=[r.decoded.quality for r in got],
                      description=f"received from {outcome.remote_id or 'unknown'}")
    pdf_path = write_pdf(target.with_suffix(".pdf"), pages) if pdf else None
    return tiff, pdf_path
