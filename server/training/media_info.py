"""What the pre-flight check needs to know about a media file, read from its header, never decoded.

- images: (width, height) from Pillow's `Image.open` (reads the header only; `load()` is never called);
- videos: (width, height, frames, fps) from the container's stream header (PyAV), counting packets
  only when the container does not state the frame count;
- content hash (SHA-256) for duplicates.

Each answer is remembered per (path, size, mtime): the second report over an unchanged dataset only
stats the files (the 10,000-image report in bench/preflight_bench.py). A file that cannot be read is
reported with the reason, never raised.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from PIL import Image

MAX_CACHED = 200_000


@dataclass(frozen=True)
class Info:
    width: int = 0
    height: int = 0
    frames: int | None = None   # videos only
    fps: float | None = None    # videos only
    error: str | None = None    # why the file cannot be read (musubi would crash on it)

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


_lock = threading.Lock()
_infos: dict[tuple, Info] = {}
_hashes: dict[tuple, str] = {}
_blank: dict[tuple, bool] = {}
# A caption longer than this is not all whitespace in practice; shorter ones are read (once per version).
BLANK_CHECK_BYTES = 256


def _key(path: Path, st: os.stat_result) -> tuple:
    return str(path), st.st_size, st.st_mtime_ns


def _remember(table: dict, key: tuple, value):
    with _lock:
        if len(table) >= MAX_CACHED:
            table.clear()
        table[key] = value
    return value


def _read_image(path: Path) -> Info:
    try:
        with Image.open(path) as im:
            w, h = im.size
    except Exception as exc:  # noqa: BLE001 - any reason Pillow gives is the user's answer
        return Info(error=f"{type(exc).__name__}: {exc}")
    return Info(w, h)


def _read_video(path: Path) -> Info:
    try:
        import av
    except ImportError:  # pragma: no cover - av ships with the app
        return Info(error="PyAV is not installed")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(Fraction(rate)) if rate else None
            frames = stream.frames or 0
            if not frames:
                # Containers without a frame count (webm, some mkv): count packets, still no decoding.
                frames = sum(1 for p in container.demux(stream) if p.size)
            return Info(stream.codec_context.width, stream.codec_context.height, frames, fps)
    except Exception as exc:  # noqa: BLE001
        return Info(error=f"{type(exc).__name__}: {exc}")


def _stat_key(path: Path, stat: tuple[int, int] | None) -> tuple:
    """(path, size, mtime_ns): from the caller's listing (dataset_checks.scan) or a stat."""
    if stat is not None:
        return str(path), stat[0], stat[1]
    return _key(path, path.stat())


def info(path: Path, kind: str, stat: tuple[int, int] | None = None) -> Info:
    try:
        key = (*_stat_key(path, stat), kind)
    except OSError as exc:
        return Info(error=str(exc))
    cached = _infos.get(key)
    if cached is not None:
        return cached
    return _remember(_infos, key, _read_video(path) if kind == "video" else _read_image(path))


def is_blank(path: Path, size: int, mtime_ns: int) -> bool:
    """A caption file with no text (empty or whitespace only)."""
    if size == 0:
        return True
    if size > BLANK_CHECK_BYTES:
        return False
    key = (str(path), size, mtime_ns)
    cached = _blank.get(key)
    if cached is not None:
        return cached
    try:
        blank = not path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return False
    return _remember(_blank, key, blank)


def content_hash(path: Path, stat: tuple[int, int] | None = None) -> str | None:
    try:
        key = _stat_key(path, stat)
        cached = _hashes.get(key)
        if cached is not None:
            return cached
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return _remember(_hashes, key, h.hexdigest())
