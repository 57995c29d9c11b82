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
- FLUX.1 Kontext takes exactly one control image per target (TaskType.max_controls): several are refused;
- a caption under another extension than the task's (`a.caption` for `.txt`) and blank captions: warned;
- sample prompts' start/end/control images are opened only when sampling, mid-run: refused on start
  (warned in the preview, like missing model files).
Each problem is a `Finding` (code, severity, files); `check()` raises the blocking ones and warns about
the rest, and preflight.py builds the whole pre-flight report on `findings()`.
Errors carry `details.files` (the names, at most MAX_LISTED) for the UI to list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ValidationError
from ..media_types import MEDIA_EXTS
from .dataset_source import DatasetSource

MAX_LISTED = 50
SAMPLE_IMAGE_KEYS = ("image", "end_image", "control_images")
# Extensions of files that hold a caption under another name than the task's caption_extension.
CAPTION_LIKE = {".txt", ".caption", ".captions", ".tags", ".json", ".md", ".text"}


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return shown + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")


def _refuse(message: str, files: list[str], *, code: str, where: str = "dataset_id") -> None:
    raise Finding(code, "block", files, message, where=where).error()


@dataclass(frozen=True)
class FileStat:
    name: str
    size: int
    mtime_ns: int


def scan(folder: Path) -> dict[str, FileStat]:
    """The files of a folder with size and mtime, from one directory listing (os.scandir: on Windows the
    listing carries them; a 10,000-file dataset is listed once per report, not once per check)."""
    out: dict[str, FileStat] = {}
    try:
        with os.scandir(folder) as entries:
            for e in entries:
                try:
                    if e.is_file():
                        st = e.stat()
                        out[e.name] = FileStat(e.name, st.st_size, st.st_mtime_ns)
                except OSError:
                    continue   # removed while listing
    except OSError:
        return {}
    return out


def media_names(folder: Path, kind: str, listing: dict[str, FileStat] | None = None) -> list[str]:
    listing = scan(folder) if listing is None else listing
    return sorted(n for n in listing if os.path.splitext(n)[1].lower() in MEDIA_EXTS[kind])


def caption_files(folder: Path, caption_ext: str, listing: dict[str, FileStat] | None = None) -> dict[str, str]:
    """stem -> caption file name."""
    if not caption_ext:
        return {}
    listing = scan(folder) if listing is None else listing
    ext = caption_ext.lower()
    # Windows globs ignore case: "a.TXT" is a caption there.
    return {n[: -len(ext)]: n for n in listing if n.lower().endswith(ext)}


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


def _siblings(listing: dict[str, FileStat]) -> dict[str, list[str]]:
    """stem -> names of the files with that stem."""
    out: dict[str, list[str]] = {}
    for name in listing:
        out.setdefault(os.path.splitext(name)[0], []).append(name)
    return out


def findings(source: DatasetSource, caption_ext: str, max_controls: int | None = None,
             listing: dict[str, FileStat] | None = None) -> list[Finding]:
    """What musubi's datasource would do with the folder, from file names alone (module docstring), in the
    order the start path refuses them. `listing`: scan(source.media_dir) when the caller has it."""
    from . import media_info

    kind = "video" if source.type == "video" else "image"
    listing = scan(source.media_dir) if listing is None else listing
    media = media_names(source.media_dir, kind, listing)
    if not media:
        return []
    out: list[Finding] = []
    captions = caption_files(source.media_dir, caption_ext, listing)
    uncaptioned = [n for n in media if os.path.splitext(n)[0] not in captions]
    if uncaptioned and kind == "video":
        out.append(Finding("video_caption_missing", "block", uncaptioned,
                           f"{len(uncaptioned)} video(s) have no caption ({caption_ext}); musubi-tuner stops caching "
                           "on them. Caption them or remove them", {"ext": caption_ext}))
    if uncaptioned and kind == "image":
        out.append(Finding("image_caption_missing", "warn", uncaptioned,
                           f"{len(uncaptioned)} image(s) have no caption ({caption_ext}) and are left out of training",
                           {"ext": caption_ext}))
    if uncaptioned:
        siblings = _siblings(listing)
        media_set = set(media)
        other: dict[str, list[str]] = {}
        for name in uncaptioned:
            for sibling in siblings.get(os.path.splitext(name)[0], []):
                ext = os.path.splitext(sibling)[1].lower()
                if sibling not in media_set and ext in CAPTION_LIKE:
                    other.setdefault(ext, []).append(name)
        for ext, names in sorted(other.items()):
            out.append(Finding("caption_wrong_extension", "warn", names,
                               f"{len(names)} file(s) have a {ext} caption, but the task reads {caption_ext}",
                               {"found": ext, "ext": caption_ext}))
    missing = set(uncaptioned)
    empty = []
    for n in media:
        if n in missing:
            continue
        caption = listing[captions[os.path.splitext(n)[0]]]
        if media_info.is_blank(source.media_dir / caption.name, caption.size, caption.mtime_ns):
            empty.append(n)
    if empty:
        out.append(Finding("caption_empty", "warn", empty,
                           f"{len(empty)} file(s) have an empty caption and train without any text",
                           {"ext": caption_ext}))
    if source.type != "image_control":
        return out
    targets = [n for n in media if n not in missing]
    matches, missing, bad = match_controls(targets, media_names(source.control_dir, "image"))
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
