"""A folder as a zip archive written while it is sent: nothing is staged on disk or held in memory,
so a folder of several GB downloads at once (server mode's replacement for "open folder").

zipfile writes to a stream that cannot seek by putting each entry's sizes after its data (a data
descriptor), which every unzip tool reads. Entries are stored, not compressed: what people download
(images, videos, .safetensors) does not compress, and deflate would make a multi-GB download CPU-bound.
Files that vanish or cannot be read while the archive is written are left out, not fatal.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

CHUNK = 1 << 20


class _Sink:
    """A write-only file object whose writes are collected and handed out by the generator."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.offset = 0
        self.pending = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.offset += len(data)
        self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        return self.offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts, self.pending = b"".join(self.parts), [], 0
        return data


def files_under(folder: Path):
    """(path, name in the archive) for every file under `folder`, without following links out of it."""
    folder = Path(folder)
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_symlink():
                continue  # a link may point anywhere: the folder's own files only
            yield path, path.relative_to(folder).as_posix()


def stream_zip(folder: Path, prefix: str):
    """Yield the bytes of a zip of `folder`, its entries under `prefix/`."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for path, name in files_under(folder):
            try:
                info = zipfile.ZipInfo.from_file(path, f"{prefix}/{name}")
                src = open(path, "rb")
            except OSError:
                continue
            with src:
                info.compress_type = zipfile.ZIP_STORED
                with zf.open(info, "w", force_zip64=True) as dst:
                    while True:
                        chunk = src.read(CHUNK)
                        if not chunk:
                            break
                        dst.write(chunk)
                        if sink.pending >= CHUNK:
                            yield sink.take()
            yield sink.take()
    yield sink.take()
