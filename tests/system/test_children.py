"""Every child process starts through server/system/children.py: on Windows without a console window
and in its own process group, on POSIX in its own session."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from server.system import children

ROOT = Path(__file__).resolve().parents[2]


def test_windows_flags_hide_the_console_and_separate_the_group():
    flags = children.popen_flags("win32")
    assert flags == {"creationflags": 0x08000000 | 0x00000200}
    assert "start_new_session" not in flags


@pytest.mark.skipif(sys.platform != "win32", reason="the SDK values are only known to Python on Windows")
def test_windows_values_match_pythons():
    assert children.CREATE_NO_WINDOW == subprocess.CREATE_NO_WINDOW
    assert children.CREATE_NEW_PROCESS_GROUP == subprocess.CREATE_NEW_PROCESS_GROUP


@pytest.mark.skipif(sys.platform == "win32", reason="sessions are POSIX")
def test_posix_child_gets_its_own_session():
    proc = subprocess.Popen([sys.executable, "-c", "import os; print(os.getsid(0))"], stdout=subprocess.PIPE,
                            text=True, **children.popen_flags())
    out, _ = proc.communicate(timeout=30)
    assert int(out) == proc.pid != os.getsid(0)


def _popen_calls_without_flags(path: Path) -> list[int]:
    """Line numbers of subprocess.Popen / run / call / check_* calls that do not pass **popen_flags()."""
    bad = []
    starts = {"Popen", "run", "call", "check_call", "check_output"}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in starts
                and getattr(node.func.value, "id", None) in ("subprocess", "psutil")):
            spread = [k.value for k in node.keywords if k.arg is None]
            if not any(isinstance(v, ast.Call) and getattr(v.func, "id", getattr(v.func, "attr", "")) == "popen_flags"
                       for v in spread):
                bad.append(node.lineno)
    return bad


def test_every_popen_in_the_app_uses_the_flags():
    sources = [ROOT / "launcher.py", *sorted((ROOT / "server").rglob("*.py"))]
    missing = {str(p.relative_to(ROOT)): lines for p in sources if (lines := _popen_calls_without_flags(p))}
    assert missing == {}
    # and the scan does see the calls it checks
    assert _popen_calls_without_flags(ROOT / "build" / "smoke_test.py")
