"""The executable's own process on Windows: the bundle's DLL folder is not passed on to children."""

from __future__ import annotations

import ctypes
import sys

import pytest

from server.system import startup


def test_nothing_to_reset_outside_a_frozen_windows_program(monkeypatch):
    assert startup.reset_dll_directory() is False  # a source run: never touched
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    if sys.platform != "win32":
        assert startup.reset_dll_directory() is False


@pytest.mark.skipif(sys.platform != "win32", reason="SetDllDirectoryW is Windows'")
def test_frozen_windows_program_resets_the_dll_directory(tmp_path, monkeypatch):
    k32 = ctypes.WinDLL("kernel32", use_last_error=True)
    assert k32.SetDllDirectoryW(str(tmp_path))  # what PyInstaller's bootloader does with its unpack folder
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    try:
        assert startup.reset_dll_directory() is True
        buf = ctypes.create_unicode_buffer(1024)
        assert k32.GetDllDirectoryW(1024, buf) == 0 and buf.value == ""
    finally:
        k32.SetDllDirectoryW(None)


def test_open_console_leaves_a_real_stream_alone():
    before = sys.stdout
    assert startup.open_console(allocate=True) is False
    assert sys.stdout is before
