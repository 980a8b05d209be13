"""The Asterisk line simulator against a small scripted AMI responder on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from modemctl.errors import ConfigError, RigDeviceError
from modemctl.hil.linesim.asterisk import AsteriskSimulator

SECRET = "s3cret-not-in-logs"


@dataclass
class Responder:
    """Speaks just enough AMI: a banner, then one response per action, events between."""

    port: int = 0
    actions: list[dict[str, str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/5.0.2\r\n")
        msg: dict[str, str] = {}
        while raw := await reader.readline():
            line = raw.decode().rstrip("\r\n")
            if line:
                key, _, value = line.partition(": ")
                msg[key] = value
                continue
            self.actions.append(msg)
            action, ident = msg.get("Action", ""), msg.get("ActionID", "")
            ok = action not in self.refuse and not (
                action == "Login" and msg.get("Secret") != SECRET)
            # An unrelated event first: the driver must wait for its own response.
            writer.write(b"Event: Newchannel\r\nChannel: DAHDI/9-1\r\n\r\n")
            status = "Success" if ok else "Error"
            text = "Authentication failed" if action == "Login" and not ok else "done"
            writer.write(f"Response: {status}\r\nActionID: {ident}\r\nMessage: {text}\r\n\r\n"
                         .encode())
            await writer.drain()
            msg = {}
        writer.close()


@pytest.fixture
async def ami() -> AsyncIterator[Responder]:
    responder = Responder()
    server = await asyncio.start_server(responder.serve, "127.0.0.1", 0)
    responder.port = server.sockets[0].getsockname()[1]
    async with server:
        yield responder


def simulator(ami: Responder, secret: str = SECRET) -> AsteriskSimulator:
    return AsteriskSimulator("127.0.0.1", ami.port, "modemctl", secret, "DAHDI/{line}",
                             "modem-lab", "s")


async def test_ring_and_call_waiting_originate_to_the_line(ami: Responder) -> None:
    sim = simulator(ami)
    await sim.connect()
    await sim.ring("101", "199")
    await sim.call_waiting("102", "199")
    await sim.remote_hangup("103")
    await sim.close()
    kinds = [a["Action"] for a in ami.actions]
    assert kinds == ["Login", "Originate", "Originate", "Hangup", "Logoff"]
    ring, waiting, hangup = ami.actions[1:4]
    assert ring["Channel"] == "DAHDI/101" and waiting["Channel"] == "DAHDI/102"
    assert ring["CallerID"] == '"modemctl" <199>' and ring["Context"] == "modem-lab"
    assert hangup["Channel"] == "/^DAHDI/103-.*$/"
    assert len({a["ActionID"] for a in ami.actions}) == len(ami.actions)


async def test_bad_secret_is_refused_without_showing_it(ami: Responder) -> None:
    sim = simulator(ami, secret="wrong-" + SECRET)
    with pytest.raises(RigDeviceError) as info:
        await sim.connect()
    assert "Authentication failed" in str(info.value)
    assert SECRET not in str(info.value)
    await sim.close()


async def test_a_refused_action_is_a_rig_error(ami: Responder) -> None:
    ami.refuse.add("Originate")
    sim = simulator(ami)
    await sim.connect()
    with pytest.raises(RigDeviceError, match="Originate refused: done"):
        await sim.ring("101", "199")
    await sim.close()


async def test_no_dial_tone_control() -> None:
    sim = AsteriskSimulator("127.0.0.1", 1, "u", "s", "DAHDI/{line}", "c", "s")
    assert "dead-line" not in sim.capabilities
    with pytest.raises(RigDeviceError, match="cannot take a line dead"):
        await sim.set_dead("101", True)


async def test_unreachable_ami() -> None:
    with pytest.raises(RigDeviceError, match="cannot reach AMI"):
        await AsteriskSimulator("127.0.0.1", 1, "u", "s", "DAHDI/{line}", "c", "s").connect()


def test_secret_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAB_AMI", raising=False)
    settings = {"host": "pbx", "username": "u", "secret_env": "LAB_AMI"}
    with pytest.raises(ConfigError, match=r"\$LAB_AMI"):
        AsteriskSimulator.from_settings(settings, "rig.toml")
    monkeypatch.setenv("LAB_AMI", SECRET)
    sim = AsteriskSimulator.from_settings(settings, "rig.toml")
    assert sim.port == 5038 and sim.channel == "DAHDI/{line}"
