"""Soak benchmark: a long session in a few minutes. Prints whether the server stays flat.

    .venv/bin/python bench/soak_bench.py [--requests 10000] [--ws 50] [--threads 20] [--images 200]

Starts the real app (`launcher.py --headless`) in its own process over a fresh data folder, imports a
small dataset, opens `--ws` websocket clients subscribed to the live topics, then sends `--requests`
mixed requests (health, lists, item pages, thumbnails, media, caption saves, jobs, settings, tasks) from
`--threads` HTTP clients. Every 1,000 requests it prints the server's open handles (file descriptors on
Linux/macOS, handles on Windows), threads, RSS and the latency of that slice; a leak shows as a column that
keeps growing. Only 127.0.0.1 is contacted; the loop is bounded by --requests.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from PIL import Image
from simple_websocket import ConnectionClosed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.live import wait_for  # noqa: E402
from tests.wsclient import Client  # noqa: E402
TOKEN = "soak-bench-token"
HEADERS = {"X-Workbench-Token": TOKEN, "Content-Type": "application/json"}


def call(port: int, method: str, path: str, body=None, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=HEADERS)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def call_json(port: int, method: str, path: str, body=None):
    status, raw = call(port, method, path, body)
    if status >= 400:
        raise RuntimeError(f"{method} {path} -> {status}: {raw[:300]!r}")
    return json.loads(raw)


def start_app(data_dir: Path) -> tuple[subprocess.Popen, int]:
    env = {**os.environ, "LORA_WORKBENCH_GPU_PROVIDER": "none", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "launcher.py"), "--headless", "--data-dir", str(data_dir), "--token", TOKEN],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    port = None
    for line in proc.stdout:  # the launcher prints the URL with the port once it serves
        if "http://127.0.0.1:" in line:
            port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
            break
    if port is None:
        raise SystemExit("the app did not start")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()  # keep the pipe drained
    return proc, port


def make_dataset(port: int, folder: Path, count: int) -> tuple[str, list[dict]]:
    folder.mkdir()
    for i in range(count):
        Image.new("RGB", (256, 192), (i * 7 % 256, i * 13 % 256, 90)).save(folder / f"img_{i:04d}.png")
        (folder / f"img_{i:04d}.txt").write_text(f"ohwx, tag{i % 20}, solo", encoding="utf-8")
    ds = call_json(port, "POST", "/api/datasets", {"name": "soak", "type": "image"})
    ds_id = ds.get("id") or ds["dataset"]["id"]
    job = call_json(port, "POST", f"/api/datasets/{ds_id}/import", {"source": "folder", "path": str(folder)})["job"]
    wait_for(lambda: call_json(port, "GET", f"/api/jobs/{job['id']}")["job"]["status"] in ("done", "failed"),
             300, "the import")
    items = call_json(port, "GET", f"/api/datasets/{ds_id}/items?limit=200")["items"]
    return ds_id, items


def websocket_clients(port: int, n: int, ds_id: str, stop: threading.Event) -> tuple[list, list[int]]:
    received = [0] * n

    def run(i: int):
        ws = Client.connect(f"ws://127.0.0.1:{port}/ws?token={TOKEN}")
        ws.send(json.dumps({"op": "subscribe", "topics": ["jobs", "system", "tasks", f"dataset:{ds_id}"]}))
        try:
            while not stop.is_set():
                if ws.receive(timeout=0.5) is not None:
                    received[i] += 1
        except ConnectionClosed:
            return  # the app quit first
        ws.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    return threads, received


def sample(proc: psutil.Process) -> dict:
    handles = proc.num_handles() if os.name == "nt" else proc.num_fds()
    return {"handles": handles, "threads": proc.num_threads(), "rss_mb": proc.memory_info().rss / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--ws", type=int, default=50)
    ap.add_argument("--threads", type=int, default=20)
    ap.add_argument("--images", type=int, default=200)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="lw-soak-") as tmp:
        tmp = Path(tmp)
        app, port = start_app(tmp / "data")
        server = psutil.Process(app.pid)
        stop = threading.Event()
        try:
            ds_id, items = make_dataset(port, tmp / "source", args.images)
            ws_threads, received = websocket_clients(port, args.ws, ds_id, stop)
            rng = random.Random(7)

            def one(i: int) -> tuple[float, int]:
                item = items[i % len(items)]
                kind = i % 10
                t = time.perf_counter()
                if kind == 0:
                    status, _ = call(port, "GET", "/api/health")
                elif kind == 1:
                    status, _ = call(port, "GET", "/api/datasets")
                elif kind == 2:
                    status, _ = call(port, "GET", f"/api/datasets/{ds_id}/items?offset={rng.randrange(0, len(items))}&limit=100")
                elif kind in (3, 4):
                    status, _ = call(port, "GET", item["thumb_url"])
                elif kind == 5:
                    status, _ = call(port, "GET", item["url"])
                elif kind == 6:
                    status, _ = call(port, "PUT", f"/api/datasets/{ds_id}/items/{item['id']}/caption",
                                     {"caption": f"ohwx, soak {i}"})
                elif kind == 7:
                    status, _ = call(port, "GET", "/api/jobs")
                elif kind == 8:
                    status, _ = call(port, "GET", "/api/settings")
                else:
                    status, _ = call(port, "GET", "/api/tasks")
                return time.perf_counter() - t, status

            # Let the websocket clients and the thumbnail job settle before the first reading.
            wait_for(lambda: all(r > 0 for r in received) or None, 60, "websocket clients to receive")
            base = sample(server)
            print(f"app pid {app.pid}, port {port}, {len(items)} items, {args.ws} websocket clients")
            print(f"{'requests':>9} {'handles':>8} {'threads':>8} {'rss MB':>8} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7}")
            print(f"{0:>9} {base['handles']:>8} {base['threads']:>8} {base['rss_mb']:>8.1f} {'':>8} {'':>8} {'':>7}")
            errors = 0
            counter = itertools.count()
            with ThreadPoolExecutor(args.threads) as pool:
                for start in range(0, args.requests, 1000):
                    n = min(1000, args.requests - start)
                    results = list(pool.map(one, [next(counter) for _ in range(n)]))
                    lat = sorted(r[0] * 1000 for r in results)
                    errors += sum(1 for r in results if r[1] >= 400)
                    s = sample(server)
                    print(f"{start + n:>9} {s['handles']:>8} {s['threads']:>8} {s['rss_mb']:>8.1f} "
                          f"{statistics.median(lat):>8.1f} {lat[int(len(lat) * 0.95)]:>8.1f} {errors:>7}",
                          flush=True)
            end = sample(server)
            print(f"after {args.requests} requests: handles {base['handles']} -> {end['handles']}, "
                  f"RSS {base['rss_mb']:.0f} -> {end['rss_mb']:.0f} MB, threads {base['threads']} -> "
                  f"{end['threads']}, errors {errors}, websocket messages {sum(received)}")
        finally:
            stop.set()
            for t in ws_threads if "ws_threads" in locals() else ():
                t.join(5)
            call(port, "POST", "/api/app/quit", {})
            try:
                app.wait(30)
            except subprocess.TimeoutExpired:
                app.kill()


if __name__ == "__main__":
    main()
