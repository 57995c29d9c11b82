"""What the Windows executable fixes about its own process before anything else runs.

- The DLL search path: PyInstaller's bootloader calls SetDllDirectoryW(<its unpack folder>) so the
  bundle finds its DLLs, and every child inherits that. A trainer's torch would then load the app's
  copies of the MSVC runtime / OpenMP / CUDA helpers before its own and fail or crash in odd ways.
  Python's own extension modules are already loaded by then, so resetting it is safe (PyInstaller's
  documentation recommends exactly this before starting other programs).
- The console: the executable is a windowed program (no console window to close by mistake, none
  left behind when the window closes). `--console` attaches to the console it was started from or
  opens a new one, and shows stdout/stderr there too, for support and for `--headless`. Why it cannot
  start is shown in a message box, since nobody would see it printed.
"""

from __future__ import annotations

import sys

ATTACH_PARENT_PROCESS = 0xFFFFFFFF  # (DWORD)-1
MB_ICONERROR = 0x10


def _kernel32():
    import ctypes

    return ctypes.WinDLL("kernel32", use_last_error=True)


def reset_dll_directory() -> bool:
    """Undo the bundle's SetDllDirectoryW when frozen on Windows; True when it was reset."""
    if sys.platform != "win32" or not getattr(sys, "frozen", False):
        return False
    return bool(_kernel32().SetDllDirectoryW(None))


def open_console(*, allocate: bool) -> bool:
    """Windows, no console stream: attach to the parent's console, else (`allocate`) open a new one.

    Returns True when stdout/stderr now show on a console (and still go to the log). Elsewhere, or
    when a console or pipe is already there (a terminal, the smoke test's pipes), nothing changes.
    """
    from . import applog

    if sys.platform != "win32" or not isinstance(sys.stdout, (applog.LogStream, type(None))):
        return False
    k32 = _kernel32()
    if not k32.AttachConsole(ATTACH_PARENT_PROCESS):
        if not allocate or not k32.AllocConsole():
            return False
    out = open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115 - lives as long as the app
    applog.ensure_streams()  # both LogStreams now: the log keeps everything the console shows
    sys.stdout = applog.ConsoleTee(out, sys.stdout)
    sys.stderr = applog.ConsoleTee(out, sys.stderr)
    return True


def report_failure(message: str, title: str = "LoRA Workbench") -> None:
    """Tell the user why the app cannot start: on stderr, and, where nobody would see that (the
    windowed executable started from Explorer), in a message box too."""
    from .applog import LogStream

    print(message, file=sys.stderr, flush=True)
    if sys.platform == "win32" and isinstance(sys.stderr, (LogStream, type(None))):
        import ctypes

        ctypes.WinDLL("user32").MessageBoxW(None, message, title, MB_ICONERROR)
