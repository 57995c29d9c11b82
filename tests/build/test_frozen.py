"""The portable one-file executable: build it with the real recipe, then start it headless, check
/api/health and load the UI; run it portable (data beside it); and with no web view it must fall
back to the browser and say so. Slow (about a minute to build), so it runs once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXE = ROOT / "build" / "dist" / ("LoRA-Workbench.exe" if sys.platform == "win32" else "LoRA-Workbench")


@pytest.fixture(scope="module")
def executable():
    res = subprocess.run([sys.executable, str(ROOT / "build" / "build.py")], cwd=ROOT, capture_output=True,
                         text=True, timeout=1200)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "Executable:" in res.stdout and "Largest parts" in res.stdout  # the size report
    assert EXE.is_file()
    return EXE


@pytest.mark.parametrize("mode", [[], ["--portable"], ["--window-fallback"]], ids=["headless", "portable", "no-webview"])
def test_executable_serves_api_and_ui(executable, mode):
    res = subprocess.run([sys.executable, str(ROOT / "build" / "smoke_test.py"), str(executable), *mode],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    assert "UI and API OK" in res.stdout
