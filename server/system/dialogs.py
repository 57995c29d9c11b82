"""The native file dialog's file-type filters, per platform.

pywebview parses each filter as `Description (*.ext;*.ext)` (webview.util.parse_file_type) and raises
ValueError otherwise, so a bare file name such as `python.exe` is not a valid pattern. Interpreters
are `*.exe` on Windows; elsewhere they have no extension at all, so only "all files" (`*`, which
Qt and GTK match against names without a dot, unlike `*.*`) can show them.
"""

from __future__ import annotations

import sys

ALL_WINDOWS = "All files (*.*)"
ALL_POSIX = "All files (*)"


def file_types(kind: str, platform: str | None = None) -> tuple[str, ...]:
    """Filters for `window.create_file_dialog(..., file_types=...)`; kind is "model", "python" or "any"."""
    windows = (platform or sys.platform) == "win32"
    everything = ALL_WINDOWS if windows else ALL_POSIX
    if kind == "model":
        return ("Safetensors (*.safetensors)", "PyTorch (*.pth;*.pt)", everything)
    if kind == "python":
        return ("Python (*.exe)", everything) if windows else (everything,)
    if kind == "any":  # e.g. a dataset zip to import
        return (everything,)
    raise KeyError(kind)


KINDS = ("model", "python", "any")
