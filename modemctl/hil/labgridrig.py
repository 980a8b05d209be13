"""The rig as labgrid resources: what a labgrid place holds, turned into a :class:`Rig`.

When a rig outgrows one machine, labgrid (the ``hil`` extra) schedules it:
each rig host runs an exporter, a coordinator keeps the places, and a run
reserves and acquires the places it needs.  A place here is **one modem**:

- its port, a ``NetworkSerialPort`` (``host``, ``port``, ``protocol``
  ``rfc2217`` or ``raw``), or, on the rig host itself, a ``RawSerialPort``;
- a :class:`ModemctlModem` saying what is on that port (profile, line number,
  model, the modem lines the port really carries, power outlet), published
  by the exporter as declared;
- optionally a :class:`ModemctlLineSimulator` and a :class:`ModemctlPowerSwitch`
  (the rig file's ``[line_simulator]`` and ``[power_switch]`` tables as
  resources), with drivers of ours that build our simulator and switch;
  every place that has them must have the same ones.

Places are tagged by modem model (``model=usr-v90``) so a run can ask the
coordinator for "any free USR" rather than a place by name.  The same
targets come from labgrid's pytest plugin (``--lg-env``) or from
``modemctl hil run --labgrid`` (:mod:`.labgridplaces`), and
:func:`rig_from_targets` makes the rig the suite runs on.

labgrid's own serial export (``RawSerialPort``/``USBSerialPort`` on an
exporter) starts ser2net with ``local`` and listening on every interface: no
modem lines (reference §1.2).  A rig that wants DCD, RI and DTR publishes a
ser2net of its own (without ``local``) as a plain ``NetworkSerialPort`` and
says so in ``modem_lines``.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attr
from labgrid.driver.common import Driver
from labgrid.factory import target_factory
from labgrid.resource.common import Resource
from labgrid.resource.serialport import NetworkSerialPort, RawSerialPort
from labgrid.target import Target

from modemctl.errors import ConfigError
from modemctl.hil.linesim.asterisk import AsteriskSimulator
from modemctl.hil.linesim.base import LineSimulator
from modemctl.hil.power import CommandPowerSwitch, PowerSwitch
from modemctl.hil.rig import (
    DEFAULT_DATA_BYTES,
    MODEM_LINES,
    DeviceSpec,
    Rig,
    RigModem,
    RigPair,
)
from modemctl.profiles import get_profile

_str = attr.validators.instance_of(str)


def _modem_lines(instance: object, attribute: object, value: object) -> None:
    if not isinstance(value, str) or any(x not in MODEM_LINES for x in value.split()):
        raise ValueError(f"modem_lines must name some of {MODEM_LINES}, space-separated, "
                         f"not {value!r}")


# labgrid carries resource parameters as scalars only (its MapValue: bool,
# int, float, str), so lists are space-separated strings here.

@target_factory.reg_resource
@attr.s(eq=False)
class ModemctlModem(Resource):  # type: ignore[misc]
    """What is on a place's serial port: the rig file's ``[[modem]]`` minus the URL."""

    profile: str = attr.ib(validator=_str)
    line: str = attr.ib(validator=_str)
    model: str = attr.ib(default="", validator=_str)
    modem_lines: str = attr.ib(default="", validator=_modem_lines)
    """Which of ``dcd ri dtr`` the port really carries, space-separated."""
    outlet: str | None = attr.ib(default=None, converter=attr.converters.optional(str))
    """Its power-switch outlet (a number or a name, as in the rig file)."""
    removable: bool = attr.ib(default=False, validator=attr.validators.instance_of(bool))
    time_scale: float = attr.ib(default=1.0, validator=attr.validators.instance_of(float | int))
    """A fake line runs on scaled time; a real modem at 1.0."""


@target_factory.reg_resource
@attr.s(eq=False)
class ModemctlLineSimulator(Resource):  # type: ignore[misc]
    """The rig's line simulator; ``kind`` ``asterisk`` takes the rig file's AMI settings."""

    kind: str = attr.ib(validator=attr.validators.in_(("asterisk",)))
    host: str = attr.ib(validator=_str)
    port: int = attr.ib(default=5038, validator=attr.validators.instance_of(int))
    username: str = attr.ib(default="modemctl", validator=_str)
    secret_env: str = attr.ib(default="MODEMCTL_AMI_SECRET", validator=_str)
    """The AMI secret is read from this variable on the client: never published."""
    channel: str = attr.ib(default="DAHDI/{line}", validator=_str)
    context: str = attr.ib(default="modem-lab", validator=_str)
    exten: str = attr.ib(default="s", validator=_str)

    def spec(self) -> DeviceSpec:
        fields = ("host", "port", "username", "secret_env", "channel", "context", "exten")
        return DeviceSpec(self.kind, {f: getattr(self, f) for f in fields})


@target_factory.reg_resource
@attr.s(eq=False)
class ModemctlPowerSwitch(Resource):  # type: ignore[misc]
    """The rig's power switch; ``kind`` ``command``: the command lines that switch an
    outlet on and off (split like a shell would, never run by one), ``{outlet}``
    filled in.  Not ``on``/``off`` as in the rig file: YAML 1.1 reads those keys
    as booleans."""

    kind: str = attr.ib(validator=attr.validators.in_(("command",)))
    on_command: str = attr.ib(validator=_str)
    off_command: str = attr.ib(validator=_str)

    def spec(self) -> DeviceSpec:
        return DeviceSpec(self.kind, {"on": shlex.split(self.on_command),
                                      "off": shlex.split(self.off_command)})


@target_factory.reg_driver
@attr.s(eq=False)
class ModemctlLineSimulatorDriver(Driver):  # type: ignore[misc]
    """Our line simulator for a :class:`ModemctlLineSimulator` resource."""

    bindings: ClassVar[dict[str, str]] = {"resource": "ModemctlLineSimulator"}

    def simulator(self) -> LineSimulator:
        """A simulator for this resource (connect it on the loop that uses it)."""
        return AsteriskSimulator.from_settings(self.resource.spec().settings,
                                               f"labgrid {self.target.name}")


@target_factory.reg_driver
@attr.s(eq=False)
class ModemctlPowerSwitchDriver(Driver):  # type: ignore[misc]
    """Our power switch for a :class:`ModemctlPowerSwitch` resource."""

    bindings: ClassVar[dict[str, str]] = {"resource": "ModemctlPowerSwitch"}

    def switch(self) -> PowerSwitch:
        return CommandPowerSwitch.from_settings(self.resource.spec().settings,
                                                f"labgrid {self.target.name}")


def port_url(port: Any, modem_lines: Sequence[str]) -> str:
    """The pyserial URL of a labgrid serial resource.

    A port that carries no DTR never acknowledges SET-CONTROL (ser2net in
    front of a pty, or with ``local``), hence ``ign_set_control`` there;
    a server that does acknowledge it takes the flag as harmless.
    """
    if isinstance(port, NetworkSerialPort):
        if port.port is None:
            raise ConfigError(f"labgrid {port.name}", "the serial port is not exported "
                                                       "(is the place acquired?)")
        if port.protocol == "raw":
            return f"socket://{port.host}:{port.port}"
        if port.protocol != "rfc2217":
            raise ConfigError(f"labgrid {port.name}", f"protocol {port.protocol!r} is not "
                                                       "rfc2217 or raw")
        query = "" if "dtr" in modem_lines else "?ign_set_control"
        return f"rfc2217://{port.host}:{port.port}{query}"
    if isinstance(port, RawSerialPort):
        return str(port.port)
    raise ConfigError("labgrid", f"{type(port).__name__} is not a serial port resource")


def _serial_port(target: Target) -> Any:
    found = [r for r in target.resources if isinstance(r, NetworkSerialPort | RawSerialPort)]
    if len(found) != 1:
        raise ConfigError(f"labgrid {target.name}", f"a modem place needs exactly one serial "
                                                    f"port resource, it has {len(found)}")
    return found[0]


def _one(target: Target, cls: type) -> Any:
    found = [r for r in target.resources if isinstance(r, cls)]
    if len(found) > 1:
        raise ConfigError(f"labgrid {target.name}", f"more than one {cls.__name__}")
    return found[0] if found else None


def modem_of(target: Target) -> tuple[RigModem, float]:
    """The modem a target (one place) holds, and its time scale."""
    info = _one(target, ModemctlModem)
    if info is None:
        raise ConfigError(f"labgrid {target.name}", "no ModemctlModem resource: what modem "
                                                    "is on this port?")
    try:
        get_profile(info.profile)
    except ConfigError as exc:
        raise ConfigError(f"labgrid {target.name}", exc.reason) from exc
    lines = tuple(info.modem_lines.split())
    modem = RigModem(name=target.name, url=port_url(_serial_port(target), lines),
                     profile=info.profile, line=info.line, model=info.model,
                     modem_lines=lines, outlet=info.outlet, removable=info.removable)
    return modem, float(info.time_scale)


def _device(targets: Sequence[Target], cls: type, what: str) -> DeviceSpec:
    specs = {t.name: r.spec() for t in targets if (r := _one(t, cls)) is not None}
    distinct = {(s.kind, repr(sorted(s.settings.items()))) for s in specs.values()}
    if len(distinct) > 1:
        raise ConfigError("labgrid", f"the places disagree on the {what}: "
                                     f"{', '.join(sorted(specs))}")
    return next(iter(specs.values())) if specs else DeviceSpec("none")


def rig_from_targets(targets: Sequence[Target], name: str = "labgrid",
                     options: Mapping[str, Any] | None = None) -> Rig:
    """One rig from labgrid targets, one modem each; pairs call round the ring.

    ``options`` may set ``location`` and ``data_bytes`` as in the rig file's
    ``[rig]`` table.
    """
    if not targets:
        raise ConfigError("labgrid", "no places, no modems")
    found = [modem_of(t) for t in targets]
    modems = tuple(m for m, _ in found)
    scales = {s for _, s in found}
    if len(scales) != 1:
        raise ConfigError("labgrid", f"the modems run on different time scales {sorted(scales)}")
    n = len(modems)
    pairs = tuple(RigPair(modems[i].name, modems[(i + 1) % n].name)
                  for i in range(n)) if n > 1 else ()
    opts = dict(options or {})
    data_bytes = opts.get("data_bytes", DEFAULT_DATA_BYTES)
    if not isinstance(data_bytes, int) or data_bytes <= 0:
        raise ConfigError("labgrid", "option data_bytes must be a positive integer")
    return Rig(name=name, modems=modems, pairs=pairs,
               line_simulator=_device(targets, ModemctlLineSimulator, "line simulator"),
               power_switch=_device(targets, ModemctlPowerSwitch, "power switch"),
               location=str(opts.get("location", "US")), time_scale=scales.pop(),
               data_bytes=data_bytes)


def rig_from_env(env: Any) -> Rig:
    """The rig of a labgrid :class:`~labgrid.Environment`: every target is one modem."""
    names = list(env.config.get_targets())
    targets = [env.get_target(n) for n in names]
    options = env.config.data.get("options") or {}
    return rig_from_targets(targets, name="labgrid", options=options)
