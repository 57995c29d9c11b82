"""Desktop integration: open a folder in the OS file manager, bring the window to the front.

Every launch is an argv list (never a shell string). `OPENER` is a seam: tests replace it to
record what would be opened, since a test machine has no file manager to watch.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .children import popen_flags


def _default_opener(path: Path, reveal: bool = False) -> None:
    path = Path(path)
    if sys.platform == "win32":
        if reveal and path.is_file():
            subprocess.Popen(["explorer", "/select,", str(path)], **popen_flags())
        else:
            os.startfile(str(path))  # type: ignore[attr-defined]
    elif sys.platform == "darwin":
        subprocess.Popen(["open", "-R", str(path)] if reveal else ["open", str(path)], **popen_flags())
    else:
        target = path.parent if reveal and path.is_file() else path
        subprocess.Popen(["xdg-open", str(target)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         **popen_flags())


OPENER = _default_opener


def open_path(path: Path, reveal: bool = False) -> None:
    """Show `path` in the file manager. A file is always revealed (its folder opened, the file selected),
    never opened: "opening" a file runs its default handler, which for a .bat/.exe/.desktop means running it."""
    from ..errors import ApiError

    if not reveal and Path(path).is_file():
        reveal = True
    try:
        OPENER(path, reveal)
    except OSError as exc:
        raise ApiError(f"Could not open {path} in the file manager: {exc}", code="open_failed",
                       status=500, details={"path": str(path)}) from None


def focus_window(window) -> None:
    """Restore and raise a pywebview window (a second launch asks the first to do this)."""
    for method in ("restore", "show"):
        fn = getattr(window, method, None)
        if fn:
            try:
                fn()
            except Exception:  # noqa: BLE001 - a backend may not support every call
                pass
    # Toggling on-top is the portable way to raise a window above others in pywebview.
    try:
        window.on_top = True
        window.on_top = False
    except Exception:  # noqa: BLE001
        pass
