"""Files an import is writing straight under their final names, so that a crash half-way leaves none cut off.

An import writes each image it holds in memory directly under its new name: no temp file and rename,
which on 10,000 images is 10,000 directory operations (and on Windows a rename that an antivirus
scanning the new file can block). Its journal, `.~inflight-<random>.journal` in the same folder, says
which names are in flight; each line is one small append (no fsync, like every import write: the
source keeps the files). Fields are tab-separated: names are sanitized (media_types.sanitize_filename),
so they hold no tab or newline.

    + size name   before the file is created: it is about to be written, `size` bytes
    = name        its last byte is written: the file is complete and no longer ours to judge
    - name        the name was taken by someone else, or our partial file was removed

At the next start, recovery (`finish`) removes every file journaled "+" with no later line that is
smaller than its journaled size: a write the crash cut off. A complete file stays, and the rescan of
the interrupted import indexes it. The journal of an import that ended normally is removed by it.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from .. import fileio

log = logging.getLogger(__name__)

PREFIX = ".~inflight-"
SUFFIX = ".journal"
# O_BINARY: on Windows a plain os.open file turns each \n into \r\n.
_APPEND = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)


class Journal:
    """The in-flight names of one import in one folder. Opened on the first file, removed by `close`."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / f"{PREFIX}{secrets.token_hex(4)}{SUFFIX}"
        self.fd: int | None = None
        self.kept_partial = False   # a cut-off file could not be removed: the journal stays for the next start

    def _append(self, line: str) -> None:
        if self.fd is None:
            self.fd = os.open(self.path, _APPEND, 0o666)
        fileio.write_all(self.fd, line.encode("utf-8", "surrogateescape"))

    def write_new(self, name: str, data: bytes, halfway=None) -> None:
        """Create `name` here holding `data`; FileExistsError (with nothing written) when it exists.
        `halfway()` runs with half the bytes written (a crash test's kill point)."""
        path = os.path.join(self.folder, name)
        self._append(f"+\t{len(data)}\t{name}\n")
        try:
            fd = os.open(path, fileio.NEW_FILE, 0o666)
        except BaseException:
            self._append(f"-\t{name}\n")   # never ours: recovery must not judge a file someone else made
            raise
        try:
            view, mid = memoryview(data), len(data) // 2
            fileio.write_all(fd, view[:mid])
            if halfway is not None:
                halfway()
            fileio.write_all(fd, view[mid:])
        except BaseException:
            os.close(fd)
            try:
                os.unlink(path)
            except OSError:   # held by a scanner (Windows): still journaled "+", so the next start removes it
                self.kept_partial = True
            else:
                self._append(f"-\t{name}\n")
            raise
        os.close(fd)
        try:
            self._append(f"=\t{name}\n")
        except OSError:   # a full disk: the file is complete and placed; only its end mark is missing
            pass

    def close(self) -> None:
        """Every file is complete or removed: the journal has nothing left to say (unless a cut-off file
        could not be removed: then it is left for the next start's recovery)."""
        if self.fd is None:
            return
        os.close(self.fd)
        self.fd = None
        if self.kept_partial:
            return
        try:
            os.unlink(self.path)
        except OSError:   # held by another program (Windows): recovery removes it at the next start
            pass

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _plain(name: str) -> bool:
    # A name the app wrote is sanitized: no separator, no ":" (a Windows stream), no control character.
    return name not in ("", ".", "..") and not any(c in name for c in "/\\:\0\t\n")


def cut_off(lines: list[str]) -> dict[str, int]:
    """The names journaled "+" with no later line, and their journaled sizes. A line the crash tore
    (the last one, without its newline) was written before its file was created, so it is skipped."""
    open_: dict[str, int] = {}
    for raw in lines:
        if not raw.endswith("\n"):
            continue
        op, _, rest = raw[:-1].partition("\t")
        if op == "+":
            size, _, name = rest.partition("\t")
            if size.isdigit() and _plain(name):
                open_[name] = int(size)
        elif op in ("=", "-"):
            open_.pop(rest, None)
    return open_


def finish(folder: Path) -> int:
    """Remove what the imports journaled in `folder` left cut off, then their journals. Returns the files removed."""
    removed = 0
    try:
        journals = [p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX)]
    except OSError:
        return 0
    for journal in journals:
        try:
            with open(journal, encoding="utf-8", errors="surrogateescape", newline="") as f:
                lines = f.readlines()
        except OSError:
            continue
        for name, size in cut_off(lines).items():
            path = folder / name
            try:
                st = path.lstat()
                if path.is_file() and not path.is_symlink() and st.st_size < size:
                    path.unlink()
                    removed += 1
                    log.warning("removed %s: an import was stopped while writing it (%d of %d bytes)",
                                path, st.st_size, size)
            except OSError:
                continue
        try:
            journal.unlink()
        except OSError:
            pass
    return removed
