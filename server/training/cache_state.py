"""When may a cache stage be skipped? When its caches are complete and nothing they depend on changed.

After a cache stage succeeds, a fingerprint of its inputs is written next to the caches:
the stage's argv (model files, options), the dataset.toml text, and the name/size/mtime of the
files it reads (media and control images for latents, captions for text-encoder outputs). The
next run skips the stage when the fingerprint is the same and the cache folder still holds
caches. Any change runs the stage again; musubi's `--skip_existing` then only does new items.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .dataset_source import DatasetSource


def _files(folder: Path, want_captions: bool, caption_ext: str) -> list[tuple[str, int, int]]:
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        if (p.suffix.lower() == caption_ext.lower()) != want_captions:
            continue
        st = p.stat()
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return out


def fingerprint(stage_name: str, argv: list[str], dataset_toml: str, source: DatasetSource,
                caption_ext: str) -> str:
    captions = stage_name == "cache_text_encoder"
    data = {
        "argv": argv, "dataset_toml": dataset_toml,
        "media": _files(source.media_dir, captions, caption_ext),
        "control": [] if captions else _files(source.control_dir, False, caption_ext),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _marker(cache_dir: Path, stage_name: str) -> Path:
    return cache_dir / f".workbench-{stage_name}.json"


def is_fresh(cache_dir: Path, stage_name: str, print_: str) -> bool:
    marker = _marker(cache_dir, stage_name)
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8")).get("fingerprint")
    except (OSError, ValueError):
        return False
    has_caches = any(p.suffix == ".safetensors" for p in cache_dir.iterdir())
    return recorded == print_ and has_caches


def record(cache_dir: Path, stage_name: str, print_: str) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    _marker(cache_dir, stage_name).write_text(json.dumps({"fingerprint": print_}), encoding="utf-8")


def forget(cache_dir: Path, stage_name: str) -> None:
    _marker(cache_dir, stage_name).unlink(missing_ok=True)
