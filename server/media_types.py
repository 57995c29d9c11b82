"""Which file extensions are images and which are videos: the one list datasets, training, tagging
and the UI (served by GET /api/meta) all read.

It is musubi-tuner's list (dataset/media_utils.py IMAGE_EXTENSIONS / VIDEO_EXTENSIONS) in lower case,
less .jxl (musubi reads it only with a Pillow plugin that may be missing) and .wmv/.m4v/.mpg/.mpeg
(never accepted by the app: its probes and thumbnails are not tried on them). Every check lower-cases the
name first, so `.PNG` counts as `.png` (musubi lists both cases).
"""

from __future__ import annotations

from pathlib import PurePath

IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif"})
VIDEO_EXTS = frozenset({".mp4", ".webm", ".mov", ".mkv", ".avi", ".flv"})
# By media kind, the way dataset types name what they hold.
MEDIA_EXTS = {"image": IMAGE_EXTS, "video": VIDEO_EXTS}


def media_kind(name: str | PurePath) -> str | None:
    """'image', 'video' or None for a file name, by extension (case-insensitive)."""
    ext = PurePath(name).suffix.lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    return None


def public() -> dict:
    """The table as the UI gets it: extensions without the dot, sorted."""
    return {kind: sorted(e[1:] for e in exts) for kind, exts in MEDIA_EXTS.items()}
