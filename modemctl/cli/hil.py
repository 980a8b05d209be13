"""``modemctl hil run``: the hardware-in-the-loop conformance suite, on a rig or the fake rig."""

from __future__ import annotations

from pathlib import Path

import click

from modemctl.hil.fakerig import SUBSETS


@click.group("hil")
def command() -> None:
    """Run the conformance suite against a rig of modems (or the fake rig)."""


@command.command("run")
@click.option("--rig", "rig", type=click.Path(path_type=Path, dir_okay=False),
              help="Rig file (TOML, see hil/rig-example.toml); without it: the fake rig.")
@click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
              help="Also write a JUnit XML report here.")
@click.option("-k", "keyword", help="Only tests matching this pytest -k expression.")
@click.option("--fake-rig", "fake_subset", type=click.Choice(sorted(SUBSETS)), default="full",
              show_default=True, help="Which fake lines the fake rig has (no --rig).")
@click.option("--data-bytes", type=click.IntRange(min=1),
              help="Bytes each way in the data-integrity test (default: the rig's).")
@click.option("--labgrid", "labgrid", multiple=True, metavar="PLACE-OR-TAGS",
              help="Run on a labgrid place (a name) or on a free place with these tags "
                   "(key=value,...), reserved and acquired through the coordinator; "
                   "repeat for more modems.")
@click.option("--lg-env", "lg_env", type=click.Path(path_type=Path, dir_okay=False,
                                                    exists=True),
              help="Run on the targets of this labgrid environment file, one modem each "
                   "(places you acquired, or local resources).")
@click.option("--lg-coordinator", "coordinator", metavar="HOST:PORT",
              help="labgrid coordinator (default: $LG_COORDINATOR or 127.0.0.1:20408).")
def run_command(rig: Path | None, junit: Path | None, keyword: str | None, fake_subset: str,
                data_bytes: int | None, labgrid: tuple[str, ...], lg_env: Path | None,
                coordinator: str | None) -> None:
    """Print the capability matrix, run the suite, print a table per test and modem.

    Exit status 0 only when no test failed.
    """
    from modemctl.hil.rig import load_rig

    try:
        from modemctl.hil.runner import run  # pytest is imported only when the suite runs
    except ImportError as exc:
        raise click.ClickException(f"the hil suite needs pytest ({exc.name} is missing): "
                                   "pip install 'modemctl[hil]'") from exc

    if sum(x is not None and x != () for x in (rig, labgrid, lg_env)) > 1:
        raise click.UsageError("give one of --rig, --labgrid and --lg-env")
    if rig is not None:
        load_rig(rig)        # a bad rig file is a ConfigError here, not inside pytest
    if labgrid or lg_env is not None:
        try:
            import labgrid as _labgrid  # noqa: F401
        except ImportError as exc:
            raise click.ClickException("labgrid is not installed: "
                                       "pip install 'modemctl[hil]'") from exc
    code, _ = run(rig, junit, keyword, fake_subset, data_bytes, echo=click.echo,
                  labgrid=labgrid, coordinator=coordinator, lg_env=lg_env)
    raise click.exceptions.Exit(code)
