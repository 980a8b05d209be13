"""Calls through ser2net, a serial server with no modem control (issue 8 item 3).

ser2net 4 in front of the fake's pty line, reached as
``rfc2217://127.0.0.1:PORT?ign_set_control``: DTR changes are accepted and
do nothing, DCD and RI read low whatever the modem does, with or without
``local`` (reference hil-and-serial-transports.md §2).  A call must stay up
for as long as the modem holds it, and ``drop()`` must really put the modem
on-hook: the fake's own line state says so, not the driver.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from modemctl.driver import Engine
from modemctl.fake import Exchange, FakeLine
from modemctl.line import open_line
from modemctl.line.states import CallState
from tests.driver.conftest import wait_until
from tests.support import require_program

pytestmark = pytest.mark.interop

SCALE = 0.05
NEAR, FAR = "5551001", "5551002"


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(device: str, port: int, local: bool) -> str:
    return ("%YAML 1.1\n---\n"
            "connection: &modem\n"
            f"    accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
            f"    connector: serialdev,{device},115200n81{',local' if local else ''}\n"
            "    enable: on\n"
            "    options:\n"
            "      kickolduser: true\n")


@pytest.fixture
def ser2net_program() -> str:
    return require_program("ser2net")


@pytest.fixture
async def exchange() -> AsyncIterator[Exchange]:
    async with Exchange(time_scale=SCALE) as ex:
        yield ex


@pytest.fixture
def served(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The ser2net processes this test started; each is ended by its PID."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def _start(program: str, device: str, port: int, local: bool, conf: Path
           ) -> subprocess.Popen[bytes]:
    """ser2net in the foreground (-n -d), no UUCP lock (-u), this config only."""
    conf.write_text(_config(os.path.realpath(device), port, local))
    return subprocess.Popen([program, "-n", "-d", "-u", "-c", str(conf)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def _serve(program: str, line: FakeLine, local: bool, tmp_path: Path,
                 procs: list[subprocess.Popen[bytes]]) -> str:
    port = _free_tcp_port()
    procs.append(_start(program, line.port, port, local, tmp_path / "ser2net.yaml"))
    for _ in range(200):                          # bounded: 200 x 25 ms
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            assert procs[-1].poll() is None, "ser2net exited"
            await asyncio.sleep(0.025)
    else:
        pytest.fail("ser2net never listened")
    return f"rfc2217://127.0.0.1:{port}?ign_set_control"


@pytest.mark.parametrize("local", [True, False])
async def test_call_through_ser2net_stays_up_and_drop_puts_the_modem_on_hook(
        ser2net_program: str, exchange: Exchange, served: list[subprocess.Popen[bytes]],
        tmp_path: Path, local: bool) -> None:
    near_fake = await exchange.add_line(NEAR, personality="conexant-v92")
    far_fake = await exchange.add_line(FAR, personality="agere-v92")
    url = await _serve(ser2net_program, near_fake, local, tmp_path, served)
    far = await Engine.open(far_fake.port, time_scale=SCALE)
    try:
        assert (await far.command("ATS0=1")).ok            # the far end answers by itself
        async with open_line(url, "US", SCALE, name="served") as line:
            for round_ in range(2):
                call = await line.make_call(FAR)
                assert call.state is CallState.CONNECTED
                # DCD reads low throughout: the driver must learn it is dead,
                # and the call must outlive the DCD grace by far.
                await wait_until(lambda: line.engine.trust.dcd is False)
                for i in range(3):
                    await call.write(b"ping %d\r" % i)
                    got = b""
                    async with asyncio.timeout(3):
                        while len(got) < 7:
                            got += await far.read(7 - len(got))
                    assert got == b"ping %d\r" % i
                    await far.write(b"pong")
                    got = b""
                    async with asyncio.timeout(3):
                        while len(got) < 4:
                            got += await call.read(4 - len(got))
                    assert got == b"pong"
                assert call.state is CallState.CONNECTED
                async with asyncio.timeout(10):
                    await call.drop()
                assert near_fake.state == "command", f"round {round_}: modem still off-hook"
                assert line.engine.trust.dtr is False       # learnt: DTR does nothing here
                tail = b""
                async with asyncio.timeout(3):
                    while chunk := await far.read():        # until the far end sees the end
                        tail += chunk
                # The escape reaches the far end as data; the first time also
                # the AT that found the modem still online after the DTR drop.
                assert tail == (b"AT\r+++" if round_ == 0 else b"+++")
                assert (await line.engine.command("AT")).ok
    finally:
        await far.close()
