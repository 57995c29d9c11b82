"""System Pythons that setup can build musubi-tuner's environment with (3.10-3.12, `venv` available).

Candidates: the Windows `py` launcher's list (`py -0p`), `python3.12/3.11/3.10/python3/python` on PATH,
and the app's own interpreter when it runs from source. The Microsoft Store alias
(...\\WindowsApps\\python.exe) is skipped: running it opens the Store instead of Python.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from . import procs

SUPPORTED = ((3, 10), (3, 12))   # musubi-tuner: requires-python >=3.10, <3.13
NAMES = ("python3.12", "python3.11", "python3.10", "python3", "python")
CHECK = ("import sys, json\n"
         "try:\n    import venv, ensurepip; v = True\nexcept Exception:\n    v = False\n"
         "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3], 'executable': sys.executable, 'venv': v,"
         " 'bits': 64 if sys.maxsize > 2**32 else 32}))")


def supported(version: str | None) -> bool:
    if not version:
        return False
    parts = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
    return len(parts) == 2 and SUPPORTED[0] <= parts <= SUPPORTED[1]


# One interpreter per line of `py -0p`: a tag, an optional `*` (the default), the path, in either order
# of the two launcher generations (" -V:3.12 *        C:\Program Files\Python312\python.exe", older:
# " -3.11-64        C:\Python311\python.exe *"). The path may contain spaces, so it is taken
# from its drive letter or UNC prefix to the last ".exe", not split on whitespace.
_PY_LIST_PATH = re.compile(r"(?P<path>(?:[A-Za-z]:[\\/]|\\\\).*\.exe)(?:\s+\*)?\s*$", re.IGNORECASE)


def py_launcher_paths(output: str) -> list[str]:
    """The interpreter paths listed by `py -0p`."""
    paths = []
    for line in output.splitlines():
        m = _PY_LIST_PATH.search(line)
        if m:
            paths.append(m.group("path"))
    return paths


def _candidates(extra=()) -> list[str]:
    found: list[str] = [str(p) for p in extra if p]
    if sys.platform == "win32" and shutil.which("py"):
        found += py_launcher_paths(procs.capture(["py", "-0p"], timeout=10).stdout)
    for name in NAMES:
        path = shutil.which(name)
        if path:
            found.append(path)
    if not getattr(sys, "frozen", False):
        found.append(sys.executable)
    return found


def find(extra=(), timeout: float = 15) -> list[dict]:
    """[{"path", "version", "venv", "supported", "bits"}], best first (newest supported with venv)."""
    import json

    seen, out = set(), []
    for cand in _candidates(extra):
        if "WindowsApps" in cand:
            continue
        try:
            key = os.path.normcase(str(Path(cand).resolve()))
        except (OSError, ValueError):  # ValueError: a NUL in a path sent by the UI
            continue
        if key in seen:
            continue
        seen.add(key)
        res = procs.capture([cand, "-I", "-c", CHECK], timeout=timeout)
        if not res.ok:
            continue
        try:
            info = json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            continue
        info["path"] = cand
        exe = os.path.normcase(str(info.get("executable") or cand))
        if exe in seen and exe != key:
            continue
        seen.add(exe)
        info["supported"] = supported(info.get("version")) and info.get("bits") == 64
        out.append(info)
    out.sort(key=lambda i: (not (i["supported"] and i["venv"]),
                            [-int(x) for x in i["version"].split(".")[:2]]))
    return out


def best(found: list[dict]) -> dict | None:
    for info in found:
        if info["supported"] and info["venv"]:
            return info
    return None
