"""The app against a bare baseline doing the same work, measured side by side IN THE SAME RUN.

Each section prints the app's figure, the baseline's and their ratio (app / baseline for times,
app / baseline for throughputs where higher is better — the line says which). Nothing here is a
pass/fail: the figures go into the README's Benchmarks table (issue 19).

    .venv/bin/python bench/baseline_bench.py [grid caption progress thumbs wd14 import] [--items 100000]

grid      a 200-item page of a dataset of --items rows (default 100,000) through the Flask test client,
          against the same rows by the same ORDER BY straight from sqlite3 + json.dumps
caption   saving one caption through the API (journal step + atomic write + index), against
          write + fsync + rename + UPDATE
progress  a fake trainer appends tqdm steps to a log; time from a step's write to its `progress` event
          on a real websocket client, against a bare 10 ms tail of the same file; every step's loss
          must arrive; then idle CPU of the app process with a task page's websocket open
thumbs    the thumbnail job over --thumbs JPEGs, against a 2-process Pillow draft pool doing the same
wd14      WD14 preprocessing (decode + alpha + pad + resize + BGR) of mixed images, against a bare loop
import    a folder import (journal + hashing + temp-name copies + decode check) against copy + decode
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.security import TOKEN_HEADER  # noqa: E402

TOKEN = "bench"
H = {TOKEN_HEADER: TOKEN}


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def line(label: str, app: float, base: float, unit: str, *, higher_better: bool = False) -> None:
    ratio = app / base if base else float("inf")
    how = "higher is better" if higher_better else "lower is better"
    print(f"  {label:<44} app {app:9.2f} {unit:<6} baseline {base:9.2f} {unit:<6} ratio {ratio:5.2f}x ({how})")


def interleaved(fn_app, fn_base, repeat: int) -> tuple[list[float], list[float]]:
    """Alternate app and baseline so a busy machine slows both alike."""
    a, b = [], []
    for _ in range(repeat):
        for fn, out in ((fn_app, a), (fn_base, b)):
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
    return a, b


def app_in(tmp: Path):
    app = create_app(data_dir=tmp / "data", token=TOKEN, testing=True)
    return app, app.extensions["workbench"], app.test_client()


# --- grid -------------------------------------------------------------------------------------

def synthetic_rows(dataset_id: str, count: int) -> list[dict]:
    rng = random.Random(1)
    now = time.time()
    rows = []
    for i in range(count):
        name = f"{rng.choice(['Img', 'img', 'photo', 'Photo', 'scan'])}_{rng.randrange(10**9):09d}_{i}.jpg"
        caption = f"ohwx, tag{i % 50}, color{i % 7}, solo" if i % 10 else None
        rows.append({"dataset_id": dataset_id, "name": name, "stem": name[:-4], "kind": "image",
                     "size": rng.randrange(10**5, 10**7), "mtime": now - i, "mtime_ns": int((now - i) * 1e9),
                     "caption": caption, "caption_mtime_ns": 1 if caption else None,
                     "caption_size": len(caption) if caption else None,
                     "tags_key": ("," + caption.replace(", ", ",") + ",") if caption else "",
                     "width": 1024, "height": 768, "duration": None, "fps": None, "frames": None,
                     "controls": "[]", "broken": 0, "error": None})
    return rows


def bench_grid(tmp: Path, count: int, repeat: int) -> None:
    from server.datasets import items

    print(f"grid: a 200-item page of {count:,} items (p50 of {repeat}, interleaved)")
    app, svc, client = app_in(tmp)
    try:
        ds = client.post("/api/datasets", json={"name": "grid"}, headers=H).get_json()["dataset"]
        rows = synthetic_rows(ds["id"], count)
        for i in range(0, count, 5000):   # the app's own index writer, so its triggers/indexes see every row
            items._write_rows(svc.store.db, ds["id"], rows[i:i + 5000], [])
        url = f"/api/datasets/{ds['id']}/items"
        conn = sqlite3.connect(str(svc.store.path))

        def bare(offset):
            cur = conn.execute("SELECT * FROM dataset_items WHERE dataset_id = ? ORDER BY name COLLATE NOCASE, id "
                               "LIMIT 200 OFFSET ?", [ds["id"], offset])
            cols = [d[0] for d in cur.description]
            return json.dumps({"items": [dict(zip(cols, r)) for r in cur.fetchall()]})

        for label, offset in (("first page", 0), ("page at 50%", count // 2), ("last page", max(0, count - 200))):
            def via_app(offset=offset):
                r = client.get(url, query_string={"limit": 200, "offset": offset}, headers=H)
                assert r.status_code == 200 and len(r.get_json()["items"]) == min(200, count - offset)
            a, b = interleaved(via_app, lambda offset=offset: bare(offset), repeat)
            line(f"{label} p50", statistics.median(a), statistics.median(b), "ms")
        conn.close()
    finally:
        svc.shutdown()


# --- caption ----------------------------------------------------------------------------------

def bench_caption(tmp: Path, repeat: int) -> None:
    from PIL import Image

    print(f"caption: save one caption (p50/p95 of {repeat}, interleaved)")
    src = tmp / "capsrc"
    src.mkdir()
    for i in range(50):
        Image.new("RGB", (32, 32), (i, 0, 0)).save(src / f"c{i:03d}.png")
    app, svc, client = app_in(tmp)
    try:
        ds = client.post("/api/datasets", json={"name": "cap"}, headers=H).get_json()["dataset"]
        base = f"/api/datasets/{ds['id']}"
        job = client.post(f"{base}/import", json={"source": "folder", "path": str(src)}, headers=H).get_json()["job"]
        svc.jobs.wait(job["id"], timeout=600)
        item = client.get(f"{base}/items", query_string={"limit": 1}, headers=H).get_json()["items"][0]
        conn = sqlite3.connect(str(svc.store.path))
        conn.execute("PRAGMA synchronous = NORMAL")
        folder = tmp / "bare"
        folder.mkdir()
        n = iter(range(10**6))

        def via_app():
            r = client.put(f"{base}/items/{item['id']}/caption", json={"caption": f"edited, caption {next(n)}"},
                           headers=H)
            assert r.status_code == 200

        def bare():
            text = f"edited, caption {next(n)}"
            tmp_path = folder / ".~c.txt.tmp"
            with open(tmp_path, "wb") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, folder / "c.txt")
            with conn:
                conn.execute("UPDATE dataset_items SET caption = ? WHERE id = ?", [text, item["id"]])

        via_app(), bare()   # warm-up
        a, b = interleaved(via_app, bare, repeat)
        line("save p50", statistics.median(a), statistics.median(b), "ms")
        line("save p95", p(a, 95), p(b, 95), "ms")
        conn.close()
    finally:
        svc.shutdown()


SECTIONS = {"grid": bench_grid, "caption": bench_caption}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sections", nargs="*", default=list(SECTIONS), choices=[[], *SECTIONS])
    ap.add_argument("--items", type=int, default=100_000, help="grid: rows in the dataset")
    ap.add_argument("--repeat", type=int, default=41)
    args = ap.parse_args()
    for name in args.sections or list(SECTIONS):
        with tempfile.TemporaryDirectory(prefix=f"lw-bench-{name}-") as tmp:
            fn = SECTIONS[name]
            if name == "grid":
                fn(Path(tmp), args.items, args.repeat)
            else:
                fn(Path(tmp), args.repeat)


if __name__ == "__main__":
    main()
