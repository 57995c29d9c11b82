"""Pre-flight benchmark: the report for a 10,000-image dataset, cold and warm (issue 15: warm < 2 s).

    .venv/bin/python bench/preflight_bench.py [--count 10000] [--size 96]

Builds real PNGs of varied sizes (several buckets) with captions, a few uncaptioned, empty-captioned
and duplicated ones, then times preflight.build (findings, buckets, estimate) over them: cold (every
header read and every file hashed) and warm (nothing changed: media_info answers from its cache
after a stat). Headers only: Pillow opens each image without decoding it.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server.training import config, preflight, task_types  # noqa: E402
from server.training.dataset_source import DatasetSource  # noqa: E402

SHAPES = [(96, 96), (128, 96), (96, 128), (160, 90), (90, 160), (120, 80)]


def make_dataset(root: Path, count: int, size: int) -> DatasetSource:
    media = root / "media"
    media.mkdir(parents=True)
    (root / "control").mkdir()
    encoded: dict[tuple, bytes] = {}
    for i in range(count):
        w, h = SHAPES[i % len(SHAPES)]
        w, h = w * size // 96, h * size // 96
        color = (i % 251, (i // 251) % 251, 7)
        if i % 1000 == 999:
            color = (1, 1, 1)   # a few identical files: the duplicate check has something to find
        buf = io.BytesIO()
        Image.new("RGB", (w, h), color).save(buf, format="PNG")
        encoded.setdefault((w, h), buf.getvalue())
        (media / f"img{i:05d}.png").write_bytes(buf.getvalue())
        if i % 500 != 1:
            (media / f"img{i:05d}.txt").write_text("" if i % 700 == 3 else f"a photo, tag{i % 40}", encoding="utf-8")
    return DatasetSource("ds_bench", "bench", "image", media, root / "control")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--warm-runs", type=int, default=3)
    args = ap.parse_args()
    ttype = task_types.get("qwen-image-lora")
    raw = {"name": "bench", "task_type": ttype.id, "dataset_id": "ds_bench",
           "dataset": {"resolution": [512, 512], "batch_size": 2, "num_repeats": 2},
           "training": {"max_train_epochs": 10}}
    resolved = config.resolve(config.check(raw))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        src = make_dataset(Path(tmp), args.count, args.size)
        print(f"made {args.count} images in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        report = preflight.build(resolved, src)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(args.warm_runs):
            t0 = time.perf_counter()
            preflight.build(resolved, src)
            warm.append(time.perf_counter() - t0)
    b = report["buckets"]
    print(f"report cold: {cold:.2f} s   warm: median {statistics.median(warm):.2f} s  (max {max(warm):.2f} s)"
          f"   target warm < 2 s: {'OK' if max(warm) < 2 else 'TOO SLOW'}")
    print(f"  {report['dataset']['kept']} of {report['dataset']['files']} files kept, {len(b['buckets'])} buckets, "
          f"{b['num_train_items']} items/epoch, {b['batches_per_epoch']} batches, {b['total_steps']} steps")
    for f in report["findings"]:
        print(f"  [{f['severity']}] {f['code']}: {f['count']} file(s)")


if __name__ == "__main__":
    main()
