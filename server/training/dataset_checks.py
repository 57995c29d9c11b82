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
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ValidationError
from .dataset_source import MEDIA_EXTENSIONS, DatasetSource

MAX_LISTED = 50
SAMPLE_IMAGE_KEYS = ("image", "end_image", "control_images")
# Extensions of files that hold a caption under another name than the task's caption_extension.
CAPTION_LIKE = {".txt", ".caption", ".captions", ".tags", ".json", ".md", ".text"}


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")


def _refuse(message: str, files: list[str], *, code: str, where: str = "dataset_id") -> None:
    raise Finding(code, "block", files, message, where=where).error()


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


@dataclass
class Finding:
    """One thing the pre-flight check found. `severity`: "block" (musubi would crash: the start is refused),
    "warn" (it trains, but not on what the user thinks) or "info". The UI translates `code` with `params`."""

    code: str
    severity: str
    files: list[str]
    message: str
    params: dict = field(default_factory=dict)
    where: str = "dataset_id"

    def public(self) -> dict:
        return {"code": self.code, "severity": self.severity, "files": self.files[:MAX_LISTED],
                "count": len(self.files), "message": self.message, "params": self.params, "field": self.where}

    def error(self) -> ValidationError:
        return ValidationError(f"{self.message}: {_listed(self.files)}", field=self.where, code=self.code,
                               details={"files": self.files[:MAX_LISTED], "count": len(self.files)})


def _siblings(folder: Path) -> dict[str, list[Path]]:
    """stem -> files with that stem (one listing of the folder)."""
    out: dict[str, list[Path]] = {}
    if folder.is_dir():
        for p in folder.iterdir():
            if p.is_file():
                out.setdefault(p.stem, []).append(p)
    return out


def _is_empty_caption(path: Path) -> bool:
    try:
        size = path.stat().st_size
        # Only short files can be blank; reading every caption of a large dataset is not needed.
        return size == 0 or (size <= 256 and not path.read_text(encoding="utf-8", errors="replace").strip())
    except OSError:
        return False


def findings(source: DatasetSource, caption_ext: str, max_controls: int | None = None) -> list[Finding]:
    """What musubi's datasource would do with the folder, from file names alone (module docstring), in the
    order the start path refuses them."""
    kind = "video" if source.type == "video" else "image"
    media = _names(source.media_dir, kind)
    if not media:
        return []
    out: list[Finding] = []
    captioned = _caption_stems(source.media_dir, caption_ext)
    uncaptioned = [n for n in media if os.path.splitext(n)[0] not in captioned]
    if uncaptioned and kind == "video":
        out.append(Finding("video_caption_missing", "block", uncaptioned,
                           f"{len(uncaptioned)} video(s) have no caption ({caption_ext}); musubi-tuner stops caching "
                           "on them. Caption them or remove them", {"ext": caption_ext}))
    if uncaptioned and kind == "image":
        out.append(Finding("image_caption_missing", "warn", uncaptioned,
                           f"{len(uncaptioned)} image(s) have no caption ({caption_ext}) and are left out of training",
                           {"ext": caption_ext}))
    if uncaptioned:
        siblings = _siblings(source.media_dir)
        media_set = set(media)
        other: dict[str, list[str]] = {}
        for name in uncaptioned:
            for p in siblings.get(os.path.splitext(name)[0], []):
                if p.name not in media_set and p.suffix.lower() in CAPTION_LIKE:
                    other.setdefault(p.suffix.lower(), []).append(name)
        for ext, names in sorted(other.items()):
            out.append(Finding("caption_wrong_extension", "warn", names,
                               f"{len(names)} file(s) have a {ext} caption, but the task reads {caption_ext}",
                               {"found": ext, "ext": caption_ext}))
    empty = [n for n in media if n not in uncaptioned
             and _is_empty_caption(source.media_dir / (os.path.splitext(n)[0] + caption_ext))]
    if empty:
        out.append(Finding("caption_empty", "warn", empty,
                           f"{len(empty)} file(s) have an empty caption and train without any text",
                           {"ext": caption_ext}))
    if source.type != "image_control":
        return out
    targets = [n for n in media if n not in uncaptioned]
    matches, missing, bad = match_controls(targets, _names(source.control_dir, "image"))
    if bad:
        out.append(Finding("control_bad_name", "block", bad,
                           "Control images must be named like the target (name.png) or with a number after it "
                           "(name_0.png, name_1.png); musubi-tuner stops on these names"))
    if missing:
        out.append(Finding("control_missing", "block", missing,
                           f"{len(missing)} image(s) have no control image; musubi-tuner stops on them. Add a "
                           "control image with the same name, or remove them"))
    if max_controls is not None:
        several = sorted(n for n, found in matches.items() if len(found) > max_controls)
        if several:
            out.append(Finding("control_too_many", "block", several,
                               f"{len(several)} image(s) have more than {max_controls} control image(s), and this "
                               "model takes only one; musubi-tuner stops on them", {"max": max_controls}))
    return out


def check(source: DatasetSource, caption_ext: str, warnings: list[str], max_controls: int | None = None) -> None:
    """Refuse what crashes musubi, warn about what it silently drops (module docstring)."""
    found = findings(source, caption_ext, max_controls)
    for f in found:
        if f.severity == "block":
            raise f.error()
    warnings.extend(f"{f.message}: {_listed(f.files)}" for f in found)


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
