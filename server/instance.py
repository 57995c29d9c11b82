"""One running app per data folder.

The first launch takes an OS file lock on `<data>/instance.lock` (released by the OS if the
process dies, so a crash never leaves a stale lock) and writes `instance.json` with its pid, URL
and secret. A second launch over the same data folder cannot take the lock: it reads the file,
checks the first one answers, and asks it to bring its window to the front instead of opening the
same database twice.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .fileio import atomic_write_text

LOCK_NAME = "instance.lock"
INFO_NAME = "instance.json"


class InstanceLock:
    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self._fh = None

    def acquire(self) -> bool:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.data_dir / LOCK_NAME, "a+")
        try:
            if sys.platform == "win32":
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def write_info(self, *, url: str, port: int, token: str, window: bool) -> None:
        info = {"pid": os.getpid(), "url": url, "port": port, "token": token, "window": window}
        atomic_write_text(self.data_dir / INFO_NAME, json.dumps(info))

    def release(self) -> None:
        if self._fh:
            try:
                (self.data_dir / INFO_NAME).unlink(missing_ok=True)
            finally:
                self._fh.close()
                self._fh = None


def running_instance(data_dir: Path) -> dict | None:
    """The info of the live app that owns `data_dir`, or None."""
    try:
        info = json.loads((Path(data_dir) / INFO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if call(info, "GET", "/api/health") is not None else None


def call(info: dict, method: str, path: str, timeout: float = 3):
    import urllib.request   # only a second launch calls the first: not on every launch's way to its window

    req = urllib.request.Request(
        f"http://127.0.0.1:{info['port']}{path}", method=method,
        headers={"X-Workbench-Token": info["token"], "Content-Type": "application/json"},
        data=b"{}" if method == "POST" else None,
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")
    except (OSError, ValueError):
        return None
