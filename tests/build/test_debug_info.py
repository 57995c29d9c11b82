"""The build leaves debug sections out of the Linux libraries that have them (build/debug_info.py) and
touches no other file: a real shared library compiled here with and without -g, loaded with ctypes."""

from __future__ import annotations

import ctypes
import runpy
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
debug_info = types.SimpleNamespace(**runpy.run_path(str(ROOT / "build" / "debug_info.py")))

pytestmark = pytest.mark.skipif(not (sys.platform.startswith("linux") and shutil.which("gcc") and shutil.which("strip")),
                                reason="ELF libraries, built with gcc and binutils")

SOURCE = "int answer(int x) { int table[4] = {1, 2, 3, 4}; return table[x & 3] * 10 + x; }\n"


def _library(tmp: Path, name: str, *flags: str) -> Path:
    (tmp / "answer.c").write_text(SOURCE)
    lib = tmp / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", *flags, "-o", str(lib), str(tmp / "answer.c")], check=True)
    return lib


def _answer(lib: Path) -> int:
    return ctypes.CDLL(str(lib)).answer(6)


def test_a_library_with_debug_sections_is_copied_without_them_and_still_loads(tmp_path):
    lib = _library(tmp_path, "libdebug.so", "-g")
    assert debug_info.has_debug_sections(lib)
    toc, saved = debug_info.strip_debug([("pkg/libdebug.so", str(lib), "BINARY")], tmp_path / "work")
    (dest, src, kind), = toc
    assert (dest, kind) == ("pkg/libdebug.so", "BINARY")
    assert Path(src) == tmp_path / "work" / "pkg" / "libdebug.so"
    assert not debug_info.has_debug_sections(src)
    assert saved == lib.stat().st_size - Path(src).stat().st_size > 0
    assert _answer(Path(src)) == _answer(lib) == 36
    assert debug_info.has_debug_sections(lib)   # the original is left as it was


def test_files_without_debug_sections_go_in_untouched(tmp_path):
    plain = _library(tmp_path, "libplain.so")
    text = tmp_path / "notes.txt"
    text.write_text("not an ELF file")
    assert not debug_info.has_debug_sections(plain) and not debug_info.has_debug_sections(text)
    toc = [("libplain.so", str(plain), "BINARY"), ("notes.txt", str(text), "DATA")]
    assert debug_info.strip_debug(toc, tmp_path / "work") == (toc, 0)
    assert not (tmp_path / "work").exists()


def test_the_linux_recipe_bundles_the_stripped_copy(tmp_path, monkeypatch):
    """The .spec run as PyInstaller runs it on Linux: what EXE receives is the copy without debug sections."""
    import PyInstaller.utils.hooks  # noqa: F401 - the spec imports it

    lib = _library(tmp_path, "libdebug.so", "-g")
    seen = {}

    def analysis(scripts, **kw):
        return types.SimpleNamespace(pure=[], scripts=[], binaries=[("libdebug.so", str(lib), "BINARY")], datas=[])

    def exe(pyz, scripts, binaries, *rest, **kw):
        seen["binaries"] = binaries

    ns = {"SPECPATH": str(ROOT / "build"), "workpath": str(tmp_path / "work"), "Analysis": analysis,
          "PYZ": lambda *a, **kw: object(), "EXE": exe}
    code = compile((ROOT / "build" / "lora_workbench.spec").read_text(encoding="utf-8"), "lora_workbench.spec", "exec")
    monkeypatch.setattr(sys, "platform", "linux")
    exec(code, ns)
    (dest, src, _), = seen["binaries"]
    assert dest == "libdebug.so" and Path(src) == tmp_path / "work" / "nodebug" / "libdebug.so"
    assert not debug_info.has_debug_sections(src) and _answer(Path(src)) == 36
