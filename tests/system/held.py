"""Windows' rule for open files, played on any OS: a file another process holds open (an antivirus
scan, the video viewer, a running python.exe) can be neither renamed nor deleted until it is let go.

`HeldFiles(monkeypatch)` makes os.replace / os.rename (from or onto) / os.unlink / os.remove of a held path raise
PermissionError (what a sharing violation is in Python), as Windows does; `hold(path, attempts)` lets
go after that many rename attempts, as a scanner does after a moment. Every other path is untouched.
"""

from __future__ import annotations

import os
from pathlib import Path


class HeldFiles:
    def __init__(self, monkeypatch):
        self.held: dict[str, int] = {}
        self.denied = 0
        real = {name: getattr(os, name) for name in ("replace", "rename", "unlink", "remove")}

        def key(p) -> str:
            return os.path.normcase(os.path.abspath(os.fspath(p)))

        def renamer(name):
            def call(src, dst, *a, **kw):
                k = next((k for k in (key(src), key(dst)) if self.held.get(k, 0) > 0), None)
                if k is not None:
                    self.held[k] -= 1
                    self.denied += 1
                    raise PermissionError(13, "The process cannot access the file because it is being used "
                                              "by another process", os.fspath(src))
                return real[name](src, dst, *a, **kw)
            return call

        def deleter(name):
            def call(path, *a, **kw):
                if self.held.get(key(path), 0) > 0:
                    self.denied += 1
                    raise PermissionError(13, "Access is denied", os.fspath(path))
                return real[name](path, *a, **kw)
            return call

        for name in ("replace", "rename"):
            monkeypatch.setattr(os, name, renamer(name))
        for name in ("unlink", "remove"):
            monkeypatch.setattr(os, name, deleter(name))
        self._key = key

    def hold(self, path: Path, attempts: int) -> None:
        """Refuse the next `attempts` renames of `path` (and deleting it meanwhile)."""
        self.held[self._key(path)] = attempts
