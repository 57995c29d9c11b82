"""The thumbnail job in a process pool (issue 19): the same thumbnails and broken marks as in-process,
workers started with spawn (as on Windows and in the frozen exe), none left behind after a cancel."""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor

import psutil
from ds_helpers import make_image
from PIL import Image

from server.datasets import storage, thumbnails


def _spy_executor(monkeypatch) -> list:
    made = []
    real = thumbnails._executor

    def spy(to_make):
        pool = real(to_make)
        made.append(pool)
        return pool
    monkeypatch.setattr(thumbnails, "POOL_MIN", 1)
    monkeypatch.setattr(thumbnails, "WORKERS", 2)
    monkeypatch.setattr(thumbnails, "_executor", spy)
    return made


def test_pool_makes_every_thumbnail_and_marks_broken(ds, api, svc, monkeypatch):
    made = _spy_executor(monkeypatch)
    for i in range(6):
        make_image(ds.media / f"p{i}.jpg", size=(900, 600), color=(i * 40, 10, 10), fmt="JPEG")
    make_image(ds.media / "bad.png", size=(300, 200))
    assert api.post(f"{ds.base}/rescan").status_code == 200
    ds.wait_jobs()
    # Broken after indexing, same size and mtime: only decoding it (in a worker) finds out.
    bad = ds.media / "bad.png"
    data, st = bad.read_bytes(), bad.stat()
    bad.write_bytes(data[:60] + b"\0" * (len(data) - 60))
    os.utime(bad, ns=(st.st_atime_ns, st.st_mtime_ns))
    shutil.rmtree(svc.layout.cache / "thumbs" / ds.id, ignore_errors=True)
    job = thumbnails.submit_job(svc, ds.id)
    job = svc.jobs.wait(job["id"], timeout=120)
    assert job["status"] == "done", job
    assert any(isinstance(p, ProcessPoolExecutor) for p in made)
    assert job["result"]["broken_count"] == 1 and job["result"]["broken"][0]["name"] == "bad.png"
    dirs = storage.dataset_dirs(svc.layout, ds.id)
    for i in range(6):
        thumb = thumbnails.thumb_path(dirs, "media", f"p{i}.jpg")
        with Image.open(thumb) as img:
            assert max(img.size) == thumbnails.SIZE and img.format == "JPEG"
        # fresh: it carries its source's mtime, so the next job makes nothing
        assert thumbnails.is_fresh(thumb, (ds.media / f"p{i}.jpg").stat())
    assert ds.item("bad.png")["broken"] is True
    again = svc.jobs.wait(thumbnails.submit_job(svc, ds.id)["id"], timeout=120)
    assert again["result"]["made"] == 0 and again["result"]["fresh"] == 6


def test_cancel_stops_the_pool_and_leaves_no_worker(ds, api, svc, monkeypatch):
    made = _spy_executor(monkeypatch)
    monkeypatch.setattr(thumbnails, "CHUNK", 4)
    for i in range(120):
        make_image(ds.media / f"c{i:03d}.jpg", size=(1400, 1000), color=(i, 20, 20), fmt="JPEG")
    assert api.post(f"{ds.base}/rescan").status_code == 200
    ds.wait_jobs()
    job = thumbnails.submit_job(svc, ds.id)
    deadline = time.monotonic() + 120
    while svc.jobs.get(job["id"])["done"] < 4:   # cancel once the pool is at work
        assert time.monotonic() < deadline, "the job made no progress"
        time.sleep(0.02)
    svc.jobs.cancel(job["id"])
    job = svc.jobs.wait(job["id"], timeout=120)
    assert job["status"] == "cancelled"
    assert len([p for p in thumbnails.thumb_path(storage.dataset_dirs(svc.layout, ds.id), "media", "x").parent
                .iterdir()]) < 120
    pool = [p for p in made if isinstance(p, ProcessPoolExecutor)][0]
    workers = [psutil.Process(pid) for pid in (pool._processes or {})]
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
