"""The UI's JS unit tests (vitest, `ui/test/*.test.js`: the state classes such as TaskForm) run in ./test.sh.

They run in plain Node, no browser; a failing JS test fails this test with vitest's report. The classes that talk
to the server (the tagging card and dialog) run against the real app, started with this interpreter
(ui/test/liveServer.js)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VITEST = ROOT / "node_modules" / "vitest" / "vitest.mjs"


def test_vitest_suite_passes(tmp_path):
    node = shutil.which("node")
    if not node:
        pytest.fail("node is required")
    if not VITEST.is_file():
        pytest.fail("vitest is not installed: run `npm ci` (./test.sh does)")
    # LW_PYTHON: the JS tests read the real task-type table from the server code, and start the app, with this
    # interpreter.
    env = {**os.environ, "LW_PYTHON": sys.executable, "NO_COLOR": "1", "CI": "1"}
    proc = subprocess.run(
        [node, str(VITEST), "run", "--config", "ui/vitest.config.js", "--reporter", "verbose"],
        cwd=ROOT, env=env, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=600,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report[-8000:]
    assert " passed" in report and "no test files found" not in report.lower(), report[-4000:]
