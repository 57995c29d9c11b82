"""Writing files so that readers see the old content or the new, never a mix.

Everything a user (or musubi) reads back — captions, generated configs, thumbnails, the instance
file — goes through `atomic_write`: the data goes to a temporary file in the same folder, which
then replaces the target in one `os.replace` (atomic on Windows and POSIX within one volume).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def atomic_write(path: Path, data: bytes | Callable[[BinaryIO], None], *, fsync: bool = True,
                 mtime_ns: int | None = None) -> None:
    """Write `data` (bytes, or a function that writes into the open file) to `path` atomically.

    `fsync=False` gives up only the power-cut guarantee (the newest content may be lost): bulk
    writers whose inputs are kept elsewhere use it because thousands of fsyncs cost seconds.
    `mtime_ns` sets the new file's modification time (thumbnails mirror their source's).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".~" + path.name + ".", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            if callable(data):
                data(f)
            else:
                f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        if mtime_ns is not None:
            os.utime(tmp, ns=(mtime_ns, mtime_ns))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: Path, text: str, *, fsync: bool = True) -> None:
    """UTF-8 text with the newlines as given (musubi reads `\\n` files on every platform)."""
    atomic_write(path, text.encode("utf-8"), fsync=fsync)
