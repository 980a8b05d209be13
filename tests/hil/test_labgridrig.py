"""labgrid targets to a rig, and the place specs and environment file of ``--labgrid``.

No coordinator here: targets are built locally, as labgrid's pytest plugin
does from an environment file with local resources.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from labgrid import Environment, Target
from labgrid.factory import target_factory
from labgrid.resource.serialport import NetworkSerialPort, RawSerialPort

from modemctl.errors import ConfigError
from modemctl.hil.labgridplaces import env_yaml, parse_spec
from modemctl.hil.labgridrig import (
    ModemctlLineSimulator,
    ModemctlModem,
    ModemctlPowerSwitch,
    ModemctlPowerSwitchDriver,
    port_url,
    rig_from_env,
    rig_from_targets,
)
from modemctl.hil.power import CommandPowerSwitch
from modemctl.hil.rig import RigPair


def target(name: str, port: int | None = 7000, lines: str = "", protocol: str = "rfc2217",
           profile: str = "usr") -> Target:
    t = Target(name)
    NetworkSerialPort(t, None, host="127.0.0.1", port=port, protocol=protocol)
    ModemctlModem(t, None, profile=profile, line="5551001", model="usr-v90",
                  modem_lines=lines, outlet="3")
    return t


def test_a_place_becomes_a_modem_with_the_url_of_its_port() -> None:
    rig = rig_from_targets([target("a", lines="dcd ri dtr"), target("b", port=7001),
                            target("c", port=7002, protocol="raw")])
    a, b, c = rig.modems
    assert (a.name, a.url, a.modem_lines, a.outlet) == (
        "a", "rfc2217://127.0.0.1:7000", ("dcd", "ri", "dtr"), "3")
    # A port without DTR never acks SET-CONTROL (ser2net on a pty or with `local`).
    assert b.url == "rfc2217://127.0.0.1:7001?ign_set_control"
    assert c.url == "socket://127.0.0.1:7002"
    assert rig.pairs == (RigPair("a", "b"), RigPair("b", "c"), RigPair("c", "a"))
    assert rig.line_simulator.kind == "none" and rig.power_switch.kind == "none"


def test_a_local_raw_serial_port_is_its_path() -> None:
    t = Target("local")
    port = RawSerialPort(t, None, port="/dev/ttyUSB0")
    assert port_url(port, ()) == "/dev/ttyUSB0"


def test_devices_come_from_the_places_and_must_agree() -> None:
    a, b = target("a"), target("b", port=7001)
    for t in (a, b):
        ModemctlLineSimulator(t, None, kind="asterisk", host="pbx.lab")
        ModemctlPowerSwitch(t, None, kind="command", on_command="usbrelay R{outlet}=1",
                            off_command="usbrelay 'R{outlet}=0'")
    rig = rig_from_targets([a, b])
    assert rig.line_simulator.kind == "asterisk"
    assert rig.line_simulator.settings["host"] == "pbx.lab"
    assert rig.power_switch.settings == {"on": ["usbrelay", "R{outlet}=1"],
                                         "off": ["usbrelay", "R{outlet}=0"]}
    c = target("c", port=7002)
    ModemctlLineSimulator(c, None, kind="asterisk", host="other.lab")
    with pytest.raises(ConfigError, match="disagree on the line simulator"):
        rig_from_targets([a, c])


def test_the_power_switch_driver_builds_our_switch() -> None:
    t = target("a")
    ModemctlPowerSwitch(t, None, kind="command", on_command="true",
                        off_command="false")
    driver = ModemctlPowerSwitchDriver(t, None)
    t.activate(driver)
    assert isinstance(driver.switch(), CommandPowerSwitch)


@pytest.mark.parametrize(("make", "error"), [
    (lambda: target("a", port=None), "not exported"),
    (lambda: target("a", protocol="telnet"), "not rfc2217 or raw"),
    (lambda: target("a", profile="nope"), "nope"),
])
def test_bad_places_are_config_errors(make: object, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        rig_from_targets([make()])  # type: ignore[operator]


def test_a_place_without_modem_or_with_two_ports_is_refused() -> None:
    t = Target("bare")
    NetworkSerialPort(t, None, host="127.0.0.1", port=1)
    with pytest.raises(ConfigError, match="no ModemctlModem"):
        rig_from_targets([t])
    two = target("two")
    NetworkSerialPort(two, "second", host="127.0.0.1", port=2)
    with pytest.raises(ConfigError, match="exactly one serial port"):
        rig_from_targets([two])
    with pytest.raises(ValueError, match="modem_lines"):
        ModemctlModem(Target("x"), None, profile="usr", line="1", modem_lines="dcd cts")


def test_place_specs() -> None:
    assert parse_spec("rig1-usr") == "rig1-usr"
    assert parse_spec("model=usr_v90,site=lab2") == {"model": "usr_v90", "site": "lab2"}
    for bad in ("", "a,b", "model=", "model=usr,x"):
        with pytest.raises(ConfigError):
            parse_spec(bad)


def test_an_environment_file_with_local_resources_is_a_rig(tmp_path: Path) -> None:
    """What ``pytest --lg-env`` reads: here local resources, through ``imports:``."""
    env_file = tmp_path / "env.yaml"
    env_file.write_text(
        "targets:\n"
        "  usr1:\n"
        "    resources:\n"
        "      NetworkSerialPort: {host: 127.0.0.1, port: 7000}\n"
        "      ModemctlModem: {profile: usr, line: '5551001', modem_lines: dcd}\n"
        "options:\n"
        "  data_bytes: 1024\n"
        "imports:\n"
        "  - modemctl.hil.labgridrig\n")
    rig = rig_from_env(Environment(str(env_file)))
    assert [m.name for m in rig.modems] == ["usr1"] and rig.data_bytes == 1024
    assert rig.modems[0].modem_lines == ("dcd",)


def test_the_generated_environment_names_one_remote_place_per_target(tmp_path: Path) -> None:
    text = env_yaml(["rig1-usr", "it's"])
    (tmp_path / "env.yaml").write_text(text)
    env = Environment(str(tmp_path / "env.yaml"))
    targets = env.config.get_targets()
    assert list(targets) == ["rig1-usr", "it's"]
    assert targets["it's"]["resources"]["RemotePlace"]["name"] == "it's"
    assert env.config.get_imports() == ["modemctl.hil.labgridrig"]


def test_the_exporter_example_makes_a_rig() -> None:
    """``hil/labgrid-exporter-example.yaml``: every group is a valid place."""
    example = Path(__file__).parents[2] / "hil" / "labgrid-exporter-example.yaml"
    groups = yaml.safe_load(example.read_text())
    targets = []
    for group, resources in groups.items():
        t = Target(group)
        for cls, params in resources.items():
            target_factory.make_resource(t, cls, cls, params)
        targets.append(t)
    rig = rig_from_targets(targets)
    assert [(m.name, m.url, m.outlet) for m in rig.modems] == [
        ("rig1-usr", "rfc2217://rig1.lab.example:7001", "1"),
        ("rig1-mt", "rfc2217://rig1.lab.example:7002", "2")]
    assert rig.modem("rig1-mt").removable
    assert rig.line_simulator.kind == "asterisk" and rig.power_switch.kind == "command"
