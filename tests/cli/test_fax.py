"""``modemctl fax send`` / ``fax receive`` against the fake exchange, and the fax exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from modemctl import errors, fax
from modemctl.cli.exitcodes import ExitCode, for_error, for_fax
from modemctl.fax.page import Resolution
from modemctl.line import open_line
from tests.cli import fakes
from tests.cli.conftest import main
from tests.fax.pages import text_image

SCALE = 0.1           # T4 0.3 s real: the CLI and the fake share two busy cores


@pytest.fixture
def fax_switch(monkeypatch: pytest.MonkeyPatch) -> Iterator[fakes.FakeSwitch]:
    monkeypatch.setattr(fakes, "SCALE", SCALE)
    with fakes.FakeSwitch() as switch:
        yield switch


def _page_file(tmp_path: Path) -> Path:
    path = tmp_path / "letter.png"
    text_image(300, seed=9).save(path)
    return path


async def _receive(port: str, out: Path) -> fax.FaxResult:
    async with open_line(port, "US", SCALE) as line:
        return await fax.receive(line, out, station_id="+1 555 0102")


async def _send(port: str, image: Image.Image) -> fax.FaxResult:
    async with open_line(port, "US", SCALE) as line:
        return await fax.send(line, "5551001", image, resolution=Resolution.STANDARD,
                              station_id="+1 555 0102")


def test_fax_send_delivers_the_file_and_exits_0(runner: CliRunner, tmp_path: Path,
                                                fax_switch: fakes.FakeSwitch) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    receiving = fax_switch.spawn(_receive(fax_switch.port("5551002"), inbox))
    result = runner.invoke(main, ["--time-scale", str(SCALE), "fax", "send", "--standard",
                                  "--station-id", "+1 555 0101", "--json",
                                  fax_switch.port("5551001"), "5551002",
                                  str(_page_file(tmp_path))])
    assert result.exit_code == ExitCode.OK, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["remote_id"] == "+1 555 0102"
    assert [p["accepted"] for p in report["pages"]] == [True]
    assert report["resolution"] == "standard" and report["secured"] is True   # *70 (US)
    got = receiving.result(60)
    assert got.ok and got.path is not None
    sent = fax.load_document(_page_file(tmp_path), resolution=Resolution.STANDARD)
    assert [p.rows for p in fax.load_document(got.path, resolution=Resolution.STANDARD)] \
        == [p.rows for p in sent]


def test_fax_receive_once_writes_the_tiff_and_says_where(
        runner: CliRunner, tmp_path: Path, fax_switch: fakes.FakeSwitch) -> None:
    sending = fax_switch.spawn(_send(fax_switch.port("5551002"),
                                     Image.open(_page_file(tmp_path))))
    result = runner.invoke(main, ["--time-scale", str(SCALE), "fax", "receive", "--once",
                                  "--pdf", "--out", str(tmp_path),
                                  fax_switch.port("5551001")])
    assert result.exit_code == ExitCode.OK, result.output
    assert "remote station: +1 555 0102" in result.stdout
    assert "page 1: accepted" in result.stdout
    saved = sorted(p.name for p in tmp_path.glob("fax-*"))
    assert len(saved) == 2 and saved[0].endswith(".pdf") and saved[1].endswith(".tif")
    assert sending.result(60).ok


def test_a_file_that_is_not_a_document_is_one_line_and_its_own_status(
        runner: CliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("not an image")
    result = runner.invoke(main, ["fax", "send", "/dev/null-modem", "5551002", str(junk)])
    assert result.exit_code == ExitCode.FAX_DOCUMENT
    assert result.stderr.startswith("error: ") and str(junk) in result.stderr
    assert result.stderr.count("\n") <= 2


@pytest.mark.parametrize(("cause", "detail", "accepted", "code"), [
    ("normal", "", True, ExitCode.OK),
    ("normal", "", False, ExitCode.FAX_PAGE_REJECTED),   # RTN: not delivered, not 0
    ("page-rejected", "", False, ExitCode.FAX_FAILED),
    ("t1-timeout", "", False, ExitCode.FAX_FAILED),
    ("call-lost", "", False, ExitCode.CALL_LOST),
    ("no-connection", "BUSY", False, ExitCode.BUSY),
    ("no-connection", "NOANSWER", False, ExitCode.NO_ANSWER),
    ("no-connection", "NORMAL", False, ExitCode.CALL_LOST),
])
def test_fax_exit_codes(cause: str, detail: str, accepted: bool, code: ExitCode) -> None:
    assert for_fax(cause, detail, accepted) is code


def test_document_errors_have_their_own_status() -> None:
    assert for_error(errors.DocumentError("x.txt", "unreadable")) is ExitCode.FAX_DOCUMENT
    assert for_error(errors.MissingExtra("PDF input", "pdf", "pypdfium2")) is ExitCode.FAX_DOCUMENT
