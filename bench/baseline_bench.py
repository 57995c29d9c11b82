"""The app against a bare baseline doing the same work, measured side by side IN THE SAME RUN.

Each section prints the app's figure, the baseline's and their ratio (app / baseline for times,
app / baseline for throughputs where higher is better — the line says which). Nothing here is a
pass/fail: the figures go into the README's Benchmarks table (issue 19).

    .venv/bin/python bench/baseline_bench.py [grid caption progress thumbs wd14 import] [--items 100000]

grid      a 200-item page of a dataset of --items rows (default 100,000) through the Flask test client,
          against the same rows by the same ORDER BY straight from sqlite3 + json.dumps
caption   saving one caption through the API (journal step + atomic write + index), against
          write + fsync + rename + UPDATE; and that bare work behind the app's request path (the floor)
progress  a fake trainer appends tqdm steps to a log; time from a step's write to its `progress` event
          on a real websocket client, against a bare 10 ms tail of the same file; every step's loss
          must arrive; then idle CPU of the app process with a task page's websocket open
thumbs    the thumbnail job over --thumbs JPEGs, against a 2-process Pillow draft pool doing the same
wd14      WD14 preprocessing (decode + alpha + pad + resize + BGR) of mixed images, against a bare loop
import    a folder import (import row + in-flight journal + hashing + decode check) against copy + decode
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


def interleaved(fn_app, fn_base, repeat: int, cpu: list | None = None, *more) -> tuple[list[float], ...]:
    """Alternate app and baseline (and any `more` functions) so a busy machine slows all alike. `cpu`: gets
    the CPU time of this thread per call (ms) for each: unlike wall time it is not stretched while other
    processes hold the cores, which on the shared 2-core box is most of a 3 ms call."""
    fns = (fn_app, fn_base, *more)
    walls: list[list[float]] = [[] for _ in fns]
    cpus: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out, cpu_out in zip(fns, walls, cpus):
            c = time.thread_time()
            t = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t) * 1000)
            cpu_out.append((time.thread_time() - c) * 1000)
    if cpu is not None:
        cpu[:] = cpus
    return tuple(walls)


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
            last = []

            def via_app(offset=offset, last=last):
                # Request to response bytes, as the baseline ends at its JSON text: the parse to check
                # the page is done after the timing (the browser parses both alike).
                r = client.get(url, query_string={"limit": 200, "offset": offset}, headers=H)
                assert r.status_code == 200
                last[:] = [r]
            cpu: list = []
            a, b = interleaved(via_app, lambda offset=offset: bare(offset), repeat, cpu)
            line(f"{label} p50", statistics.median(a), statistics.median(b), "ms")
            line(f"{label} CPU p50", statistics.median(cpu[0]), statistics.median(cpu[1]), "ms")
            assert len(last[0].get_json()["items"]) == min(200, count - offset)
        conn.close()
    finally:
        svc.shutdown()


# --- caption ----------------------------------------------------------------------------------

def bench_caption(tmp: Path, repeat: int) -> None:
    """Three ways, alternated: the app's save; the bare work (write + fsync + rename + UPDATE); and the
    bare work behind the app's own request path (the test client, routing, the secret check, JSON in and
    out), which is the least any save through the API can cost: the "floor"."""
    from PIL import Image

    from server.errors import json_body

    print(f"caption: save one caption (p50/p95 of {repeat}, interleaved)")
    src = tmp / "capsrc"
    src.mkdir()
    for i in range(50):
        Image.new("RGB", (32, 32), (i, 0, 0)).save(src / f"c{i:03d}.png")
    app, svc, client = app_in(tmp)
    floor_item: dict = {}

    @app.put("/api/bench/caption")   # before the first request: Flask takes no routes after it
    def floor_route():
        bare_work(json_body()["caption"])
        return {"item": {**floor_item, "caption": None}, "step": None}

    try:
        ds = client.post("/api/datasets", json={"name": "cap"}, headers=H).get_json()["dataset"]
        base = f"/api/datasets/{ds['id']}"
        job = client.post(f"{base}/import", json={"source": "folder", "path": str(src)}, headers=H).get_json()["job"]
        svc.jobs.wait(job["id"], timeout=600)
        item = client.get(f"{base}/items", query_string={"limit": 1}, headers=H).get_json()["items"][0]
        floor_item.update(item)   # a response the size of the app's
        conn = sqlite3.connect(str(svc.store.path), check_same_thread=False)
        conn.execute("PRAGMA synchronous = NORMAL")
        folder = tmp / "bare"
        folder.mkdir()
        n = iter(range(10**6))

        def bare_work(text):
            tmp_path = folder / ".~c.txt.tmp"
            with open(tmp_path, "wb") as f:
                f.write(text.encode("utf-8"))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp_path, folder / "c.txt")
            with conn:
                conn.execute("UPDATE dataset_items SET caption = ? WHERE id = ?", [text, item["id"]])

        def via_app():
            r = client.put(f"{base}/items/{item['id']}/caption", json={"caption": f"edited, caption {next(n)}"},
                           headers=H)
            assert r.status_code == 200

        def bare():
            bare_work(f"edited, caption {next(n)}")

        def floor():
            r = client.put("/api/bench/caption", json={"caption": f"edited, caption {next(n)}"}, headers=H)
            assert r.status_code == 200

        via_app(), bare(), floor()   # warm-up
        cpu: list = []
        a, b, f = interleaved(via_app, bare, repeat, cpu, floor)
        line("save p50", statistics.median(a), statistics.median(b), "ms")
        line("save CPU p50", statistics.median(cpu[0]), statistics.median(cpu[1]), "ms")
        line("save p95", p(a, 95), p(b, 95), "ms")
        print("  the floor: the bare work behind the app's request path")
        line("floor p50 (app column: the floor)", statistics.median(f), statistics.median(b), "ms")
        line("save p50 against the floor (baseline column)", statistics.median(a), statistics.median(f), "ms")
        line("floor CPU p50", statistics.median(cpu[2]), statistics.median(cpu[1]), "ms")
        conn.close()
    finally:
        svc.shutdown()


# --- progress ---------------------------------------------------------------------------------

def bench_progress(tmp: Path, steps: int, step_s: float, idle_s: float) -> None:
    """The stand-in trainer (tests/standin/fake_musubi) prints musubi's own tqdm output; it notes each
    step in FAKE_MUSUBI_STEP_LOG right after drawing it. A 2 ms watcher of that file dates each step's
    write; the baseline is a bare 10 ms tail of the training log; the app is a real websocket client."""
    import threading

    import psutil
    from tests.wsclient import Client

    from server.serve import ServerThread
    from server.training import tasks
    from tests.models.helpers import qwen_model_files
    from tests.training.conftest import add_dataset, point_at_standin

    print(f"progress: {steps} steps of {step_s * 1000:.0f} ms through the real runner, websocket and server")
    step_log = tmp / "steps.log"
    os.environ["FAKE_MUSUBI_STEP_LOG"] = str(step_log)
    os.environ["FAKE_MUSUBI_STEP_S"] = str(step_s)
    app = create_app(data_dir=tmp / "data", token=TOKEN, testing=True, gpu_provider="none")
    svc = app.extensions["workbench"]
    srv = ServerThread(app)
    srv.start()
    stop = threading.Event()
    written: dict[int, float] = {}
    tailed: dict[int, float] = {}
    shown: dict[int, float] = {}
    losses: set[int] = set()
    try:
        point_at_standin(svc.store)
        add_dataset(svc)
        models = qwen_model_files(tmp / "models")   # headers the start-up check accepts
        # 3 images, batch 1: `steps` steps are steps/3 epochs.
        task = tasks.create(svc.store, svc.layout, {
            "name": "bench", "task_type": "qwen-image-lora", "dataset_id": "ds_0000c0de", "models": models,
            "vram_preset": "low", "gpus": [0], "training": {"max_train_epochs": max(1, steps // 3)}})
        train_log = tasks.paths(svc.layout, task["id"]).logs / "run-001-train.log"
        ws = Client.connect(f"ws://127.0.0.1:{srv.port}/ws?token={TOKEN}")
        ws.send(json.dumps({"op": "subscribe", "topics": [f"task:{task['id']}", "tasks", "system"]}))

        def receive():
            while not stop.is_set():
                raw = ws.receive(timeout=0.5)
                if raw is None:
                    continue
                now = time.time()
                ev = json.loads(raw)
                if ev["type"] == "progress" and ev["data"].get("stage") == "train" and ev["data"].get("step"):
                    shown.setdefault(ev["data"]["step"], now)
                elif ev["type"] == "loss":
                    losses.update(pt["step"] for pt in ev["data"]["points"])

        def watch_steps():   # the reference: when each step was written
            seen = 0
            while not stop.is_set():
                try:
                    n = len(step_log.read_text().split())
                except FileNotFoundError:
                    n = 0
                now = time.time()
                for k in range(seen + 1, n + 1):
                    written[k] = now
                seen = n
                time.sleep(0.002)

        def bare_tail():   # the baseline: a 10 ms tail of the same log, parsed for the bar's step
            import re
            offset, pending = 0, ""
            bar = re.compile(r"steps:\s+\d+%\|[^|]*\|\s*(\d+)/")
            while not stop.is_set():
                try:
                    with open(train_log, "rb") as f:
                        f.seek(offset)
                        data = f.read()
                except FileNotFoundError:
                    data = b""
                offset += len(data)
                now = time.time()
                pending += data.decode("utf-8", "replace")
                for m in bar.finditer(pending):
                    tailed.setdefault(int(m.group(1)), now)
                pending = pending[-200:]
                time.sleep(0.01)

        threads = [threading.Thread(target=f, daemon=True) for f in (receive, watch_steps, bare_tail)]
        for t in threads:
            t.start()
        svc.supervisor.enqueue(task["id"])
        done = svc.supervisor.wait(task["id"], timeout=steps * step_s * 10 + 60)
        assert done["status"] == "done", done.get("error")
        time.sleep(0.5)   # the last events are in flight
        total = max(written) if written else 0
        app_lat = [(shown[k] - written[k]) * 1000 for k in written if k in shown]
        base_lat = [(tailed[k] - written[k]) * 1000 for k in written if k in tailed]
        print(f"  steps written {total}, shown {len(app_lat)}, with loss {len(losses & set(written))} "
              f"(every step's loss delivered: {losses >= set(range(1, total + 1))})")
        line("step -> event p50", statistics.median(app_lat), statistics.median(base_lat), "ms")
        line("step -> event p95", p(app_lat, 95), p(base_lat, 95), "ms")
        stop.set()
        for t in threads[1:]:
            t.join()
        # Idle: the task page's websocket stays open (task, tasks, system topics), nothing happens.
        me = psutil.Process()
        c0, t0 = sum(me.cpu_times()[:2]), time.monotonic()
        time.sleep(idle_s)
        cpu = (sum(me.cpu_times()[:2]) - c0) / (time.monotonic() - t0) * 100
        print(f"  idle CPU with the task page's websocket open, {idle_s:.0f} s: {cpu:.3f} % of one core "
              f"(target < 0.2 %; a bare idle process: 0)")
        threads[0].join()
        ws.close()
    finally:
        stop.set()
        srv.shutdown()
        svc.shutdown()


# --- thumbs -----------------------------------------------------------------------------------

def _bare_thumb(args) -> None:
    """The baseline's work per file: Pillow draft decode, thumbnail, JPEG save (what any tool does)."""
    from PIL import Image

    src, dest = args
    with Image.open(src) as img:
        img.draft("RGB", (384, 384))
        img = img.convert("RGB")
        img.thumbnail((384, 384), Image.Resampling.LANCZOS, reducing_gap=2.0)
        img.save(dest, "JPEG", quality=82)


def make_photos(folder: Path, count: int, size: tuple[int, int] = (1200, 900)) -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    noise = Image.effect_noise(size, 30).convert("RGB")
    out = []
    for i in range(count):
        img = noise.rotate(i % 360) if i % 5 else noise
        path = folder / f"photo_{i:05d}.jpg"
        img.save(path, quality=88)
        out.append(path)
    return out


def bench_thumbs(tmp: Path, count: int, rounds: int = 3) -> None:
    import multiprocessing
    import shutil
    from concurrent.futures import ProcessPoolExecutor

    print(f"thumbs: {count} JPEGs 1200x900 -> 384 px thumbnails (the job, against a 2-process Pillow pool)")
    photos = make_photos(tmp / "photos", count)
    app, svc, client = app_in(tmp)
    try:
        ds = client.post("/api/datasets", json={"name": "thumbs"}, headers=H).get_json()["dataset"]
        media = svc.layout.datasets / ds["id"] / "media"
        for path in photos:
            shutil.copy2(path, media / path.name)
        assert client.post(f"/api/datasets/{ds['id']}/rescan", headers=H).status_code == 200
        for job in svc.jobs.list(owner=f"dataset:{ds['id']}"):
            svc.jobs.wait(job["id"], timeout=3600)
        shutil.rmtree(svc.layout.cache / "thumbs", ignore_errors=True)   # a rescan may have started the job

        def via_app():
            from server.datasets import thumbnails
            job = thumbnails.submit_job(svc, ds["id"])
            job = svc.jobs.wait(job["id"], timeout=3600)
            assert job["result"]["made"] == count, job["result"]
            return count / (job["finished_at"] - job["started_at"])

        def bare():
            # A new folder each round, as the app makes a new dataset: both leave the same files behind,
            # so neither pays for removing the last round's (nor for a fuller disk) more than the other.
            out = tmp / f"bare-{time.monotonic_ns()}"
            out.mkdir()
            started = time.perf_counter()
            with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
                list(pool.map(_bare_thumb, [(p_, out / (p_.name + ".jpg")) for p_ in photos], chunksize=8))
            return count / (time.perf_counter() - started)

        def cpu() -> float:   # this process and its reaped children (the pool workers), in seconds
            t = os.times()
            return t.user + t.system + t.children_user + t.children_system

        def one(fn, out: list, cpu_out: list) -> None:
            shutil.rmtree(svc.layout.cache / "thumbs", ignore_errors=True)
            c = cpu()
            out.append(fn())
            cpu_out.append((cpu() - c) / count * 1000)

        a, b, ca, cb = [], [], [], []
        for i in range(rounds):   # interleaved, the order swapped every round so a drifting load hits both alike
            for fn, out, cpu_out in ((via_app, a, ca), (bare, b, cb))[::1 if i % 2 == 0 else -1]:
                one(fn, out, cpu_out)
        line(f"thumbnails per second (best of {rounds})", max(a), max(b), "img/s", higher_better=True)
        line(f"CPU per thumbnail, all processes (min of {rounds})", min(ca), min(cb), "ms")
        pairs = sorted(x / y for x, y in zip(a, b))
        print(f"  each round's app/baseline throughput: {', '.join(f'{r:.2f}x' for r in pairs)}; median "
              f"{statistics.median(pairs):.2f}x")
    finally:
        svc.shutdown()


# --- wd14 -------------------------------------------------------------------------------------

def bench_wd14(tmp: Path, count: int) -> None:
    """The app's WD14 backend (decode + EXIF + alpha + pad + resize + BGR, batching, a decode thread)
    against a bare loop over the same files and the same onnxruntime session: open, convert to RGB,
    pad to a white square, bicubic resize, BGR float32, run. The tiny test model (tests/tagging) has
    the real v3 input (448x448), so the figure is all preprocessing and call overhead."""
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(ROOT / "bench"))
    from tagging_bench import make_images  # noqa: PLC0415 - mixed sizes, JPEG and PNG with alpha

    from server.tagging.config import build_options
    from server.tagging.wd14 import Wd14Backend, Wd14Options
    from tests.tagging.tiny_wd14 import build_model_dir

    print(f"wd14: {count} images 512..1216 px (jpg/png), 448x448 model input, best of 3, interleaved")
    model_dir = build_model_dir(tmp / "model", size=448)
    folder = tmp / "imgs"
    folder.mkdir()
    items_ = make_images(folder, count)
    for batch in (1, 4):
        backend = Wd14Backend(build_options(Wd14Options, None, {"model_dir": str(model_dir), "batch_size": batch}))
        backend.load()
        session = backend.session
        name_in, name_out = session.get_inputs()[0].name, session.get_outputs()[0].name

        def bare_prep(path):
            img = Image.open(path).convert("RGB")
            side = max(img.size)
            square = Image.new("RGB", (side, side), (255, 255, 255))
            square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
            return np.asarray(square.resize((448, 448), Image.Resampling.BICUBIC), dtype=np.float32)[:, :, ::-1]

        def bare():
            started = time.perf_counter()
            for i in range(0, count, batch):
                arrays = np.stack([bare_prep(it.path) for it in items_[i:i + batch]])
                if backend.fixed_batch:   # a model exported with batch 1: one run per picture, as the app does
                    for k in range(len(arrays)):
                        session.run([name_out], {name_in: arrays[k:k + 1]})
                else:
                    session.run([name_out], {name_in: arrays})
            return count / (time.perf_counter() - started)

        def via_app():
            started = time.perf_counter()
            results = list(backend.caption_many(items_))
            assert all(r.ok for r in results)
            return count / (time.perf_counter() - started)

        via_app(), bare()   # warm-up
        a, b = [], []
        for _ in range(3):
            a.append(via_app())
            b.append(bare())
        line(f"batch {batch}: images per second", max(a), max(b), "img/s", higher_better=True)
        if batch == 1:
            # CPU seconds per picture of preprocessing alone (the backend's own decode step against
            # bare_prep): unlike wall time, this is not bent by other processes on a busy machine.
            a, b = [], []
            for _ in range(3):
                t = time.process_time()
                backend._decode(items_)
                a.append((time.process_time() - t) / count * 1000)
                t = time.process_time()
                for it in items_:
                    bare_prep(it.path)
                b.append((time.process_time() - t) / count * 1000)
            line("preprocessing CPU per image (min of 3)", min(a), min(b), "ms")
        backend.close()


# --- import -----------------------------------------------------------------------------------

def bench_import(tmp: Path, count: int, rounds: int = 3) -> None:
    """A folder import through the API (images written under their names with the in-flight journal,
    content hashing for duplicates, the import's row, decode check, index rows, captions) against copying
    the same files and captions and decoding each the same way (JPEG at 1/8 draft scale) in a bare loop."""
    import shutil

    from PIL import Image, ImageDraw

    print(f"import: {count} JPEGs 512 px + captions, {rounds} rounds interleaved (no thumbnail job)")
    src = tmp / "source"
    src.mkdir()
    for i in range(count):   # all different (the import skips duplicates by content)
        img = Image.new("RGB", (512, 512), (i * 7 % 256, i * 13 % 256, i * 29 % 256))
        ImageDraw.Draw(img).text((8, 8), f"{i:05d}", fill=(255, 255, 255))
        img.save(src / f"img_{i:05d}.jpg", quality=85)
        (src / f"img_{i:05d}.txt").write_text(f"ohwx, tag{i % 50}, solo", encoding="utf-8")
    from server.datasets import thumbnails

    app, svc, client = app_in(tmp)
    # The thumbnail job an import starts is not the import's work (bench it with `thumbs`): left out, so
    # neither its time nor its CPU lands in the import's figures.
    submit_thumbnails, thumbnails.submit_job = thumbnails.submit_job, lambda *a, **kw: None
    try:
        def via_app():
            ds = client.post("/api/datasets", json={"name": "imp"}, headers=H).get_json()["dataset"]
            r = client.post(f"/api/datasets/{ds['id']}/import", json={"source": "folder", "path": str(tmp / "source")},
                            headers=H)
            job = svc.jobs.wait(r.get_json()["job"]["id"], timeout=3600)
            assert job["result"]["imported"] == count, {k: v for k, v in job["result"].items() if "count" in k}
            return job["finished_at"] - job["started_at"]

        def bare():
            # A new folder each round, as the app makes a new dataset: both leave the same files behind,
            # so neither pays for removing the last round's (nor for a fuller disk) more than the other.
            out = tmp / f"bare-{time.monotonic_ns()}"
            out.mkdir()
            started = time.perf_counter()
            for src in sorted((tmp / "source").iterdir()):
                dst = out / src.name
                shutil.copy2(src, dst)
                if src.suffix == ".jpg":
                    with Image.open(dst) as img:
                        img.draft("RGB", (max(1, img.width // 8), max(1, img.height // 8)))
                        img.load()
            return time.perf_counter() - started

        def cpu() -> float:   # this process, all threads (the job's thread is the app's work), in seconds
            t = os.times()
            return t.user + t.system

        a, b, ca, cb = [], [], [], []
        for i in range(rounds):   # the order swapped every round, as for thumbs
            for fn, out, cpu_out in ((bare, b, cb), (via_app, a, ca))[::1 if i % 2 == 0 else -1]:
                c = cpu()
                out.append(fn())
                cpu_out.append(cpu() - c)
        for i, (x, y, cx, cy) in enumerate(zip(a, b, ca, cb)):
            print(f"  round {i + 1}: app {x:.2f} s ({cx:.2f} s CPU), baseline {y:.2f} s ({cy:.2f} s CPU)")
        line(f"import time (best of {rounds})", min(a), min(b), "s")
        line(f"import CPU, all threads (min of {rounds})", min(ca), min(cb), "s")
        for what, x, y in (("time", a, b), ("CPU", ca, cb)):
            pairs = sorted(p / q for p, q in zip(x, y))
            print(f"  each round's app/baseline {what}: {', '.join(f'{r:.2f}x' for r in pairs)}; median "
                  f"{statistics.median(pairs):.2f}x")
    finally:
        thumbnails.submit_job = submit_thumbnails
        svc.shutdown()


SECTIONS = {"grid": bench_grid, "caption": bench_caption, "progress": bench_progress, "thumbs": bench_thumbs, "wd14": bench_wd14, "import": bench_import}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sections", nargs="*", default=list(SECTIONS), choices=[[], *SECTIONS])
    ap.add_argument("--items", type=int, default=100_000, help="grid: rows in the dataset")
    ap.add_argument("--repeat", type=int, default=41)
    ap.add_argument("--thumbs", type=int, default=1200, help="thumbs: images (the job uses processes from 1000)")
    ap.add_argument("--rounds", type=int, default=3, help="thumbs, import: app and baseline runs each, alternated")
    ap.add_argument("--imports", type=int, default=1000, help="import: images")
    ap.add_argument("--wd14", type=int, default=48, help="wd14: images")
    ap.add_argument("--steps", type=int, default=60, help="progress: training steps")
    ap.add_argument("--step-ms", type=float, default=250, help="progress: time per step")
    ap.add_argument("--idle-s", type=float, default=20, help="progress: idle CPU measured over this long")
    args = ap.parse_args()
    for name in args.sections or list(SECTIONS):
        with tempfile.TemporaryDirectory(prefix=f"lw-bench-{name}-") as tmp:
            fn = SECTIONS[name]
            if name == "grid":
                fn(Path(tmp), args.items, args.repeat)
            elif name == "import":
                fn(Path(tmp), args.imports, args.rounds)
            elif name == "wd14":
                fn(Path(tmp), args.wd14)
            elif name == "thumbs":
                fn(Path(tmp), args.thumbs, args.rounds)
            elif name == "progress":
                fn(Path(tmp), args.steps, args.step_ms / 1000, args.idle_s)
            else:
                fn(Path(tmp), args.repeat)


if __name__ == "__main__":
    main()
