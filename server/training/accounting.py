"""What musubi actually trained on, read from its own console output, against the pre-flight numbers.

The train stage's log (tests/fixtures/musubi-real-output/*_3_train.log) prints, from
dataset/bucket.py and training/trainer_base.py:
    INFO:musubi_tuner.dataset.bucket:bucket: (64, 64, 5), count: 2
    INFO:musubi_tuner.dataset.bucket:total batches: 2
      num train items / 学習画像、動画数: 2
      num batches per epoch / 1epochのバッチ数: 2
      total optimization steps / 学習ステップ数: 4
and the cache stages' logs `found N images` / `found N videos` (dataset/datasources.py).
A difference from the pre-flight report (a file changed in between, a video decoding to fewer frames than
its header said) becomes a warning in the task detail.
"""

from __future__ import annotations

import re
from pathlib import Path

from . import ranks
from .task_types import cache_kind

BUCKET = re.compile(r"musubi_tuner\.dataset\.bucket:bucket: \(([\d, ]+)\), count: (\d+)")
ITEMS = re.compile(r"num train items / \S+: (\d+)")
BATCHES = re.compile(r"num batches per epoch / \S+: (\d+)")
STEPS = re.compile(r"total optimization steps / \S+: (\d+)")
FOUND = re.compile(r"musubi_tuner\.dataset\.datasources:found (\d+) (?:images|videos)")


def parse(train_log: str, cache_log: str = "") -> dict:
    buckets = [{"key": [int(x) for x in m.group(1).split(",")], "count": int(m.group(2))}
               for m in BUCKET.finditer(train_log)]

    def last(rx, text):
        found = rx.findall(text)
        return int(found[-1]) if found else None

    return {"buckets": buckets, "num_train_items": last(ITEMS, train_log),
            "batches_per_epoch": last(BATCHES, train_log), "total_steps": last(STEPS, train_log),
            "files_found": last(FOUND, cache_log or train_log)}


def compare(expected: dict, actual: dict) -> list[dict]:
    """Differences as {code, expected, actual}; the UI translates the code."""
    out = []
    for key, code in (("num_train_items", "accounting_items"), ("batches_per_epoch", "accounting_batches"),
                      ("total_steps", "accounting_steps")):
        if expected.get(key) is not None and actual.get(key) is not None and expected[key] != actual[key]:
            out.append({"code": code, "expected": expected[key], "actual": actual[key]})
    if actual.get("buckets"):
        # musubi's key may carry more than (w, h[, frames]) (FramePack/Wan window size, control shapes):
        # compare the resolution and frames it shares with the preview.
        def norm(rows):
            return sorted((tuple(r["key"][:2]), r["count"]) for r in rows)
        got, want = norm(actual["buckets"]), norm(expected.get("buckets") or [])
        if got != want:
            out.append({"code": "accounting_buckets", "expected": [list(k) + [c] for k, c in want],
                        "actual": [list(k) + [c] for k, c in got]})
    return out


def account(run: dict) -> dict | None:
    """Read the run's train (and latent cache) logs; None when there is nothing to compare."""
    expected = run.get("preflight")
    if not expected:
        return None
    logs = Path(run.get("log_dir") or ".")
    name = f"run-{run.get('run_no', 0):03d}"

    def read(stage):
        try:
            return (logs / f"{name}-{stage}.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    train = read("train")
    if not train:
        return None
    expected = {k: expected.get(k) for k in ("num_train_items", "batches_per_epoch", "total_steps", "buckets")}
    if len(run.get("gpus") or [0]) > 1:
        # Every rank logs its buckets: read rank 0's (ranks.py). musubi prints the batches of the data loader
        # accelerate has split between the processes, so one process's share is what it reports.
        train = ranks.rank0_text(train)
        expected["batches_per_epoch"] = (run.get("preflight") or {}).get("batches_per_process",
                                                                         expected["batches_per_epoch"])
    # The media cache stage (latents, or HiDream-O1's pixels) lists what its datasource found.
    media = next((st["name"] for st in run.get("stages") or () if cache_kind(st.get("name", "")) == "media"),
                 "cache_latents")
    actual = parse(train, read(media))
    return {"actual": actual, "expected": expected, "differences": compare(expected, actual)}
