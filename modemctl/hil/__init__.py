"""Hardware-in-the-loop rig: one conformance suite for the fake exchange and real modems.

* :mod:`.rig` -- the rig file (TOML): modems, pairs, line simulator, power switch;
* :mod:`.fakerig` -- the fake rig built from the fake exchange when there is no file
  (pty, RFC 2217 and ser2net-served lines, :mod:`.ser2net`);
* :mod:`.linesim` -- line simulators behind one interface (fake exchange, Asterisk AMI);
* :mod:`.power` -- power switches;
* :mod:`.needs` -- what a test needs and why a rig lacks it (skip reasons);
* :mod:`.harness`, :mod:`.plugin`, :mod:`.steps` -- what the tests in :mod:`.suite` use;
* :mod:`.runner` -- ``modemctl hil run``: capability matrix, results table, summary.
"""
