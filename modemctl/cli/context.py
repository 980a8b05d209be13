"""State shared by every command: global options, logging, the config file.

The group callback in :mod:`modemctl.cli.main` builds one :class:`Settings`
and stores it as click's context object; commands take it with
:func:`pass_settings`.  The config file is read lazily, so commands that do
not take a ``PORT`` (``ports``, ``demo``, ``--help``) never fail on a broken
config file.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Any

import click
import structlog

from modemctl import log
from modemctl.cli.config import Config, load_config
from modemctl.cli.target import Target, resolve
from modemctl.cli.terminal import TerminalStderr, use_json_lines


@dataclass
class Settings:
    """Global options, and the config loaded on first use."""

    verbosity: int = 0
    trace: bool = False
    log_format: log.LogFormat = "console"
    time_scale: float = 1.0
    #: ``-s``/``--baud`` of the command, which wins over the line's ``baudrate``.
    baudrate: int | None = None
    #: True when ``--time-scale`` or ``MODEMCTL_TIME_SCALE`` set the scale.
    time_scale_given: bool = False
    #: Set when the port is a fake line running at another scale than ours.
    scale_mismatch: str | None = None
    _config: Config | None = field(default=None, repr=False)

    @property
    def quiet(self) -> bool:
        """``-q``: no progress lines, only results and errors."""
        return self.verbosity < 0

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config()
        return self._config

    def target(self, port: str | None) -> Target:
        """Resolve a ``PORT`` argument (or ``$MODEMCTL_LINE``) against the config."""
        target = resolve(port, self.config)
        if self.baudrate is not None:
            target = dataclasses.replace(target, baudrate=self.baudrate)
        self._match_fake_scale(target.url)
        return target

    def _match_fake_scale(self, url: str) -> None:
        """A fake line's exchange says its time scale in the registry: use it, or say so.

        Timeouts are protocol seconds times the scale; at another scale than the
        exchange's, the driver waits far too little or far too long, and its
        errors would blame the modem's power.
        """
        from modemctl.fake.registry import find_running_line

        line = find_running_line(url)
        if line is None or line.time_scale == self.time_scale:
            return
        if not self.time_scale_given:
            self.time_scale = line.time_scale
            return
        self.scale_mismatch = (
            f"{url} is fake line {line.number}, whose exchange runs at --time-scale "
            f"{line.time_scale:g}, but this command ran at {self.time_scale:g}: drop "
            f"--time-scale (and MODEMCTL_TIME_SCALE) to follow the exchange, or give "
            f"--time-scale {line.time_scale:g}")


def log_level(verbosity: int, trace: bool) -> int:
    """Map ``-v``/``-q`` counts (and ``--trace``) to a logging level."""
    if trace or verbosity >= 2:
        return logging.DEBUG
    return {1: logging.INFO, 0: logging.WARNING, -1: logging.ERROR}.get(
        verbosity, logging.INFO if verbosity > 0 else logging.CRITICAL)


def _only_traces(_logger: Any, method: str, event: Any) -> Any:
    """With ``--trace`` but without ``-vv``, keep the byte trace and drop other debug noise."""
    if method == "debug" and event.get("event") != "trace":
        raise structlog.DropEvent
    return event


def _raw_trace_text(_logger: Any, _method: str, event: Any) -> Any:
    """In JSON, a trace's ``text`` is the bytes themselves (JSON escapes them once).

    The shared trace event carries ``text`` already backslash-escaped for
    console lines; JSON would escape those backslashes again (``AT\\\\r``).
    The hex column holds the same (redacted) bytes, so the text is rebuilt
    from it: no secret can come back.
    """
    if event.get("event") == "trace" and isinstance(event.get("hex"), str):
        event["text"] = bytes.fromhex(event["hex"]).decode("latin-1")
    return event


def configure_logging(settings: Settings) -> None:
    """Set up structlog once for this process, from the global options.

    With ``--log-format json`` the CLI's own progress and error lines become
    JSON objects too, so that stderr is one machine-readable stream.
    """
    log.configure(log_level(settings.verbosity, settings.trace), settings.log_format,
                  stream=TerminalStderr())
    use_json_lines(settings.log_format == "json")
    processors = list(structlog.get_config()["processors"])
    if settings.log_format == "json":
        processors.insert(-1, _raw_trace_text)
    if settings.trace and settings.verbosity < 2:
        processors.insert(0, _only_traces)
    structlog.configure(processors=processors)


pass_settings = click.make_pass_decorator(Settings, ensure=True)

#: Speeds a serial port is commonly set to (cu ``-s``, picocom ``-b``).
BAUD_RATES = (300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)


def _set_baud(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(Settings).baudrate = int(value)


#: ``-s``/``--baud``, for every command that opens a port.
baud_option = click.option(
    "-s", "--baud", type=click.Choice([str(b) for b in BAUD_RATES]), default=None,
    expose_value=False, callback=_set_baud, metavar="BPS",
    help="Port speed in bit/s (default: the line's baudrate, else 115200).")
