"""The Windows parts of the build recipe, checked on any OS without building: the executable is
windowed with an icon and a version resource PyInstaller can read, and every hidden import exists."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_spec(monkeypatch, platform: str) -> dict:
    """Execute the .spec as PyInstaller would, with its build steps recorded instead of run."""
    import PyInstaller.utils.hooks  # noqa: F401 - imported for real before sys.platform is played

    seen = {}

    def analysis(scripts, **kw):
        seen["analysis"] = kw
        return types.SimpleNamespace(pure=[], scripts=[], binaries=[], datas=[])

    ns = {"SPECPATH": str(ROOT / "build"), "workpath": str(ROOT / "build" / "work"), "Analysis": analysis, "PYZ": lambda *a, **kw: object(),
          "EXE": lambda *a, **kw: seen.setdefault("exe", kw)}
    code = compile((ROOT / "build" / "lora_workbench.spec").read_text(encoding="utf-8"), "lora_workbench.spec", "exec")
    with monkeypatch.context() as m:
        m.setattr(sys, "platform", platform)
        exec(code, ns)
    return seen


def test_windows_executable_is_windowed_with_icon_and_version(monkeypatch):
    exe = _run_spec(monkeypatch, "win32")["exe"]
    assert exe["console"] is False
    assert exe["icon"] == str(ROOT / "build" / "work" / "icon.ico")
    assert exe["version"] == str(ROOT / "build" / "work" / "version_info.txt")


def test_linux_executable_keeps_its_terminal(monkeypatch):
    assert _run_spec(monkeypatch, "linux")["exe"]["console"] is True


def test_every_hidden_import_exists(monkeypatch):
    missing = [m for m in _run_spec(monkeypatch, "win32")["analysis"]["hiddenimports"]
               if importlib.util.find_spec(m) is None]
    assert missing == []


def test_icon_has_every_size_windows_asks_for(tmp_path):
    from PIL import Image

    icon = _load("lora_workbench_icon", ROOT / "build" / "icon.py")
    path = icon.write_ico(tmp_path / "icon.ico")
    with Image.open(path) as im:
        assert im.format == "ICO"
        assert {(s, s) for s in (16, 32, 48, 256)} <= set(im.info["sizes"])


def test_version_resource_is_read_by_pyinstaller(tmp_path, monkeypatch):
    build = _load("lora_workbench_build", ROOT / "build" / "build.py")
    monkeypatch.setattr(build, "WORK", tmp_path)
    monkeypatch.setattr(build, "BUILD_INFO", tmp_path / "_build_info.py")  # never into the source tree
    build.write_version_files("1.2.3-beta")
    # PyInstaller's reader imports Windows-only modules it does not use for reading a text file.
    import PyInstaller.compat

    monkeypatch.setitem(sys.modules, "pefile", types.ModuleType("pefile"))
    monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)
    try:
        from PyInstaller.utils.win32.versioninfo import load_version_info_from_text_file

        info = load_version_info_from_text_file(str(tmp_path / "version_info.txt"))
        assert info.ffi.fileVersionMS == (1 << 16) | 2 and info.ffi.fileVersionLS == 3 << 16
        assert "1.2.3-beta" in str(info) and info.toRaw()
    finally:
        sys.modules.pop("PyInstaller.utils.win32.versioninfo", None)


@pytest.mark.parametrize("name,eol", [("start.bat", "crlf"), ("start.sh", "lf")])
def test_line_endings_are_pinned(name, eol):
    out = subprocess.run(["git", "check-attr", "eol", name], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{name}: eol: {eol}"
