"""Writing files so that readers see the old content or the new, never a mix; renaming them on Windows.

Everything a user (or musubi) reads back — captions, generated configs, thumbnails, the instance
file — goes through `atomic_write`: the data goes to a temporary file in the same folder, which
then replaces the target in one `os.replace` (atomic on Windows and POSIX within one volume).

Every rename of a user's file or folder goes through `replace` / `move` / `rename_no_overwrite`. On Windows a file another
process holds open without FILE_SHARE_DELETE (an antivirus scanning a new file, the indexer, the
viewer streaming a video, a python.exe running from a venv) cannot be renamed for a moment: the
rename fails with PermissionError (sharing violation / access denied). These retry briefly
instead of failing the user's action; `shutil.move` would instead copy and then fail to delete,
leaving two copies.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import shutil
import sys
import time
from pathlib import Path
from typing import BinaryIO, Callable

# How long a rename keeps trying while another process holds the file: scanners and indexers let go
# within a second or two; anything longer is a real lock that the caller must report.
RETRY_FOR_S = 3.0
RETRY_FIRST_S = 0.02


def replace(src, dst, *, retry_for: float | None = None) -> None:
    """`os.replace(src, dst)`, retried while it fails with PermissionError (then that error is raised)."""
    _retrying(os.replace, src, dst, retry_for=retry_for)


def _retrying(rename, src, dst, *, retry_for: float | None = None) -> None:
    deadline = time.monotonic() + (RETRY_FOR_S if retry_for is None else retry_for)
    wait = RETRY_FIRST_S
    while True:
        try:
            rename(src, dst)
            return
        except PermissionError:
            if time.monotonic() + wait > deadline:
                raise
            time.sleep(wait)  # backing off: the other process needs time, not a busy loop
            wait = min(wait * 2, 0.25)


def rename_no_overwrite(src, dst) -> None:
    """Rename a file to `dst` in the same folder, raising FileExistsError rather than replacing a file there.

    One directory operation where the system offers a rename that never replaces: Windows' own rename
    (retried like `replace`) and Linux's renameat2(RENAME_NOREPLACE). Elsewhere, or on a file system
    without that flag, a hard link and an unlink; without hard links (FAT, some shares) a check, then a
    rename. On a journalling file system each directory operation is a journal write: an import of
    10,000 images spent ~0.4 ms per image on the link's extra unlink."""
    if sys.platform == "win32":
        _retrying(os.rename, src, dst)   # never replaces: FileExistsError when dst is there
        return
    noreplace = _renameat2()
    if noreplace is not None and noreplace(src, dst):
        return
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError:
        move(src, dst)   # no hard links here: a check, then a rename
        return
    os.unlink(src)


@functools.cache
def _renameat2():
    """Linux: a function doing renameat2(RENAME_NOREPLACE) that returns False where the file system does not
    support it; None where the C library has no renameat2 (not Linux, glibc before 2.28)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    at_fdcwd, rename_noreplace = -100, 1

    def noreplace(src, dst) -> bool:
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), rename_noreplace) == 0:
            return True
        err = ctypes.get_errno()
        if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):   # not on this file system: link instead
            return False
        raise OSError(err, os.strerror(err), str(src), None, str(dst))   # EEXIST is FileExistsError

    return noreplace


def move(src, dst, *, retry_for: float | None = None) -> None:
    """Move a file or folder to `dst` (which must not exist): a rename, retried like `replace`.

    Only between volumes (where no rename is possible) is it copied and then deleted."""
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, "destination exists", str(dst))
    try:
        replace(src, dst, retry_for=retry_for)
    except OSError as exc:
        if exc.errno != errno.EXDEV and getattr(exc, "winerror", None) != 17:  # ERROR_NOT_SAME_DEVICE
            raise
        shutil.move(str(src), str(dst))


def write_all(fd: int, data) -> None:
    """Write all of `data` (bytes or a memoryview) to the file descriptor: `os.write` may write less."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# os.open flags for a new file, written from the start: created here or not at all (FileExistsError), and
# binary on Windows, where a plain os.open file turns each \n into \r\n.
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# A temporary file is also never opened through a link, nor inherited by a child process, as
# tempfile.mkstemp's (and readable by this user only: temp_beside's mode).
_TEMP_FLAGS = NEW_FILE | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NOINHERIT", 0)
_TEMP_TRIES = 100


def temp_beside(path: Path) -> tuple[int, str]:
    """(fd, name) of a new file `.~<name>.<8 random characters>.tmp` in `path`'s folder, open for writing.
    tempfile.mkstemp makes the same, at twice the cost of the open itself (a caption save is ~2 ms in
    all); recovery.py finds the ones a crash left by that pattern."""
    stem = os.path.join(path.parent, ".~" + path.name + ".")
    for _ in range(_TEMP_TRIES):
        name = stem + secrets.token_hex(4) + ".tmp"
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", stem)


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None], *, fsync: bool = True,
                 mtime_ns: int | None = None) -> None:
    """Write `data` (bytes, or a function that writes into the open file) to `path` atomically.

    `fsync=False` gives up only the power-cut guarantee (the newest content may be lost): bulk
    writers whose inputs are kept elsewhere use it because thousands of fsyncs cost seconds.
    `mtime_ns` sets the new file's modification time (thumbnails mirror their source's).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_beside(path)
    try:
        if callable(data):
            with os.fdopen(fd, "wb") as f:
                data(f)
                f.flush()
                if fsync:
                    os.fsync(f.fileno())
        else:
            try:
                write_all(fd, data)
                if fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, *, fsync: bool = True) -> None:
    """UTF-8 text with the newlines as given (musubi reads `\\n` files on every platform)."""
    atomic_write(path, text.encode("utf-8"), fsync=fsync)
