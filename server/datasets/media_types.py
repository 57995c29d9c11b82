"""Which files a dataset holds, and how names from outside become safe file names.

One flat folder per slot (media/, control/) because that is what musubi-tuner reads; names
from uploads, folders and zips are reduced to a base name that is valid on Windows too.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..media_types import IMAGE_EXTS, VIDEO_EXTS

CAPTION_EXT = ".txt"
# Which media kinds each dataset type takes; control images are always images.
TYPE_KINDS = {"image": {"image"}, "image_control": {"image"}, "video": {"video"}}
DATASET_TYPES = tuple(TYPE_KINDS)

_WINDOWS_BAD = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
MAX_NAME = 180


def kind_of(name: str) -> str | None:
    """'image', 'video' (server/media_types.py), 'caption' or None for a file name, case-insensitive."""
    ext = split_name(name)[1].lower()
    if ext in IMAGE_EXTS:
        return "image"
    if ext in VIDEO_EXTS:
        return "video"
    if ext == CAPTION_EXT:
        return "caption"
    return None


def split_name(name: str) -> tuple[str, str]:
    """(stem, suffix) as PurePosixPath gives them, without building a path: it runs for every file
    of every import, rescan and listing (a PurePosixPath costs ~10x the string work)."""
    if "/" in name or name in ("", ".", ".."):
        p = PurePosixPath(name)
        return p.stem, p.suffix
    i = name.rfind(".")
    if 0 < i < len(name) - 1:
        return name[:i], name[i:]
    return name, ""


def rel_parts(raw: str) -> list[str]:
    """The folder parts of a path sent by a browser or found in a zip, without any way up or out.

    Backslashes count as separators (Windows zips, webkitRelativePath on Windows); '..', '.',
    drive letters and leading slashes are dropped rather than trusted.
    """
    parts = [p for p in str(raw).replace("\\", "/").split("/")]
    out = []
    for p in parts:
        p = p.strip()
        if not p or p in (".", "..") or re.fullmatch(r"[A-Za-z]:", p):
            continue
        out.append(p)
    return out


def sanitize_filename(raw: str) -> str:
    """A base name valid on every OS; the extension is kept (lower-cased) so the kind stays visible."""
    parts = rel_parts(raw)
    base = parts[-1] if parts else ""
    base = _WINDOWS_BAD.sub("_", base).strip().rstrip(". ")
    stem, ext = split_name(base)
    ext = ext.lower()
    if not stem or stem.startswith("."):
        stem = "file" + (stem if stem.startswith(".") else "")
    if stem.lower() in _RESERVED:
        stem = "_" + stem
    stem = stem[: MAX_NAME - len(ext)]
    return stem + ext


def is_plain_name(name: str) -> bool:
    """True for a name that is already a safe base name (what API routes accept, nothing to fix)."""
    return (bool(name) and len(name) <= 255 and not name.startswith(".")
            and not _WINDOWS_BAD.search(name) and name == name.strip())
