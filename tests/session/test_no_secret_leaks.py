"""Run the session tests again with known secrets and scan everything they printed.

A child pytest runs the other session test files with DEBUG logging, byte
traces and a record of every modemctl error message (see ``conftest.py``);
this test then looks for each test key, in every rendering, in all of it,
and in the child's own output (where failures and reprs would appear).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.session.keys import SECRETS, renderings

HERE = Path(__file__).parent
CHILD_TESTS = ["test_context.py", "test_connection.py", "test_channel.py", "test_access.py",
               "test_credentials.py"]


def test_no_secret_reaches_logs_traces_or_error_messages(tmp_path: Path) -> None:
    env = {**os.environ, "MODEMCTL_SECRET_SCAN": str(tmp_path),
           "MODEMCTL_SESSION_TRANSFER": "65536"}
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         *[str(HERE / t) for t in CHILD_TESTS]],
        env=env, capture_output=True, text=True, timeout=240, check=False,
        cwd=HERE.parent.parent)
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-3000:]
    logs = (tmp_path / "log.jsonl").read_text()
    errors = (tmp_path / "errors.txt").read_text()
    # The scan saw real material: traces, session events and refused handshakes.
    assert '"event": "trace"' in logs and "session-established" in logs
    assert "HandshakeFailed" in errors and "UnknownIdentity" in errors
    corpus = {"logs": logs, "errors": errors, "output": child.stdout + child.stderr}
    for name, text in corpus.items():
        for secret in SECRETS:
            for shown in renderings(secret):
                assert shown not in text, f"a test key appears in the {name}"
