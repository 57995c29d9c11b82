"""The trash: nothing a user made is deleted outright.

- A deleted dataset's folder moves to <data>/trash/datasets/<id>/ and its row is marked
  `trashed_at`; restoring moves it back. Its index and history stay, so a restore is instant.
- Deleted items (media + caption + controls) move to <data>/trash/items/<dataset_id>/<batch>/<entry>/
  with one `dataset_trash_items` row each; restoring puts them back, under a new stem if the old
  one has been taken meanwhile (caption and controls follow).
- Emptying (really deleting) always needs an explicit `confirm=True`.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

from ..store import transaction
from .. import fileio
from . import items, naming, storage, thumbnails
from .errors import Conflict, NotFound, ValidationError
from .history import History
from .media_types import CAPTION_EXT, split_name


def _require_confirm(confirm) -> None:
    if confirm is not True:
        raise ValidationError("Emptying the trash deletes files for good; send confirm: true to go ahead.",
                              field="confirm", code="confirm_required")


def _move(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fileio.move(src, dest)


# ---- items ---------------------------------------------------------------------------------

def delete_items(svc, dataset_id: str, names: list[str]) -> dict:
    storage.row(svc, dataset_id)
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    batch = uuid.uuid4().hex[:12]
    rows = items.rows_by_names(svc, dataset_id, names)
    moved, now = [], time.time()
    db = svc.store.db
    with storage.dataset_lock(dirs):
        for name in names:
            row = rows.get(name)
            entry_dir = dirs.item_trash / batch / uuid.uuid4().hex[:8]
            files = []
            src = dirs.media / name
            if src.is_file():
                _move(src, entry_dir / "media" / name)
                files.append({"slot": "media", "name": name})
            cap = dirs.media / (split_name(name)[0] + CAPTION_EXT)
            if cap.is_file():
                _move(cap, entry_dir / "media" / cap.name)
                files.append({"slot": "media", "name": cap.name})
            for c in json.loads(row["controls"] or "[]") if row else []:
                if (dirs.control / c).is_file():
                    _move(dirs.control / c, entry_dir / "control" / c)
                    files.append({"slot": "control", "name": c})
                    thumbnails.forget(dirs, "control", c)
            thumbnails.forget(dirs, "media", name)
            if files:
                with transaction(db):
                    db.execute("INSERT INTO dataset_trash_items (dataset_id, batch, name, trash_dir, files, deleted_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               [dataset_id, batch, name, str(entry_dir.relative_to(svc.layout.trash)),
                                json.dumps(files, ensure_ascii=False), now])
                moved.append(name)
    items.refresh(svc, dataset_id, names)
    storage.touch(svc, dataset_id)
    return {"batch": batch, "deleted": len(moved), "names": moved}


def delete_control(svc, dataset_id: str, item_row: dict, control: str) -> dict:
    """One control image to the trash (the item stays)."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    if control not in json.loads(item_row["controls"] or "[]") or not (dirs.control / control).is_file():
        raise NotFound(f"{control!r} is not a control image of this item.", code="control_not_found")
    batch, entry_dir = uuid.uuid4().hex[:12], None
    with storage.dataset_lock(dirs):
        entry_dir = dirs.item_trash / batch / uuid.uuid4().hex[:8]
        _move(dirs.control / control, entry_dir / "control" / control)
        thumbnails.forget(dirs, "control", control)
        db = svc.store.db
        with transaction(db):
            db.execute("INSERT INTO dataset_trash_items (dataset_id, batch, name, trash_dir, files, deleted_at) "
                       "VALUES (?, ?, ?, ?, ?, ?)",
                       [dataset_id, batch, item_row["name"], str(entry_dir.relative_to(svc.layout.trash)),
                        json.dumps([{"slot": "control", "name": control}]), time.time()])
    items.refresh(svc, dataset_id, [item_row["name"]])
    return {"batch": batch}


def list_items(svc, dataset_id: str) -> list[dict]:
    storage.row(svc, dataset_id)
    cur = svc.store.db.execute("SELECT id, batch, name, files, deleted_at FROM dataset_trash_items "
                               "WHERE dataset_id = ? ORDER BY deleted_at DESC, id DESC", [dataset_id])
    return [{"id": i, "batch": b, "name": n, "files": json.loads(f), "deleted_at": d} for i, b, n, f, d in cur]


def _entries(svc, dataset_id: str, ids=None, batch=None) -> list[tuple]:
    db = svc.store.db
    if ids is not None:
        if not isinstance(ids, list) or not all(items.is_row_id(i) for i in ids):
            raise ValidationError("ids must be a list of trash entry ids.", field="ids", code="bad_target")
        rows = [db.execute("SELECT id, name, trash_dir, files FROM dataset_trash_items WHERE dataset_id = ? AND id = ?",
                           [dataset_id, i]).fetchone() for i in ids]
        if any(r is None for r in rows):
            raise NotFound("Some of these entries are no longer in the trash.", code="trash_entry_not_found")
        return rows
    if batch is not None:
        rows = db.execute("SELECT id, name, trash_dir, files FROM dataset_trash_items WHERE dataset_id = ? AND batch = ?",
                          [dataset_id, str(batch)]).fetchall()
        if not rows:
            raise NotFound("That deletion is no longer in the trash.", code="trash_entry_not_found")
        return rows
    raise ValidationError("Say what to restore: ids or batch.", field="ids", code="bad_target")


def restore_items(svc, dataset_id: str, *, ids=None, batch=None) -> dict:
    storage.row(svc, dataset_id)
    dirs = storage.dataset_dirs(svc.layout, dataset_id).ensure()
    restored, names = [], []
    db = svc.store.db
    with storage.dataset_lock(dirs), naming.Claimer(dirs.media, by_stem=True) as media_names, \
            naming.Claimer(dirs.control, by_stem=False) as control_names:
        for entry_id, name, trash_dir, files_json in _entries(svc, dataset_id, ids, batch):
            entry_dir = svc.layout.trash / trash_dir
            files = json.loads(files_json)
            has_media = any(f["slot"] == "media" and f["name"] == name for f in files)
            old_stem = split_name(name)[0]
            new_stem = split_name(media_names.claim(old_stem, split_name(name)[1]))[0] if has_media else old_stem
            for f in files:
                fstem, fext = split_name(f["name"])
                src = entry_dir / f["slot"] / f["name"]
                if not src.exists():
                    continue
                if f["slot"] == "media":
                    dest = dirs.media / (new_stem + fext)
                else:
                    # Controls keep their suffix (`a_1.png`) but follow the target's new stem.
                    stem = new_stem + fstem[len(old_stem):] if fstem.startswith(old_stem) else fstem
                    dest = dirs.control / control_names.claim(stem, fext)
                _move(src, dest)
            shutil.rmtree(entry_dir, ignore_errors=True)
            _remove_empty(entry_dir.parent)
            with transaction(db):
                db.execute("DELETE FROM dataset_trash_items WHERE id = ?", [entry_id])
            target = new_stem + split_name(name)[1]
            restored.append({"name": name, "restored_as": target})
            names.append(target)
    items.refresh(svc, dataset_id, names)
    storage.touch(svc, dataset_id)
    thumbnails.submit_job(svc, dataset_id, quiet_if_busy=True)
    return {"restored": restored}


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def empty_items(svc, dataset_id: str, confirm) -> dict:
    _require_confirm(confirm)
    storage.row(svc, dataset_id, allow_trashed=True)
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    db = svc.store.db
    count = db.execute("SELECT COUNT(*) FROM dataset_trash_items WHERE dataset_id = ?", [dataset_id]).fetchone()[0]
    shutil.rmtree(dirs.item_trash, ignore_errors=True)
    with transaction(db):
        db.execute("DELETE FROM dataset_trash_items WHERE dataset_id = ?", [dataset_id])
    return {"deleted": count}


# ---- datasets ------------------------------------------------------------------------------

def trash_dataset(svc, dataset_id: str) -> dict:
    storage.row(svc, dataset_id)
    active = svc.jobs.list(owner=storage.topic(dataset_id), active_only=True)
    # Thumbnails are derived data: stop them rather than make the user wait. Anything else
    # (an import, a tagging run) writes into the folder and must be stopped by the user first.
    for job in [j for j in active if j["kind"] == "thumbnails"]:
        svc.jobs.cancel(job["id"])
        try:
            svc.jobs.wait(job["id"], timeout=10)
        except TimeoutError:
            pass
    active = svc.jobs.list(owner=storage.topic(dataset_id), active_only=True)
    if active:
        raise Conflict("This dataset has running jobs (import, thumbnails, tagging); stop them first.",
                       code="dataset_busy", details={"job_ids": [j["id"] for j in active]})
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    dest = svc.layout.trash / "datasets" / dataset_id
    if dest.exists():
        dest = dest.with_name(f"{dataset_id}_{int(time.time())}")
    with storage.dataset_lock(dirs):
        if dirs.root.exists():
            _move(dirs.root, dest)
        svc.store.db["datasets"].update(dataset_id, {"trashed_at": time.time(),
                                                     "trash_path": str(dest.relative_to(svc.layout.trash))})
    ds = storage.get(svc, dataset_id, allow_trashed=True)
    svc.bus.publish("datasets", "dataset_trashed", ds)
    svc.bus.publish(storage.topic(dataset_id), "dataset_trashed", ds)
    return ds


def restore_dataset(svc, dataset_id: str) -> dict:
    data = storage.row(svc, dataset_id, allow_trashed=True)
    if not data["trashed_at"]:
        raise Conflict("This dataset is not in the trash.", code="not_in_trash")
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    if dirs.root.exists() and any(dirs.root.iterdir()):
        raise Conflict("A folder for this dataset exists again; move it away first.", code="restore_blocked",
                       details={"path": str(dirs.root)})
    src = svc.layout.trash / (data["trash_path"] or "")
    with storage.dataset_lock(dirs):
        if data["trash_path"] and src.exists():
            if dirs.root.exists():
                dirs.root.rmdir()
            _move(src, dirs.root)
        dirs.ensure()
        svc.store.db["datasets"].update(dataset_id, {"trashed_at": None, "trash_path": None,
                                                     "updated_at": time.time()})
    items.rescan(svc, dataset_id)
    ds = storage.get(svc, dataset_id)
    svc.bus.publish("datasets", "dataset_restored", ds)
    return ds


def purge_dataset(svc, dataset_id: str, confirm) -> dict:
    """Delete one trashed dataset for good: files, index, history, thumbnails."""
    _require_confirm(confirm)
    data = storage.row(svc, dataset_id, allow_trashed=True)
    if not data["trashed_at"]:
        raise Conflict("Only a dataset in the trash can be deleted for good.", code="not_in_trash")
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    if data["trash_path"]:
        shutil.rmtree(svc.layout.trash / data["trash_path"], ignore_errors=True)
    shutil.rmtree(dirs.thumbs, ignore_errors=True)
    empty_items(svc, dataset_id, True)
    History(svc.store).forget_dataset(dataset_id)
    db = svc.store.db
    with transaction(db):
        db.execute("DELETE FROM dataset_items WHERE dataset_id = ?", [dataset_id])
        db.execute("DELETE FROM datasets WHERE id = ?", [dataset_id])
    svc.bus.publish("datasets", "dataset_purged", {"id": dataset_id})
    return {"id": dataset_id}


def empty_all(svc, confirm) -> dict:
    """The global "empty trash": every trashed dataset and every trashed item."""
    _require_confirm(confirm)
    db = svc.store.db
    purged = [r[0] for r in db.execute("SELECT id FROM datasets WHERE trashed_at IS NOT NULL")]
    for ds_id in purged:
        purge_dataset(svc, ds_id, True)
    items_deleted = 0
    for (ds_id,) in db.execute("SELECT DISTINCT dataset_id FROM dataset_trash_items").fetchall():
        items_deleted += empty_items(svc, ds_id, True)["deleted"]
    return {"datasets": len(purged), "items": items_deleted}


def summary(svc) -> dict:
    db = svc.store.db
    return {
        "datasets": storage.list_datasets(svc, trashed=True),
        "item_counts": dict(db.execute("SELECT dataset_id, COUNT(*) FROM dataset_trash_items GROUP BY dataset_id")
                            .fetchall()),
    }


__all__ = ["delete_items", "delete_control", "list_items", "restore_items", "empty_items", "trash_dataset",
           "restore_dataset", "purge_dataset", "empty_all", "summary"]
