"""What musubi-tuner would trip over in a dataset or the sample prompts, found before any stage starts.

Mirrors musubi v0.3.4's own reading of a dataset folder (dataset/media_utils.py glob_images,
dataset/datasources.py ImageDirectoryDatasource / VideoDirectoryDatasource), so the user hears about
a problem at once, with the files named, instead of after minutes of caching:
- an image without a caption is silently left out (glob_images keeps only captioned images): warned;
- a video without a caption crashes caching (get_caption opens the missing file): refused;
- control images match a target when their name starts with `<stem>.` or `<stem>_` (longest target
  names first); a match other than `<stem>.<ext>` must end in `_<digits>` or musubi raises
  "Invalid digits suffix" (`x_mask.png`): refused; a captioned target with no control image makes
  musubi raise "Could not find matching control images": refused;
- sample prompts' start/end/control images are opened only when sampling, mid-run: refused on start
  (warned in the preview, like missing model files).
Errors carry `details.files` (the names, at most MAX_LISTED) for the UI to list.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ValidationError
from .dataset_source import MEDIA_EXTENSIONS, DatasetSource

MAX_LISTED = 50
SAMPLE_IMAGE_KEYS = ("image", "end_image", "control_images")


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")


def _refuse(message: str, files: list[str], *, code: str, where: str = "dataset_id") -> None:
    raise ValidationError(f"{message}: {_listed(files)}", field=where, code=code,
                          details={"files": files[:MAX_LISTED], "count": len(files)})


def _names(folder: Path, kind: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS[kind])


def _caption_stems(folder: Path, caption_ext: str) -> set[str]:
    if not folder.is_dir() or not caption_ext:
        return set()
    ext = caption_ext.lower()
    # Windows globs ignore case: "a.TXT" is a caption there.
    return {p.name[: -len(ext)] for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(ext)}


def match_controls(targets: list[str], controls: list[str]) -> tuple[dict[str, list[str]], list[str], list[str]]:
    """musubi's matching of control images to targets: (matches, targets without one, badly named controls)."""
    remaining = set(controls)
    matches: dict[str, list[str]] = {}
    bad: list[str] = []
    # Longer names first, so `a_1.png` takes `a_1_0.png` before `a.png` could claim it.
    for name in sorted(sorted(targets), key=len, reverse=True):
        stem = os.path.splitext(name)[0]
        found = sorted(c for c in remaining if c.startswith(stem + ".") or c.startswith(stem + "_"))
        remaining.difference_update(found)
        for c in found:
            c_stem = os.path.splitext(c)[0]
            if c_stem != stem and not c_stem.rsplit("_", 1)[-1].isdigit():
                bad.append(c)
        if found:
            matches[name] = found
    missing = [n for n in sorted(targets) if n not in matches]
    return matches, missing, sorted(bad)


def check(source: DatasetSource, caption_ext: str, warnings: list[str]) -> None:
    """Refuse what crashes musubi, warn about what it silently drops (module docstring)."""
    kind = "video" if source.type == "video" else "image"
    media = _names(source.media_dir, kind)
    if not media:
        return
    captioned = _caption_stems(source.media_dir, caption_ext)
    uncaptioned = [n for n in media if os.path.splitext(n)[0] not in captioned]
    if uncaptioned and kind == "video":
        _refuse(f"{len(uncaptioned)} video(s) have no caption ({caption_ext}); musubi-tuner stops caching on them. "
                "Caption them or remove them", uncaptioned, code="video_caption_missing")
    if uncaptioned:
        warnings.append(f"{len(uncaptioned)} image(s) have no caption ({caption_ext}) and are left out of training: "
                        f"{_listed(uncaptioned)}")
    if source.type != "image_control":
        return
    targets = [n for n in media if n not in uncaptioned]
    _, missing, bad = match_controls(targets, _names(source.control_dir, "image"))
    if bad:
        _refuse("Control images must be named like the target (name.png) or with a number after it (name_0.png, "
                "name_1.png); musubi-tuner stops on these names", bad, code="control_bad_name")
    if missing:
        _refuse(f"{len(missing)} image(s) have no control image; musubi-tuner stops on them. Add a control image "
                "with the same name, or remove them", missing, code="control_missing")


def check_sample_images(resolved: dict, *, strict: bool, warnings: list[str]) -> None:
    """The start/end/control images the sample prompts name must exist (refused when `strict`)."""
    for i, prompt in enumerate(resolved["samples"].get("prompts") or []):
        for key in SAMPLE_IMAGE_KEYS:
            value = prompt.get(key)
            paths = value if isinstance(value, list) else [value] if value else []
            missing = [p for p in paths if not Path(p).is_file()]
            if not missing:
                continue
            if strict:
                _refuse("Sample prompt images not found", missing, code="sample_image_missing",
                    where=f"samples.prompts.{i}.{key}")
            warnings.append(f"Sample prompt {i + 1}: image not found: {_listed(missing)}")
