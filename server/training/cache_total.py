"""How many iterations a cache stage's bar will count, when the app can tell beforehand.

musubi's cache scripts wrap a generator in tqdm, so the console shows a count without a total
(`3it [00:01, 2.47it/s]`). One iteration is one batch, read from the stage's dataset.toml:
- text encoder outputs: items in file order, cut into batches of `batch_size` -> ceil(items / bs)
  (except edit datasets, whose text encoder also reads the control images: batched like latents);
- latents (or HiDream-O1's pixel patches): batches are filled per bucket (resolution), so the count is known only when every item
  lands in one bucket (bucketing off) or each batch holds one item; videos with `head` extraction
  give one item per video and per `target_frames` value. Anything else -> None (count only).
Items are media files that have a caption (musubi skips the others). A wrong guess is harmless:
the parser drops the total once the count passes it.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

from ..media_types import MEDIA_EXTS
from .task_types import cache_kind


def _argv_value(argv: list[str], flag: str) -> str | None:
    for i, token in enumerate(argv):
        if token == flag and i + 1 < len(argv):
            return argv[i + 1]
        if token.startswith(flag + "="):
            return token.split("=", 1)[1]
    return None


def _items(folder: Path, kind: str, caption_extension: str) -> int:
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.iterdir()
               if p.is_file() and p.suffix.lower() in MEDIA_EXTS[kind]
               and p.with_suffix(caption_extension).is_file())


def expected_batches(stage: str, argv: list[str]) -> int | None:
    config = _argv_value(argv, "--dataset_config")
    kind = cache_kind(stage)
    if kind is None or not config:
        return None
    try:
        doc = tomllib.loads(Path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    general = doc.get("general", {})
    total = 0
    for entry in doc.get("datasets", []):
        d = {**general, **entry}
        video = "video_directory" in d
        if not (d.get("video_directory") or d.get("image_directory")):
            return None   # a jsonl datasource: not counted here
        folder = Path(d.get("video_directory") or d.get("image_directory"))
        items = _items(folder, "video" if video else "image", d.get("caption_extension", ".txt"))
        bs = max(1, int(d.get("batch_size", 1)))
        if kind == "text" and not d.get("control_directory"):
            total += math.ceil(items / bs)
            continue
        # Edit datasets encode their text with the control images: batched by bucket like latents.
        if video:
            if d.get("frame_extraction", "head") != "head":
                return None
            items *= len(d.get("target_frames") or [1])
            if bs != 1 and len(d.get("target_frames") or [1]) > 1:
                return None
        one_bucket = not d.get("enable_bucket", False) and not d.get("control_directory")
        if bs != 1 and not one_bucket:
            return None
        total += math.ceil(items / bs)
    return total or None
