"""WD14 backend throughput, in images per second, on a tiny generated model.

The model is the test suite's tiny WD14-shaped graph at the real v3 input size (448x448), so the
figure measures everything around the network: decoding the files, alpha/pad/resize/BGR
preprocessing, batching and onnxruntime's call overhead. A real wd-vit-tagger-v3 adds its own
inference time on top (roughly 20-60 ms per image on a desktop CPU, a few ms on a GPU).

    .venv/bin/python bench/tagging_bench.py [--images 96] [--size 448] [--batch 1 4 8]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from server.tagging.base import Item  # noqa: E402
from server.tagging.config import build_options  # noqa: E402
from server.tagging.wd14 import Wd14Backend, Wd14Options  # noqa: E402
from tests.tagging.tiny_wd14 import build_model_dir  # noqa: E402


def make_images(folder: Path, count: int) -> list[Item]:
    """Photos of mixed sizes and formats, like a real dataset (JPEG and PNG, some with alpha)."""
    rng = random.Random(0)
    out = []
    for i in range(count):
        w, h = rng.choice([(1024, 768), (768, 1024), (1216, 832), (512, 512)])
        img = Image.effect_noise((w, h), 40).convert("RGB")
        if i % 4 == 3:
            img = img.convert("RGBA")
            path = folder / f"{i:04d}.png"
        else:
            path = folder / f"{i:04d}.jpg"
        img.save(path, quality=90)
        out.append(Item.from_path(path))
    return out


def measure(model_dir: Path, items: list[Item], batch: int) -> float:
    backend = Wd14Backend(build_options(Wd14Options, None, {"model_dir": str(model_dir), "batch_size": batch}))
    backend.load()
    list(backend.caption_many(items[:batch]))  # warm-up: first-run allocations are not throughput
    started = time.perf_counter()
    results = list(backend.caption_many(items))
    elapsed = time.perf_counter() - started
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    backend.close()
    return len(items) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--size", type=int, default=448)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model_dir = build_model_dir(tmp / "model", size=args.size)
        items = make_images(tmp, args.images)
        import onnxruntime  # noqa: PLC0415

        print(f"onnxruntime {onnxruntime.__version__}, providers {onnxruntime.get_available_providers()}")
        print(f"{args.images} images (512..1216 px, jpg/png), model input {args.size}x{args.size}")
        for batch in args.batch:
            print(f"batch {batch:>2}: {measure(model_dir, items, batch):7.1f} images/s")


if __name__ == "__main__":
    main()
