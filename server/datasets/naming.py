"""Choosing a free file name in a dataset folder without ever overwriting anything.

Media names must be unique by STEM, not by full name: musubi-tuner pairs `a.png` and `a.jpg`
with the same `a.txt`, so a clash is any existing file with the same stem (compared
case-insensitively, as Windows does). Control names clash only with the same file name.
A clash becomes `name_1`, `name_2`, ...

Claims are shared by every import running on the same folder, so two concurrent imports cannot
pick the same new name; a claim is released once the import that took it has finished.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .media_types import split_name

_claims: dict[str, set[str]] = {}
_guard = threading.Lock()


def _folder_keys(folder: Path, by_stem: bool) -> set[str]:
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return set()
    return {(split_name(n)[0] if by_stem else n).lower() for n in names}


class Claimer:
    """Hands out free names in one folder for the lifetime of one import."""

    def __init__(self, folder: Path, *, by_stem: bool, also: Path | None = None):
        """`also`: a folder whose stems are taken too - the control folder for image_control media,
        because a new target `b_1` would otherwise adopt control `b_1.png`, the 2nd control of `b`."""
        self.folder = folder
        self.by_stem = by_stem
        self.key = f"{folder}|{by_stem}"
        self.taken = _folder_keys(folder, by_stem) | (_folder_keys(also, True) if also else set())
        self.mine: set[str] = set()

    def _key(self, stem: str, ext: str) -> str:
        return (stem if self.by_stem else stem + ext).lower()

    def _busy(self, key: str, shared: set[str]) -> bool:
        if key in self.taken or key in shared:
            return True
        # The folder may have changed since we listed it (another tool): check the disk for this one.
        if self.by_stem:
            return False
        return (self.folder / key).exists()

    def claim(self, stem: str, ext: str) -> str:
        """A free name for `stem + ext`: the same name when free, else stem_1, stem_2, ..."""
        with _guard:
            shared = _claims.setdefault(self.key, set())
            candidate, n = stem, 0
            while self._busy(self._key(candidate, ext), shared):
                n += 1
                candidate = f"{stem}_{n}"
            key = self._key(candidate, ext)
            shared.add(key)
            self.mine.add(key)
            self.taken.add(key)
        return candidate + ext

    def release(self) -> None:
        with _guard:
            shared = _claims.get(self.key, set())
            shared.difference_update(self.mine)
            if not shared:
                _claims.pop(self.key, None)
        self.mine.clear()

    def __enter__(self) -> "Claimer":
        return self

    def __exit__(self, *exc) -> None:
        self.release()
