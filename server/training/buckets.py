"""The buckets musubi-tuner will train with, computed as its own code computes them.

Mirrors musubi's dataset/bucket.py (BucketSelector, BucketBatchManager) and the training side of
dataset/image_video_dataset.py (`prepare_for_training`), at the pinned commit:
- bucketing on: sizes from `divisible_by(sqrt(W*H) // 2, step)` up to `sqrt(W*H)` in `step`s, each with
  `h = divisible_by(W*H // w, step)`, both orientations; an item goes to the bucket of the nearest aspect
  ratio (first on ties, buckets sorted). With `bucket_no_upscale`, an item no larger than W*H keeps its
  own size rounded down to the step (its own bucket, never upscaled).
- bucketing off: one bucket, the resolution.
- videos: the bucket key is (w, h, frames of the window); edit datasets: the key also carries the number
  of control images (musubi splits buckets by control latents so a batch never stacks ragged controls).
- each bucket holds every item `num_repeats` times; batches per bucket = ceil(count / batch_size).
- steps per epoch = ceil(batches / processes / gradient_accumulation_steps) (trainer_base.py: one process
  per GPU with `accelerate launch --multi_gpu`). accelerator.prepare() splits the data loader between the
  processes (accelerate pads the last round so each gets as many), so each process runs
  ceil(batches / processes) batches an epoch: that is musubi's `num batches per epoch` with N GPUs, and one
  optimizer step trains batch_size x processes x gradient_accumulation_steps items.
tests/training/test_buckets_musubi.py runs musubi's own code on the same datasets and requires equality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def divisible_by(num: int, divisor: int) -> int:
    return num - num % divisor


@dataclass(frozen=True)
class Selector:
    resolution: tuple[int, int]
    enable_bucket: bool
    no_upscale: bool
    step: int

    @property
    def area(self) -> int:
        return self.resolution[0] * self.resolution[1]

    @property
    def min_size(self) -> int:
        return divisible_by(int(math.sqrt(self.area)) // 2, self.step)

    @property
    def max_size(self) -> int:
        return int(math.sqrt(self.area))

    def resolutions(self) -> list[tuple[int, int]]:
        if not self.enable_bucket:
            return [tuple(self.resolution)]
        out = set()
        for w in range(self.min_size, self.max_size + self.step, self.step):
            h = divisible_by(self.area // w, self.step)
            out.add((w, h))
            out.add((h, w))
        return sorted(out)

    def bucket_for(self, size: tuple[int, int], resolutions: list[tuple[int, int]] | None = None) -> tuple[int, int]:
        w, h = size
        if self.enable_bucket and self.no_upscale and w * h <= self.area:
            return divisible_by(w, self.step), divisible_by(h, self.step)
        resos = resolutions or self.resolutions()
        ratio = w / h
        # numpy argmin over |w/h - ratio|: the first smallest
        return min(resos, key=lambda r: abs(r[0] / r[1] - ratio))

    def public(self) -> dict:
        return {"resolution": list(self.resolution), "enable_bucket": self.enable_bucket,
                "no_upscale": self.no_upscale, "step": self.step,
                "min_size": self.min_size if self.enable_bucket else None,
                "max_size": self.max_size if self.enable_bucket else None,
                "resolutions": [list(r) for r in self.resolutions()]}


@dataclass(frozen=True)
class Item:
    name: str                   # the media file
    size: tuple[int, int]       # its (width, height) (a video's frame size)
    frames: int | None = None   # a video window's frame count
    controls: int = 0           # control images (edit datasets)


def preview(items: list[Item], selector: Selector, *, batch_size: int, num_repeats: int,
            grad_accum: int = 1, epochs: int | None = None, max_steps: int | None = None,
            processes: int = 1, max_listed: int = 200) -> dict:
    """Every bucket with its count (repeats included) and files, batches and steps (module docstring)."""
    resos = selector.resolutions()
    by_size: dict[tuple, tuple] = {}
    buckets: dict[tuple, list[str]] = {}
    for item in items:
        if item.size not in by_size:
            by_size[item.size] = selector.bucket_for(item.size, resos)
        key = by_size[item.size]
        if item.frames is not None:
            key = (*key, item.frames)
        if item.controls:
            key = (*key, item.controls)
        buckets.setdefault(key, []).append(item.name)
    bs = max(1, batch_size)
    rows = []
    for key in sorted(buckets):
        names = buckets[key]
        count = len(names) * num_repeats
        rows.append({"key": list(key), "width": key[0], "height": key[1],
                     "frames": key[2] if len(key) > 2 and items and items[0].frames is not None else None,
                     "items": len(names), "count": count, "batches": math.ceil(count / bs),
                     "smaller_than_batch": count < bs, "files": sorted(names)[:max_listed]})
    batches = sum(r["batches"] for r in rows)
    processes = max(1, processes)
    steps_per_epoch = math.ceil(batches / processes / max(1, grad_accum))
    if max_steps is not None:
        total = max_steps
    elif epochs is not None:
        total = steps_per_epoch * epochs
    else:
        total = None
    return {"selector": selector.public(), "buckets": rows, "num_train_items": sum(r["count"] for r in rows),
            "batches_per_epoch": batches, "batches_per_process": math.ceil(batches / processes),
            "steps_per_epoch": steps_per_epoch, "epochs": epochs,
            "total_steps": total, "batch_size": bs, "num_repeats": num_repeats, "grad_accum": grad_accum,
            "processes": processes, "total_batch_size": bs * processes * max(1, grad_accum)}
