"""Dataset benchmark: build a 10,000-image dataset in a tmp dir and print how long the user waits.

    .venv/bin/python bench/datasets_bench.py [--count 10000] [--size 128]

Figures: import (folder copy job, with captions), list a page (first, deep, searched), generate all
thumbnails (the background job), save one caption, rescan unchanged, one batch tag op over all
items and its undo. Runs the real app in-process through Flask's test client; nothing is mocked.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.security import TOKEN_HEADER  # noqa: E402

TOKEN = "bench"


def make_source(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        img = Image.new("RGB", (size, size), (i * 7 % 256, i * 13 % 256, i * 29 % 256))
        img.paste((255 - i % 256, 0, 0), (0, 0, size // 3, size // 3))
        img.save(folder / f"img_{i:05d}.jpg", quality=85)
        (folder / f"img_{i:05d}.txt").write_text(f"ohwx, tag{i % 50}, color{i % 7}, solo", encoding="utf-8")


def timed(fn, repeat: int = 1):
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--size", type=int, default=128, help="edge of the generated images in pixels")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="lw-bench-") as tmp:
        tmp = Path(tmp)
        t, _ = timed(lambda: make_source(tmp / "source", args.count, args.size))
        print(f"generated {args.count} images {args.size}px + captions: {t:.1f} s (setup, not a figure)")

        app = create_app(data_dir=tmp / "data", token=TOKEN, testing=True)
        svc = app.extensions["workbench"]
        client = app.test_client()
        h = {TOKEN_HEADER: TOKEN}
        try:
            ds = client.post("/api/datasets", json={"name": "bench"}, headers=h).get_json()["dataset"]
            base = f"/api/datasets/{ds['id']}"

            def do_import():
                r = client.post(f"{base}/import", json={"source": "folder", "path": str(tmp / "source")}, headers=h)
                return svc.jobs.wait(r.get_json()["job"]["id"], timeout=3600)

            t_import, job = timed(do_import)
            print(f"import {job['result']['imported']} images (+{job['result']['captions']} captions): "
                  f"{t_import:.1f} s ({args.count / t_import:.0f} files/s)")

            thumbs = [j for j in svc.jobs.list(owner=f"dataset:{ds['id']}") if j["kind"] == "thumbnails"][0]
            thumbs = svc.jobs.wait(thumbs["id"], timeout=3600)
            t_thumbs = thumbs["finished_at"] - thumbs["started_at"]
            print(f"generate all thumbnails ({thumbs['result']['made']} made, background job): {t_thumbs:.1f} s "
                  f"({thumbs['result']['total'] / t_thumbs:.0f}/s)")

            for label, qs in [("list first page (100 items)", {"limit": 100}),
                              ("list page 50 (offset 4900)", {"limit": 100, "offset": 4900}),
                              ("list page sorted by size desc", {"limit": 100, "sort": "size", "order": "desc"}),
                              ("search caption 'tag7,' (filtered page)", {"limit": 100, "q": "tag7,"}),
                              ("filter by exact tag", {"limit": 100, "tag": "color3"})]:
                t, r = timed(lambda: client.get(f"{base}/items", query_string=qs, headers=h), repeat=7)
                assert r.status_code == 200
                print(f"{label}: {t * 1000:.1f} ms (total {r.get_json()['total']})")

            t, r = timed(lambda: client.get(f"{base}/items/ids", query_string={"tag": "solo"}, headers=h), repeat=3)
            print(f"select all matching (ids of {r.get_json()['total']}): {t * 1000:.1f} ms")

            item = client.get(f"{base}/items", query_string={"limit": 1}, headers=h).get_json()["items"][0]
            texts = iter(f"edited caption {i}" for i in range(1000))
            t, r = timed(lambda: client.put(f"{base}/items/{item['id']}/caption", json={"caption": next(texts)},
                                            headers=h), repeat=11)
            assert r.status_code == 200
            print(f"save a caption (atomic write + index + undo step): {t * 1000:.1f} ms")

            t, r = timed(lambda: client.get(f"{base}/tags", query_string={"limit": 100}, headers=h), repeat=3)
            print(f"tag frequency over all items: {t * 1000:.1f} ms ({r.get_json()['total']} tags)")

            t, r = timed(lambda: client.post(f"{base}/rescan", headers=h))
            print(f"rescan, nothing changed: {t * 1000:.0f} ms")

            t, r = timed(lambda: client.post(f"{base}/ops", json={"op": "add_tags", "params": {"tags": ["bench"]},
                                                                   "target": {"all": True}}, headers=h))
            print(f"batch add tag to all {r.get_json()['changed']} items: {t:.2f} s")
            t, r = timed(lambda: client.post(f"{base}/undo", headers=h))
            print(f"undo that batch: {t:.2f} s")
        finally:
            svc.shutdown()


if __name__ == "__main__":
    main()
