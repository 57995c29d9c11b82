"""Window mode: the window starts while the app is built, and its first request is answered once the app
is up (tests/system/window_overlap_run.py drives the real launcher with a stand-in for pywebview)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from server.instance import InstanceLock

ROOT = Path(__file__).resolve().parents[2]


def launch(tmp_path: Path, mode: str) -> tuple[dict, str]:
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "system" / "window_overlap_run.py"),
                          str(tmp_path / "data"), mode], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "LORA_WORKBENCH_GPU_PROVIDER": "none"})
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert lines, res.stdout + res.stderr
    return json.loads(lines[-1]), res.stdout + res.stderr


def test_the_window_starts_while_the_app_is_built(tmp_path):
    out, log = launch(tmp_path, "ok")
    assert out["code"] == 0, log
    # the page's request, made before the app existed, was answered by it, with the window known
    assert out["health"]["window"] is True, log
    assert out["early"] is False, log   # built after the web view's engine was chosen, not beside its imports
    # no collection while start-up loads, then collection again with start-up's objects left out of it
    assert out["gc"] == {"in_build": False, "resumed": True, "frozen": True}, log
    assert "running at http://127.0.0.1:" in log and "LoRA Workbench stopped." in log


def test_an_app_that_cannot_start_closes_the_window(tmp_path):
    out, log = launch(tmp_path, "fail")
    assert out == {"code": 2, "health": None, "closed": True, "early": False,
                   "gc": {"in_build": False, "resumed": True, "frozen": True}}, log
    assert "the database cannot be opened" in log
    assert "running at" not in log
    # the data folder is free again for the next launch
    lock = InstanceLock(tmp_path / "data")
    assert lock.acquire()
    lock.release()
