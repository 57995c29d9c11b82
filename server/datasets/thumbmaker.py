"""Making one thumbnail: decode (JPEG draft mode), orient, shrink, flatten, save with its source's mtime.

What a thumbnail process-pool worker runs (datasets/thumbnails.py hands it plain paths). It imports
Pillow, the media probe and fileio and nothing of the app (no Flask, no sqlite-utils), so a spawned
worker is ready after Pillow's import instead of the app's: that import was most of what a worker
cost over a bare Pillow pool's.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image, ImageOps

from ..fileio import atomic_write
from . import probe
from .media_types import kind_of

SIZE = 384
QUALITY = 82
BACKGROUND = (128, 128, 128)


def is_fresh(thumb: Path, src_stat) -> bool:
    try:
        return os.stat(thumb).st_mtime_ns == src_stat.st_mtime_ns
    except FileNotFoundError:
        return False


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        bg = Image.new("RGB", img.size, BACKGROUND)
        bg.paste(img, mask=img.getchannel("A"))
        return bg
    return img.convert("RGB") if img.mode != "RGB" else img


def render(src: Path, size: int = SIZE) -> Image.Image:
    """The thumbnail image for a source file; raises probe.MediaError when it cannot be read."""
    if kind_of(src.name) == "video":
        img = probe.first_frame(src)
        img.thumbnail((size, size), Image.Resampling.LANCZOS)
        return _flatten(img)
    try:
        with Image.open(src) as img:
            if img.format == "JPEG":
                img.draft("RGB", (size, size))
            img = ImageOps.exif_transpose(img)
            img.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=2.0)
            return _flatten(img)
    except Exception as exc:  # noqa: BLE001 - any decoder error means the file is unreadable
        raise probe.MediaError(f"Not a readable image ({type(exc).__name__}: {exc}).") from exc


def save(img: Image.Image, dest: Path, src_stat) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    # The thumbnail carries its source's mtime: that is how a stale one is recognised.
    atomic_write(dest, lambda f: img.save(f, "JPEG", quality=QUALITY, optimize=False), fsync=False,
                 mtime_ns=src_stat.st_mtime_ns)


def make(src: str, dest: str) -> tuple[str, str | None]:
    """One entry of the job: ("gone" | "fresh" | "made" | "broken", error text for broken)."""
    src_path, dest_path = Path(src), Path(dest)
    try:
        st = src_path.stat()
    except FileNotFoundError:
        return "gone", None
    if is_fresh(dest_path, st):
        return "fresh", None
    try:
        save(render(src_path), dest_path, st)
    except probe.MediaError as exc:
        return "broken", str(exc)
    return "made", None
