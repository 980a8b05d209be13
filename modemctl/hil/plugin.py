"""The pytest plugin that turns a rig into test parameters (``-p modemctl.hil.plugin``).

Options: ``--rig FILE`` (no file: the fake rig), ``--fake-rig SUBSET`` and
``--data-bytes N``.  A test that takes ``modem`` runs once per modem of the
rig, one that takes ``pair`` once per pair.  ``@pytest.mark.needs(...)``
says what a test needs; where the rig lacks it the test is skipped, before
it runs, with the reason (:mod:`modemctl.hil.needs`).  Each test records
the modem or pair it ran on as the JUnit property ``modem``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

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
    config.stash[HARNESS] = Harness.build(config.getoption("--rig"),
                                          config.getoption("--fake-rig"),
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
