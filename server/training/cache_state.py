"""Which cached latents and text-encoder outputs are still right, per stage and per item.

musubi's `--skip_existing` skips every item whose cache file exists, whatever changed since (a caption,
the text encoder, the VAE, an fp8 option, the resolution): alone it would train on stale caches. So each
cache stage has a manifest of what its caches depend on:
- `stage`: one digest of what every item depends on: the stage's arguments (model files, fp8 options,
  model version, I2V ...), the size and mtime of each model file or folder the arguments name, and the
  dataset.toml text (resolution, bucketing, frame extraction ...);
- `items`: per item stem, a digest of its own inputs: for latents the media file's size and mtime (and
  its control images', which are encoded with it); for text-encoder outputs the caption's text (and the
  control images' size and mtime where the type's text encoder sees them, `TaskType.text_encoder_reads_control`:
  Qwen-Image-Edit).
After a stage succeeds the runner records its manifest beside the caches (`record`). Before a run,
`drop_stale()` deletes the cache files of every item whose inputs changed or are not on record, and all
of the stage's caches when a shared input changed; what is left is right, so `--skip_existing` only
skips good work. The runner skips a stage outright when its manifest is unchanged (`is_fresh`).

Cache file names (musubi dataset/image_video_dataset.py): latents (and HiDream-O1's pixel patches)
`{stem}_{W:04d}x{H:04d}_{arch}.safetensors`
(videos `{stem}_{start:05d}-{count:03d}_{W}x{H}_{arch}`; FramePack caches a clip per section, with the section's
index appended: `{stem}_{start:05d}-{count:03d}-{section:04d}_{W}x{H}_fp`, fpack_cache_latents.py
append_section_idx_to_latent_cache_path), text encoder `{stem}_{arch}_te.safetensors`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from ..errors import ApiError
from ..media_types import MEDIA_EXTS
from .dataset_checks import match_controls
from .dataset_source import DatasetSource
from .task_types import cache_kind

# By what a stage caches (task_types.STAGE_CACHES): HiDream-O1's pixel caches are named like latents.
CACHE_PATTERNS = {
    "media": r"_(?:\d+-\d+(?:-\d+)?_)?\d+x\d+_[a-z0-9]+\.safetensors",
    "text": r"_[a-z0-9]+_te\.safetensors",
}
# Arguments that do not change what a cache holds.
NEUTRAL_ARGS = {"--skip_existing", "--keep_cache"}


def _digest(value, length: int = 64) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


# Per-item digests only detect change; 64 bits keep the run record small for big datasets.
ITEM_DIGEST_LENGTH = 16


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _listing(folder: Path, kind: str) -> list[str]:
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in MEDIA_EXTS[kind])


def _caption(folder: Path, stem: str, caption_ext: str) -> str | None:
    try:
        return (folder / f"{stem}{caption_ext}").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _model_files(argv: list[str]) -> dict[str, list[int] | None]:
    """Size/mtime of every file or folder an argument names (the model files; the toml is hashed as text)."""
    out = {}
    for token in argv[2:]:  # not the interpreter and script
        if token.startswith("--") or not (os.sep in token or "/" in token):
            continue
        path = Path(token)
        if path.suffix == ".toml":
            continue
        if path.exists():
            out[token] = _stat(path)
    return out


def manifest(stage_name: str, argv: list[str], dataset_toml: str, source: DatasetSource, caption_ext: str,
             text_encoder_reads_control: bool = False) -> dict:
    """What the caches of `stage_name` depend on (module docstring). JSON values only: it is stored."""
    kind = "video" if source.type == "video" else "image"
    media = _listing(source.media_dir, kind)
    controls: dict[str, list[str]] = {}
    if source.type == "image_control":
        controls, _, _ = match_controls(media, _listing(source.control_dir, "image"))
    text = cache_kind(stage_name) == "text"
    items: dict[str, dict] = {}
    for name in media:
        stem = os.path.splitext(name)[0]
        entry = items.setdefault(stem, {})
        if text:
            entry["caption"] = _caption(source.media_dir, stem, caption_ext)
        else:
            entry[name] = _stat(source.media_dir / name)
        if not text or text_encoder_reads_control:
            for c in controls.get(name, []):
                entry["control/" + c] = _stat(source.control_dir / c)
    shared = {"args": [a for a in argv if a not in NEUTRAL_ARGS], "models": _model_files(argv),
              "dataset_toml": dataset_toml}
    return {"stage": _digest(shared),
            "items": {stem: _digest(v, ITEM_DIGEST_LENGTH) for stem, v in items.items()}}


def _marker(cache_dir: Path, stage_name: str) -> Path:
    return cache_dir / f".workbench-{stage_name}.json"


def recorded(cache_dir: Path, stage_name: str) -> dict | None:
    """The manifest of the last successful run of the stage, or None (none, unreadable, older format)."""
    try:
        value = json.loads(_marker(cache_dir, stage_name).read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("items"), dict):
        return None
    return value


def is_fresh(cache_dir: Path, stage_name: str, print_: dict) -> bool:
    if not cache_dir.is_dir():
        return False
    has_caches = any(p.suffix == ".safetensors" for p in cache_dir.iterdir())
    return has_caches and recorded(cache_dir, stage_name) == print_


def record(cache_dir: Path, stage_name: str, print_: dict) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    _marker(cache_dir, stage_name).write_text(json.dumps({"fingerprint": print_}), encoding="utf-8")


def forget(cache_dir: Path, stage_name: str) -> None:
    _marker(cache_dir, stage_name).unlink(missing_ok=True)


def _stem_of(file_name: str, stage_name: str) -> str | None:
    m = re.fullmatch(r"(.+?)" + CACHE_PATTERNS[cache_kind(stage_name)], file_name)
    return m.group(1) if m else None


def drop_stale(cache_dir: Path, stage_name: str, current: dict) -> list[Path]:
    """Delete the stage's cache files that `current` does not vouch for; returns what was deleted."""
    if not cache_dir.is_dir():
        return []
    before = recorded(cache_dir, stage_name)
    everything = before is None or before.get("stage") != current["stage"]
    good = set() if everything else {stem for stem, d in current["items"].items() if before["items"].get(stem) == d}
    deleted = []
    for path in sorted(cache_dir.iterdir()):
        if not path.is_file():
            continue
        stem = _stem_of(path.name, stage_name)
        if stem is None or stem in good:
            continue
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            # Left in place, --skip_existing would train on it. (Windows: a file another program has open.)
            raise ApiError(f"A cache file that is out of date cannot be deleted ({exc.strerror or exc}): {path}. "
                           "Close the program using it and start again.", code="stale_cache_locked", status=409,
                           details={"files": [str(path)]}) from None
        deleted.append(path)
    if deleted or everything:
        forget(cache_dir, stage_name)
    return deleted
