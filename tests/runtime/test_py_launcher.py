"""The Windows `py -0p` list: interpreter paths with spaces (Program Files, a user name with a space)."""

from __future__ import annotations

import os
import sys
import types

import pytest

from server.runtime import pythons

# What the two generations of the py launcher print (3.11+ and the older 3.7-3.10 one).
NEW = """\
 -V:3.12 *        C:\\Program Files\\Python312\\python.exe
 -V:3.11          C:\\Users\\Li Wei\\AppData\\Local\\Programs\\Python\\Python311\\python.exe
 -V:3.10          \\\\fileserver\\tools\\Python 3.10\\python.exe
 -V:ContinuumAnalytics/Anaconda39-64 D:\\Anaconda 3\\python.exe
"""
OLD = """\
Installed Pythons found by py Launcher for Windows
 -3.11-64        C:\\Program Files\\Python311\\python.exe *
 -3.10-64        C:\\Python310\\python.exe
"""


def test_paths_with_spaces_are_kept_whole():
    assert pythons.py_launcher_paths(NEW) == [
        "C:\\Program Files\\Python312\\python.exe",
        "C:\\Users\\Li Wei\\AppData\\Local\\Programs\\Python\\Python311\\python.exe",
        "\\\\fileserver\\tools\\Python 3.10\\python.exe",
        "D:\\Anaconda 3\\python.exe",
    ]


def test_older_launcher_with_the_default_marker_after_the_path():
    assert pythons.py_launcher_paths(OLD) == ["C:\\Program Files\\Python311\\python.exe", "C:\\Python310\\python.exe"]


def test_no_pythons_and_noise():
    assert pythons.py_launcher_paths("No Installed Pythons Found!\n\n") == []


@pytest.mark.skipif(sys.platform == "win32", reason="Windows has the real py launcher on PATH")
def test_candidates_on_windows_run_the_real_py_list(tmp_path, monkeypatch):
    """A `py` program on PATH that prints the list, as Windows' does; `sys.platform` faked for pythons only."""
    py = tmp_path / "py"
    py.write_text(f"#!{sys.executable}\nimport sys\nassert sys.argv[1:] == ['-0p']\nsys.stdout.write({NEW!r})\n")
    py.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setattr(pythons, "sys", types.SimpleNamespace(platform="win32", executable=sys.executable))
    found = pythons._candidates()
    assert found[:2] == ["C:\\Program Files\\Python312\\python.exe",
                         "C:\\Users\\Li Wei\\AppData\\Local\\Programs\\Python\\Python311\\python.exe"]
