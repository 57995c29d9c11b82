"""Start-up recovery: whatever a crash (kill -9, power cut, Task Manager) left half done is finished.

Run once by `create_app`, before any request or job, in this order:
1. images an import was writing under their names when the crash came are removed when cut off
   (inflight.py: the import's journal says which, and how large each was to be);
2. crash debris is removed: temp files of atomic writes (`.~<name>.<random>.tmp`, captions and
   thumbnails), half-copied streamed imports (`.~import-<random>.<ext>`: a video or a very large image
   is not renamed to its real name until it is complete and decoded) and upload staging folders (an
   upload never survives a restart: its import job is gone). Only names the app itself makes are matched;
3. caption steps left pending (see history.py's journal) are finished: each journaled caption still
   at its old text gets the new one, so files, index and undo agree again. A caption someone else
   changed meanwhile is left alone and dropped from the step;
4. datasets whose import was running are rescanned, so every file that reached its final name is
   indexed (a re-import then recognises it by content and skips it rather than copying it again).
"""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from ..store import transaction
from ..errors import ApiError
from . import captions, inflight, items, storage
from .history import History

log = logging.getLogger(__name__)

# The random part of a temporary name: 8 characters of [a-z0-9_] (tempfile.mkstemp; fileio.temp_beside).
ATOMIC_TEMP = re.compile(r"\.~.+\.[a-z0-9_]{8}\.tmp")
IMPORT_TEMP = re.compile(r"\.~import-[a-z0-9_]{8}(\.[A-Za-z0-9]+)?")
UPLOAD_DIR = re.compile(r"[0-9a-f]{16}")


def run(svc) -> dict:
    """Everything above; each part logs and goes on when it fails, so a bad file never stops start-up."""
    out = {}
    for name, fn in (("partial", remove_cut_off), ("debris", clean_debris), ("steps", finish_pending_steps),
                     ("imports", reconcile_imports)):
        try:
            out[name] = fn(svc)
        except Exception:  # noqa: BLE001 - recovery must never keep the app from starting
            log.exception("start-up recovery (%s) failed", name)
    svc.store.release()
    return out


def _dataset_ids(svc) -> list[str]:
    return [r[0] for r in svc.store.db.execute("SELECT id FROM datasets WHERE trashed_at IS NULL")]


def _remove(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except OSError:  # held open by another program (Windows): try again next start
        return False


def _file_folders(svc):
    """The media and control folder of each dataset not in the trash: where imports and captions write."""
    for ds_id in _dataset_ids(svc):
        dirs = storage.dataset_dirs(svc.layout, ds_id)
        yield dirs.media
        yield dirs.control


def remove_cut_off(svc) -> int:
    return sum(inflight.finish(folder) for folder in _file_folders(svc))


def clean_debris(svc) -> int:
    removed = 0
    for folder in _file_folders(svc):
        try:
            names = [p for p in folder.iterdir() if p.name.startswith(".~") and p.is_file()]
        except OSError:
            continue
        for p in names:
            if ATOMIC_TEMP.fullmatch(p.name) or IMPORT_TEMP.fullmatch(p.name):
                removed += _remove(p)
    thumbs = svc.layout.cache / "thumbs"
    if thumbs.is_dir():
        for p in thumbs.rglob(".~*.tmp"):
            if p.is_file() and ATOMIC_TEMP.fullmatch(p.name):
                removed += _remove(p)
    uploads = svc.layout.cache / "uploads"
    if uploads.is_dir():
        for p in uploads.iterdir():
            if p.is_dir() and UPLOAD_DIR.fullmatch(p.name):
                shutil.rmtree(p, ignore_errors=True)
                removed += not p.exists()
    return removed


def finish_pending_steps(svc) -> int:
    h = History(svc.store)
    steps = h.pending_steps()
    for step in steps:
        dirs = storage.dataset_dirs(svc.layout, step["dataset_id"])
        failed = []
        for j in step["journal"]:
            if not (dirs.media / j["name"]).is_file():
                failed.append(j["name"])
                continue
            current = captions.read(dirs.media, j["name"])
            if current == j["dst"]:
                continue
            if current != j["src"]:
                failed.append(j["name"])  # changed by someone else since: theirs stays
                continue
            try:
                captions.write(dirs.media, j["name"], j["dst"])
            except OSError:
                failed.append(j["name"])
        h.close(step["id"], failed=failed)
        names = sorted({j["name"] for j in step["journal"]})
        if names and step["dataset_id"] in _dataset_ids(svc):
            # The file of each name not failed holds its dst now: the index takes that text, whatever the
            # file's stat says (the write may have kept the stat the index already had).
            holds = {j["name"]: j["dst"] for j in step["journal"] if j["name"] not in failed and j["dst"] is not None}
            items.refresh(svc, step["dataset_id"], names, publish=False, written=holds)
        log.warning("finished caption step %s (%s) left open by a crash: %d file(s), %d left alone",
                    step["id"], step["pending"], len(names), len(failed))
    return len(steps)


def reconcile_imports(svc) -> int:
    db = svc.store.db
    rows = db.execute("SELECT job_id, dataset_id FROM dataset_imports").fetchall()
    for _job_id, ds_id in {(None, r[1]) for r in rows}:
        try:
            found = items.rescan(svc, ds_id)
            log.warning("rescanned dataset %s after an interrupted import: %s", ds_id, found)
        except ApiError:
            pass  # deleted or trashed since
    with transaction(db):
        db.execute("DELETE FROM dataset_imports")
    return len(rows)


def import_started(svc, job_id: str, dataset_id: str) -> None:
    import time

    with transaction(svc.store.db):
        svc.store.db.execute("INSERT OR REPLACE INTO dataset_imports (job_id, dataset_id, started_at) VALUES (?, ?, ?)",
                             [job_id, dataset_id, time.time()])


def import_ended(svc, job_id: str) -> None:
    with transaction(svc.store.db):
        svc.store.db.execute("DELETE FROM dataset_imports WHERE job_id = ?", [job_id])
