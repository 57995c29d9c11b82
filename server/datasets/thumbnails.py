"""Thumbnails: small JPEGs under <data>/cache/thumbs/<dataset_id>/<slot>/<name>.jpg.

Made with Pillow: JPEG draft mode (the decoder scales by 1/2..1/8 while decoding, far cheaper
than a full decode), EXIF orientation applied so portrait photos stand up, transparency flattened
on grey. Videos use their first frame. A thumbnail is fresh when its mtime equals its source's
(set with os.utime after writing), so a file replaced by another tool gets a new one.

`submit_job()` generates all missing ones in the background; the media route makes a single one
on demand, so a card never waits for the whole job. An unreadable source marks the item
`broken` in the index instead of failing anything.

The job decodes in a process pool when there is much to make: Pillow's resize and JPEG encoding hold
the GIL for part of their time, so threads reached ~0.85x of what processes do on the machine issue 19
was measured on (on par at 1,200 thumbnails on the 2-core build box: see POOL_MIN). Workers are
started with `spawn` on every platform (what Windows has anyway; forking a process that holds sqlite
connections and locks is unsafe) and live for one job; a worker runs thumbmaker.make on plain paths and
imports only Pillow and that module, not the app. Only jobs with POOL_MIN or more thumbnails to make use
them (smaller ones use threads). In the frozen exe the launcher calls multiprocessing.freeze_support().
A cancel stops handing out work and drops what was queued.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from . import items, probe, storage
from .errors import Conflict
from .thumbmaker import SIZE, is_fresh, make, render, save

log = logging.getLogger(__name__)

WORKERS = max(1, min(4, (os.cpu_count() or 2)))
# Thumbnails to make before a process pool pays off over threads. Re-measured with workers that import only
# Pillow and thumbmaker, 2 cores at load 2-3, pool / threads throughput: 0.68-0.83x at 100, 0.79-0.89x at 300,
# 0.89-1.08x at 1,200 (Pillow releases the GIL for most of a thumbnail, and workers take time to start).
POOL_MIN = 1000
CHUNK = 64          # work handed out between cancel checks and progress reports
MAX_PASSES = 5
MAX_REPORTED = 1000


def thumb_path(dirs: storage.DatasetDirs, slot: str, name: str) -> Path:
    dirs.slot(slot)  # validates slot
    return dirs.thumbs / slot / (name + ".jpg")


def ensure(dirs: storage.DatasetDirs, slot: str, name: str) -> Path:
    """The path of a fresh thumbnail for `name`, made now if needed. Raises FileNotFoundError or MediaError."""
    src = dirs.slot(slot) / name
    st = src.stat()
    dest = thumb_path(dirs, slot, name)
    if not is_fresh(dest, st):
        save(render(src), dest, st)
    return dest


def ensure_for_item(svc, dataset_id: str, slot: str, name: str) -> Path:
    """`ensure()` that records an unreadable media file as broken in the index."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    try:
        return ensure(dirs, slot, name)
    except probe.MediaError as exc:
        if slot == "media":
            items.mark_broken(svc, dataset_id, name, str(exc))
        raise


def _work_list(svc, dataset_id: str) -> list[tuple[str, str]]:
    db = svc.store.db
    out = []
    for name, controls in db.execute("SELECT name, controls FROM dataset_items WHERE dataset_id = ? "
                                     "AND broken = 0 ORDER BY name", [dataset_id]):
        out.append(("media", name))
        out.extend(("control", c) for c in json.loads(controls or "[]"))
    return out


def _stale(dirs: storage.DatasetDirs, work: list[tuple[str, str]]) -> int:
    """How many of these need making (a stat each): decides whether a process pool is worth starting."""
    n = 0
    for slot, name in work:
        try:
            if not is_fresh(thumb_path(dirs, slot, name), (dirs.slot(slot) / name).stat()):
                n += 1
        except FileNotFoundError:
            pass
    return n


def _executor(to_make: int) -> Executor:
    if to_make >= POOL_MIN and WORKERS > 1:
        try:
            return ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn"))
        except (OSError, ValueError, NotImplementedError) as exc:   # no process support here: threads still work
            log.warning("thumbnails: no process pool (%s), using threads", exc)
    return ThreadPoolExecutor(WORKERS, thread_name_prefix="thumb")


def _submit(pool: Executor, dirs: storage.DatasetDirs, chunk: list[tuple[str, str]]):
    """Queue a chunk as plain path strings: a worker needs only thumbmaker, not the dataset's objects."""
    srcs = [str(dirs.slot(slot) / name) for slot, name in chunk]
    dests = [str(thumb_path(dirs, slot, name)) for slot, name in chunk]
    return pool.map(make, srcs, dests, chunksize=8)


def generate_all(svc, dataset_id: str, ctx) -> dict:
    """The job body: make every missing or stale thumbnail, reporting progress and broken files.

    Items added while it runs (an import finishing meanwhile could not start a second job) are
    picked up by looking at the index again once the first list is done.
    """
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    t = storage.topic(dataset_id)
    counts = {"made": 0, "fresh": 0, "gone": 0}
    broken: list[dict] = []
    seen: set[tuple[str, str]] = set()
    done = 0
    ctx.progress(0, 0, force=True, message_code="thumbnails")
    work = _work_list(svc, dataset_id)
    pool = _executor(_stale(dirs, work))
    try:
        for _ in range(MAX_PASSES):
            work = [w for w in work if w not in seen]
            if not work:
                break
            seen.update(work)
            total = len(seen)
            # One chunk queued ahead keeps every worker busy while the previous chunk's results are
            # recorded; chunks keep cancel responsive without paying a check per file.
            chunks = [work[i:i + CHUNK] for i in range(0, len(work), CHUNK)]
            ahead = _submit(pool, dirs, chunks[0]) if chunks else None
            for index, chunk in enumerate(chunks):
                ctx.check()
                results = ahead
                ahead = _submit(pool, dirs, chunks[index + 1]) if index + 1 < len(chunks) else None
                for (slot, name), (status, error) in zip(chunk, results):
                    done += 1
                    if status != "broken":
                        counts[status] += 1
                        continue
                    broken.append({"slot": slot, "name": name, "error": error})
                    if slot == "media":
                        items.mark_broken(svc, dataset_id, name, error)
                        svc.bus.publish(t, "item_broken", {"name": name, "error": error})
                ctx.progress(done, total, message_code="thumbnails")
                svc.bus.publish(t, "thumbnails", {"done": done, "total": total})
            work = _work_list(svc, dataset_id)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return {"total": done, **counts, "broken": broken[:MAX_REPORTED], "broken_count": len(broken)}


def submit_job(svc, dataset_id: str, *, quiet_if_busy: bool = False) -> dict | None:
    storage.row(svc, dataset_id)
    try:
        return svc.jobs.submit("thumbnails", "Generating thumbnails", lambda ctx: generate_all(svc, dataset_id, ctx),
                               params={"dataset_id": dataset_id}, owner=storage.topic(dataset_id), exclusive=True)
    except Conflict:
        if quiet_if_busy:
            return None
        raise


def forget(dirs: storage.DatasetDirs, slot: str, name: str) -> None:
    try:
        thumb_path(dirs, slot, name).unlink()
    except FileNotFoundError:
        pass
