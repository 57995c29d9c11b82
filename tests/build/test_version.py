"""The build script reads the app's version the same way from a clean clone (no server/_build_info.py)
as from a tree that holds a build stamp: it once exec'd server/version.py, whose relative import
raised KeyError and stopped every build before it started."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

from server.version import __version__

ROOT = Path(__file__).resolve().parents[2]


def _build_script():
    spec = importlib.util.spec_from_file_location("lw_build_script", ROOT / "build" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_version_from_a_clean_clone():
    assert not (ROOT / "server" / "_build_info.py").exists(), "a build stamp was left in the source tree"
    assert _build_script().version() == __version__


def test_version_in_a_fresh_interpreter_outside_the_repo(tmp_path):
    # What `python build/build.py` does first, in a process that has imported nothing of the app.
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('b', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); s.loader.exec_module(m); print(m.version())")
    res = subprocess.run([sys.executable, "-c", code, str(ROOT / "build" / "build.py")], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == __version__
