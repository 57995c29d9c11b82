"""The bucket preview equals what musubi's own code does with the same dataset: its datasets are built from
the dataset.toml the app writes, read the media, bucket, cut video windows and are prepared for training
exactly as a run does (musubi_probe.py "buckets"). Skipped without the real musubi environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from server.training import config, dataset_toml, preflight, task_types

from .helpers import raw_config, source
from .media import png, video
from .test_real_musubi import probe

# Image sizes chosen to land in many buckets, above and below the resolution, both orientations.
SIZES = [(1024, 768), (1000, 760), (640, 480), (300, 500), (2000, 900), (512, 512), (768, 1360), (97, 61),
         (1280, 720), (720, 1280), (3000, 600), (500, 2600)]  # the last two: the extreme buckets


def _image_dataset(root: Path, with_controls: bool = False) -> None:
    (root / "media").mkdir(parents=True)
    (root / "control").mkdir()
    for i, size in enumerate(SIZES):
        png(root / "media" / f"i{i}.png", size, (i * 20, 5, 5))
        (root / "media" / f"i{i}.txt").write_text(f"caption {i}", encoding="utf-8")
        if with_controls:
            count = 1 + i % 3  # 1, 2 or 3 controls: musubi splits buckets by their number
            names = ["i%d.png" % i] if count == 1 else [f"i{i}_{k}.png" for k in range(count)]
            for k, name in enumerate(names):
                png(root / "control" / name, (size[0] // (k + 1), size[1] // (k + 1)), (k, 9, 9))
    png(root / "media" / "uncaptioned.png", (800, 800))
    if not with_controls:
        # Same name as i0.png, same size: musubi's caches of the two have one name, one item is trained.
        Image.new("RGB", SIZES[0], (3, 3, 3)).save(root / "media" / "i0.jpg")


def _video_dataset(root: Path) -> None:
    (root / "media").mkdir(parents=True)
    for i, (frames, fps, size) in enumerate([(30, 24, (96, 64)), (13, 24, (64, 96)), (4, 24, (96, 96)),
                                             (47, 30, (128, 64)), (9, 12, (96, 64))]):
        video(root / "media" / f"v{i}.mp4", frames, fps, size, shade=i * 40)
        (root / "media" / f"v{i}.txt").write_text(f"clip {i}", encoding="utf-8")


IMAGE_CASES = [
    {"resolution": [512, 512], "batch_size": 2, "num_repeats": 3},
    {"resolution": [768, 512], "batch_size": 3, "num_repeats": 1, "bucket_no_upscale": True},
    {"resolution": [512, 512], "batch_size": 4, "num_repeats": 2, "enable_bucket": False},
]
VIDEO_CASES = [
    {"resolution": [96, 64], "target_frames": [1, 5, 9], "frame_extraction": "head", "batch_size": 2},
    {"resolution": [96, 96], "target_frames": [5, 13], "frame_extraction": "chunk", "num_repeats": 2},
    {"resolution": [96, 64], "target_frames": [9], "frame_extraction": "slide", "frame_stride": 4},
    {"resolution": [96, 64], "target_frames": [5, 9], "frame_extraction": "uniform", "frame_sample": 3},
    {"resolution": [96, 64], "target_frames": [1], "frame_extraction": "full", "max_frames": 21,
     "source_fps": 30.0},
    {"resolution": [96, 64], "target_frames": [5, 9], "frame_extraction": "head", "source_fps": 24.0},
]


def _ours_and_request(tmp_path: Path, name: str, task_type: str, variant: str, dataset_type: str, dataset: dict,
                      arch: str):
    ttype = task_types.get(task_type)
    raw = raw_config(ttype, variant, sampling=False)
    raw["dataset"] = {"enable_bucket": True, **dataset}
    resolved = config.resolve(config.check(raw))
    root = tmp_path / ("videos" if dataset_type == "video" else "edit" if dataset_type == "image_control" else "images")
    src = source(dataset_type, root)
    cache = tmp_path / f"cache-{name}"
    cache.mkdir()
    toml = tmp_path / f"{name}.toml"
    toml.write_text(dataset_toml.build(resolved, src, cache), encoding="utf-8")
    report = preflight.build(resolved, src)
    return report["buckets"], {"dataset_config": str(toml), "architecture": arch}


def _same(ours: dict, theirs: dict, width: int) -> None:
    # musubi's keys carry more after (w, h[, frames]) for some architectures (control shapes, which
    # stand for the number of controls here): compare the leading part, then the counts.
    want = sorted((tuple(b["key"][:width]), b["count"]) for b in ours["buckets"])
    got = sorted((tuple(k[:width]), c) for k, c in theirs["buckets"])
    assert want == got
    assert ours["num_train_items"] == theirs["num_train_items"]
    assert ours["batches_per_epoch"] == theirs["batches"]


def test_bucket_preview_equals_musubis_own_buckets(tmp_path):
    _image_dataset(tmp_path / "images")
    _image_dataset(tmp_path / "edit", with_controls=True)
    _video_dataset(tmp_path / "videos")
    cases, requests = [], []
    for i, d in enumerate(IMAGE_CASES):
        cases.append((*_ours_and_request(tmp_path, f"img{i}", "qwen-image-lora", "original", "image", d, "qi"), 2))
        cases.append((*_ours_and_request(tmp_path, f"edit{i}", "qwen-image-edit-lora", "edit-2511", "image_control",
                                         d, "qie"), 2))
        # HiDream-O1: buckets in steps of its 32-pixel patches (TaskType.bucket_step), not 16.
        cases.append((*_ours_and_request(tmp_path, f"ho1-{i}", "hidream-o1-lora", "full-t2i", "image", d, "ho1"), 2))
    for i, d in enumerate(VIDEO_CASES):
        cases.append((*_ours_and_request(tmp_path, f"vid{i}", "wan2.1-lora", "t2v-1.3B", "video", d, "wan"), 3))
    answers = probe({"buckets": [req for _, req, _ in cases]})["buckets"]
    for (ours, _, width), theirs in zip(cases, answers):
        assert len(theirs) == 1
        _same(ours, theirs[0], width)
    # The cases are not trivial: several buckets, repeats, videos cut into several windows.
    assert max(len(ours["buckets"]) for ours, _, _ in cases) >= 5
    assert any(b["smaller_than_batch"] for ours, _, _ in cases for b in ours["buckets"])
