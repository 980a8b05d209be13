"""The pytest plugin that turns a rig into test parameters (``-p modemctl.hil.plugin``).

Options: ``--rig FILE`` (no file: the fake rig), ``--fake-rig SUBSET`` and
``--data-bytes N``; with labgrid's plugin and ``--lg-env FILE`` the rig is
made of that environment's targets, one modem each (:mod:`.labgridrig`).
A test that takes ``modem`` runs once per modem of the rig, one that takes
``pair`` once per pair.  ``@pytest.mark.needs(...)``
says what a test needs; where the rig lacks it the test is skipped, before
it runs, with the reason (:mod:`modemctl.hil.needs`).  Each test records
the modem or pair it ran on as the JUnit property ``modem``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from modemctl.errors import ConfigError
from modemctl.hil.fakerig import SUBSETS
from modemctl.hil.harness import Harness
from modemctl.hil.rig import RigModem, RigPair

HARNESS = pytest.StashKey[Harness]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modemctl-hil", "modemctl hardware-in-the-loop rig")
    group.addoption("--rig", type=Path, default=None,
                    help="rig file (TOML); without it the suite runs on the fake rig")
    group.addoption("--fake-rig", default="full", choices=sorted(SUBSETS),
                    help="which fake lines make up the fake rig (default: full)")
    group.addoption("--data-bytes", type=int, default=None,
                    help="bytes each way in the data-integrity test (default: the rig's)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(*what): what the rig must offer for this "
                                       "test (modemctl.hil.needs.NEEDS); skipped otherwise")


def _labgrid_env(config: pytest.Config) -> Any:
    """labgrid's environment when its plugin runs with ``--lg-env`` (None otherwise)."""
    try:
        from labgrid.pytestplugin.hooks import LABGRID_ENV_KEY
    except ImportError:
        return None
    return config.stash.get(LABGRID_ENV_KEY, None)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Build the rig here, not in ``pytest_configure``: labgrid's plugin makes its
    environment in a ``pytest_configure`` that may run after ours."""
    config = session.config
    env = _labgrid_env(config)
    rig_path = config.getoption("--rig")
    if env is not None:
        if rig_path is not None:
            raise ConfigError(str(rig_path), "give a rig file or a labgrid environment "
                                             "(--lg-env), not both")
        from modemctl.hil.labgridrig import rig_from_env

        harness = Harness(rig_from_env(env), source=f"labgrid env {env.config_file}")
        data_bytes = config.getoption("--data-bytes")
        if data_bytes is not None:
            harness.rig = replace(harness.rig, data_bytes=data_bytes)
        config.stash[HARNESS] = harness
    else:
        config.stash[HARNESS] = Harness.build(rig_path, config.getoption("--fake-rig"),
                                              config.getoption("--data-bytes"))


def pytest_unconfigure(config: pytest.Config) -> None:
    harness = config.stash.get(HARNESS, None)
    if harness is not None:
        harness.close()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    rig = metafunc.config.stash[HARNESS].rig
    if "modem" in metafunc.fixturenames:
        metafunc.parametrize("modem", rig.modems, ids=[m.name for m in rig.modems])
    if "pair" in metafunc.fixturenames:
        metafunc.parametrize("pair", rig.pairs, ids=[p.name for p in rig.pairs])


def modems_of(item: pytest.Item) -> tuple[str, list[RigModem]]:
    """The name of what ``item`` runs on (a modem or a pair) and its modems."""
    harness = item.config.stash[HARNESS]
    params = getattr(item, "callspec", None)
    found = params.params if params is not None else {}
    if isinstance(found.get("modem"), RigModem):
        m: RigModem = found["modem"]
        return m.name, [m]
    if isinstance(found.get("pair"), RigPair):
        p: RigPair = found["pair"]
        return p.name, [harness.rig.modem(p.caller), harness.rig.modem(p.answerer)]
    return "-", []


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    name, modems = modems_of(item)
    item.user_properties.append(("modem", name))
    needs = [n for mark in item.iter_markers("needs") for n in mark.args]
    reason = item.config.stash[HARNESS].lacking(needs, modems)
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def harness(request: pytest.FixtureRequest) -> Harness:
    """The rig and its drivers."""
    return request.config.stash[HARNESS]
