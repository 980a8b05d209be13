"""The rig through labgrid, end to end: coordinator, exporter, places, acquire, suite.

A labgrid coordinator and exporter run on 127.0.0.1 (ended by PID) in front
of two fake RFC 2217 lines, published as ``NetworkSerialPort`` plus our
``ModemctlModem``; one place per modem, tagged by model.  ``modemctl hil run
--labgrid`` reserves one place by tag, takes the other by name, acquires
both through the coordinator and runs the probe and dial tests on them.
labgrid is required here: the dev extra installs it (``modemctl[hil]``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import labgrid  # noqa: F401  (a hard dependency of the dev extra: fail, never skip)
import pytest

from modemctl.hil.fakerig import FakeRigHost
from modemctl.hil.labgridplaces import acquired
from modemctl.hil.ser2net import free_port
from tests.hil.test_runner import junit, table

BIN = Path(sys.executable).parent
START_LIMIT = 20.0
"""Real seconds the coordinator and exporter get to come up."""


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def client(coordinator: str, *args: str) -> str:
    done = subprocess.run([str(BIN / "labgrid-client"), "-x", coordinator, *args],
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, f"labgrid-client {args}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeRigHost]:
    host = FakeRigHost((("conexant-v92", "rfc2217"), ("usr-v90", "rfc2217")))
    host.start()
    try:
        yield host
    finally:
        host.close()


@pytest.fixture(scope="module")
def coordinator(tmp_path_factory: pytest.TempPathFactory,
                fake: FakeRigHost) -> Iterator[str]:
    """A coordinator and one exporter publishing the fake lines; the coordinator address."""
    work = tmp_path_factory.mktemp("labgrid")
    port = free_port()
    address = f"127.0.0.1:{port}"
    log = (work / "coordinator.log").open("wb")
    coord = subprocess.Popen([str(BIN / "labgrid-coordinator"), "-l", address], cwd=work,
                             stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    procs = [coord]
    try:
        deadline = time.monotonic() + START_LIMIT
        while not _listening(port):
            assert coord.poll() is None, (work / "coordinator.log").read_text()
            assert time.monotonic() < deadline, "the coordinator does not listen"
            time.sleep(0.05)
        exported = []
        for number, line in fake.lines.items():
            assert line.url is not None
            exported += [
                f"fake-{line.personality}:",
                "  NetworkSerialPort:",
                "    host: 127.0.0.1",
                f"    port: {line.url.rsplit(':', 1)[1]}",
                "  ModemctlModem:",
                f"    profile: {PROFILE[line.personality]}",
                f"    line: '{number}'",
                f"    model: {line.personality}",
                "    modem_lines: dcd ri dtr",
                f"    time_scale: {fake.time_scale}",
            ]
        (work / "exporter.yaml").write_text("\n".join(exported) + "\n")
        elog = (work / "exporter.log").open("wb")
        exporter = subprocess.Popen(
            [str(BIN / "labgrid-exporter"), "-c", address, "-n", "fakehost", "--hostname",
             "127.0.0.1", "exporter.yaml"], cwd=work, stdin=subprocess.DEVNULL, stdout=elog,
            stderr=subprocess.STDOUT)
        procs.append(exporter)
        while "ModemctlModem" not in client(address, "resources"):
            assert exporter.poll() is None, (work / "exporter.log").read_text()
            assert time.monotonic() < deadline, "the exporter published nothing"
            time.sleep(0.1)
        for line in fake.lines.values():
            place = f"fake-{line.personality}"
            client(address, "-p", place, "create")
            client(address, "-p", place, "add-match", f"fakehost/{place}/*")
            client(address, "-p", place, "set-tags", f"model={line.personality.replace('-', '_')}")
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


PROFILE = {"conexant-v92": "conexant", "usr-v90": "usr"}


@pytest.mark.timeout(120)
def test_suite_runs_on_places_acquired_through_the_coordinator(
        coordinator: str, tmp_path: Path) -> None:
    xml = tmp_path / "hil.xml"
    done = subprocess.run(
        [sys.executable, "-m", "modemctl", "hil", "run", "--lg-coordinator", coordinator,
         "--labgrid", "model=conexant_v92", "--labgrid", "fake-usr-v90",
         "-k", "probe or dial_and_answer or busy", "--junit", str(xml)],
        capture_output=True, text=True, timeout=110, check=False,
        env=dict(os.environ, LG_COORDINATOR=coordinator))
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "labgrid: acquired fake-conexant-v92, fake-usr-v90" in done.stdout
    rows, summary = table(done.stdout)
    assert summary == "8 passed, 0 failed, 0 skipped", done.stdout[-4000:]
    assert {k: v[0] for k, v in rows.items()} == {k: v[0] for k, v in junit(xml).items()}
    for modem in ("fake-conexant-v92", "fake-usr-v90"):
        assert rows[("test_probe_identifies_the_profile", modem)] == ("passed", "")
    for pair in ("fake-conexant-v92->fake-usr-v90", "fake-usr-v90->fake-conexant-v92"):
        assert rows[("test_dial_and_answer", pair)] == ("passed", "")
        assert rows[("test_busy", pair)] == ("passed", "")
    # Released afterwards, and the reservation is gone: the places are free again.
    for place in ("fake-conexant-v92", "fake-usr-v90"):
        shown = client(coordinator, "-p", place, "show")
        assert "acquired: None" in shown, shown
    assert "Reservation" not in client(coordinator, "reservations")


def test_places_are_released_when_the_run_fails(coordinator: str) -> None:
    with pytest.raises(RuntimeError, match="the suite blew up"), \
            acquired(["model=usr_v90"], coordinator) as places:
        assert places == ["fake-usr-v90"]
        assert "acquired: None" not in client(coordinator, "-p", "fake-usr-v90", "show")
        raise RuntimeError("the suite blew up")
    assert "acquired: None" in client(coordinator, "-p", "fake-usr-v90", "show")
    assert "Reservation" not in client(coordinator, "reservations")


def test_an_unreachable_coordinator_is_a_clear_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "modemctl", "hil", "run", "--labgrid", "rig1-usr",
         "--lg-coordinator", f"127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "Could not connect to coordinator" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_suite_runs_on_a_labgrid_environment_with_local_resources(
        fake: FakeRigHost, tmp_path: Path) -> None:
    """``hil run --lg-env``: labgrid's pytest plugin reads the file, no coordinator."""
    env = ["targets:"]
    for number, line in fake.lines.items():
        assert line.url is not None
        env += [f"  local-{line.personality}:", "    resources:",
                f"      NetworkSerialPort: {{host: 127.0.0.1, port: "
                f"{line.url.rsplit(':', 1)[1]}}}",
                f"      ModemctlModem: {{profile: {PROFILE[line.personality]}, "
                f"line: '{number}', modem_lines: dcd ri dtr, time_scale: {fake.time_scale}}}"]
    env += ["imports: [modemctl.hil.labgridrig]", ""]
    (tmp_path / "env.yaml").write_text("\n".join(env))
    done = subprocess.run(
        [sys.executable, "-m", "modemctl", "hil", "run", "--lg-env", str(tmp_path / "env.yaml"),
         "-k", "probe_identifies"],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    rows, summary = table(done.stdout)
    assert summary == "2 passed, 0 failed, 0 skipped"
    assert rows[("test_probe_identifies_the_profile", "local-usr-v90")] == ("passed", "")
