"""Where the app keeps what it owns.

Portable mode (a frozen executable, or a `portable.txt` marker beside launcher.py / the exe)
keeps everything in `data/` beside the program so the folder can be moved as a whole; otherwise
the per-user application data folder is used, as it is when the program's folder cannot be written.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "LoRA Workbench"
PORTABLE_MARKER = "portable.txt"


def program_dir() -> Path:
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def is_portable() -> bool:
    return bool(getattr(sys, "frozen", False)) or (program_dir() / PORTABLE_MARKER).exists()


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_data_dir() -> Path:
    if is_portable():
        return program_dir() / "data"
    return user_data_dir()


def writable(folder: Path) -> bool:
    """Whether files can be created in `folder` (made if missing). Asked by trying: permission bits
    say nothing about Windows ACLs, a read-only share or a folder under Program Files."""
    import tempfile

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder, prefix=".~write-test-"):
            pass
    except OSError:
        return False
    return True


def choose_data_dir(explicit: Path | None = None) -> tuple[Path, Path | None]:
    """(the data folder to use, the portable folder that could not be written, or None).

    A portable executable put where it cannot write (Program Files, a read-only share) still starts:
    it falls back to the per-user folder, and the caller says so. A folder the user chose with
    --data-dir is never replaced by another; the launcher reports it instead.
    """
    if explicit is not None:
        return Path(explicit).expanduser().resolve(), None
    preferred = default_data_dir().resolve()
    if not is_portable() or writable(preferred):
        return preferred, None
    return user_data_dir().resolve(), preferred


@dataclass(frozen=True)
class DataLayout:
    """The folders inside one data dir; created on demand by `ensure()`."""

    root: Path

    @property
    def database(self) -> Path:
        return self.root / "workbench.db"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def tasks(self) -> Path:
        return self.root / "tasks"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def trash(self) -> Path:
        return self.root / "trash"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def ensure(self) -> "DataLayout":
        for p in (self.root, self.datasets, self.tasks, self.models, self.cache, self.trash, self.logs):
            p.mkdir(parents=True, exist_ok=True)
        return self


def user_path(text: str) -> str:
    """A path as the user typed or pasted it: without surrounding blanks, and without the double quotes
    Explorer's "Copy as path" (and a shell) put around it, `~` expanded. Not validated."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return os.path.expanduser(text) if text else ""


def safe_join(base: Path, *parts: str) -> Path:
    """Join user-supplied parts under `base`, refusing anything that would land outside it.

    Raises ValueError; callers turn that into a 400 with their own wording.
    """
    base = Path(base).resolve()
    candidate = base.joinpath(*parts).resolve()
    if candidate != base and base not in candidate.parents:
        raise ValueError(f"path escapes {base}")
    return candidate
