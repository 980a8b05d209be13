"""The conformance suite: pytest files shipped in the package, run by ``modemctl hil run``.

The same tests run on the fake rig and on racks of real modems; a rig
describes what it has and :mod:`modemctl.hil.plugin` parametrizes the tests
over its modems and pairs.
"""
