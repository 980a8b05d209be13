"""Run every benchmark in one go: ``python -m bench [--quick]`` (``make bench``).

Each benchmark module prints its own tables; running them in one process
invocation keeps the figures side by side and from the same machine state.
"""

from __future__ import annotations

import importlib
import sys
import time

# Order matters only for reading: the fake first (the responder everything
# else is measured against), then the driver, then the line layer on top.
MODULES = ("bench.fake_bench", "bench.driver_bench", "bench.secure_bench",
           "bench.cancel_bench", "bench.fax_bench", "bench.session_bench")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    failures = 0
    for name in MODULES:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        module = importlib.import_module(name)
        rc = module.main(args)
        failures += 1 if rc else 0
        print(f"--- {name}: {time.perf_counter() - started:.1f}s, exit {rc or 0}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
