"""Size limits on what comes into a dataset: big enough for real datasets, small enough that a
hostile or broken file cannot fill the disk or the memory before it is refused.

Each is checked as early as possible - the size a zip or a folder declares, before anything is
copied - and again while copying (a byte count), so a file that lies about its size is cut off.
"""

from __future__ import annotations

GiB = 1 << 30
MiB = 1 << 20

# 8K 16-bit RGBA PNGs are ~250 MB; nothing anyone trains on comes near 1 GiB.
MAX_IMAGE_BYTES = 1 * GiB
# Long 4K videos run to several GB; one file of more than 32 GiB is no training clip.
MAX_VIDEO_BYTES = 32 * GiB
# Captions are a few hundred bytes, long ones a few hundred KB. Every caption goes into the item
# index and the items page: one of 200 MB once made a 400 MB page.
MAX_CAPTION_BYTES = 1 * MiB
# Images and videos are compressed already and zip at ~1:1, text at ~1:5. A member that unpacks to
# more than this many times its packed size (and to more than ZIP_RATIO_MIN_BYTES) is a zip bomb.
MAX_ZIP_RATIO = 100
ZIP_RATIO_MIN_BYTES = 1 * MiB
# One upload request carries a chunk of files (the UI sends 48 MB chunks) or one big file on its own.
MAX_REQUEST_BYTES = MAX_VIDEO_BYTES + 64 * MiB

_BY_KIND = {"image": MAX_IMAGE_BYTES, "video": MAX_VIDEO_BYTES, "caption": MAX_CAPTION_BYTES}


def max_bytes(kind: str | None) -> int:
    """The largest file of this kind ('image', 'video', 'caption') a dataset takes."""
    return _BY_KIND.get(kind, MAX_IMAGE_BYTES)


class TooLarge(Exception):
    """A file is over its limit (found while copying: its declared size was smaller)."""

    def __init__(self, limit: int):
        super().__init__(f"Larger than the {limit // MiB} MB this kind of file may be.")
        self.limit = limit


def copy_limited(src, dst, limit: int, chunk: int = 1 * MiB) -> int:
    """Copy a stream, stopping with TooLarge as soon as more than `limit` bytes came through."""
    total = 0
    while True:
        block = src.read(chunk)
        if not block:
            return total
        total += len(block)
        if total > limit:
            raise TooLarge(limit)
        dst.write(block)


def read_limited(src, limit: int) -> bytes:
    data = src.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(limit)
    return data
