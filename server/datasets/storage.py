"""Datasets as rows and folders: create, read, rename, change type, list with counts and cover.

`dataset_dirs(layout, dataset_id)` is the one place that knows where a dataset's files are:

    <data>/datasets/<id>/media/     images or videos + same-stem .txt captions (what musubi reads)
    <data>/datasets/<id>/control/   control images of image_control datasets
    <data>/cache/thumbs/<id>/       thumbnails (derived, never inside the dataset folder)
    <data>/trash/items/<id>/        deleted items, restorable

The folder is named by id, not by the user's name, so renaming never moves files.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..paths import DataLayout
from ..store import transaction
from .errors import DatasetNotFound, DatasetTrashed, ValidationError
from .media_types import DATASET_TYPES, TYPE_KINDS

ID_RE = re.compile(r"ds_[0-9a-f]{8}")  # used with fullmatch: `$` would also accept a trailing newline
DEFAULT_NAME = "New dataset"
MAX_NAME_LEN = 120
MAX_TRIGGER_LEN = 100


@dataclass(frozen=True)
class DatasetDirs:
    root: Path
    media: Path
    control: Path
    thumbs: Path
    item_trash: Path

    def slot(self, slot: str) -> Path:
        if slot == "media":
            return self.media
        if slot == "control":
            return self.control
        raise ValidationError(f"Unknown slot {slot!r}; use 'media' or 'control'.", field="slot", code="bad_slot")

    def ensure(self) -> "DatasetDirs":
        self.media.mkdir(parents=True, exist_ok=True)
        self.control.mkdir(parents=True, exist_ok=True)
        return self


def dataset_dirs(layout: DataLayout, dataset_id: str) -> DatasetDirs:
    # The id is checked before it touches a path: it comes from URLs.
    if not ID_RE.fullmatch(str(dataset_id)):
        raise DatasetNotFound(str(dataset_id))
    return _dirs(layout, dataset_id)


@functools.lru_cache(maxsize=1024)
def _dirs(layout: DataLayout, dataset_id: str) -> DatasetDirs:
    """Cached (by the frozen layout and the id): one caption save asks for a dataset's folders ~7 times, and
    each answer is ~11 Path joins, a quarter of the save's CPU. DatasetDirs is frozen, so sharing it is safe."""
    root = layout.datasets / dataset_id
    return DatasetDirs(
        root=root,
        media=root / "media",
        control=root / "control",
        thumbs=layout.cache / "thumbs" / dataset_id,
        item_trash=layout.trash / "items" / dataset_id,
    )


def topic(dataset_id: str) -> str:
    return f"dataset:{dataset_id}"


# One lock per dataset folder serialises the short critical sections that change files and the
# index together (claiming a name, a batch caption op, a rescan). Keyed by path so several apps
# in one process (tests) never share a lock by accident.
_locks: dict[str, threading.RLock] = {}
_locks_guard = threading.Lock()


def dataset_lock(dirs: DatasetDirs) -> threading.RLock:
    key = str(dirs.root)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.RLock()
        return lock


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("A dataset needs a name.", field="name", code="name_required")
    name = name.strip()
    if len(name) > MAX_NAME_LEN:
        raise ValidationError(f"The name is longer than {MAX_NAME_LEN} characters.", field="name",
                              code="name_too_long")
    return name


def check_trigger_word(word) -> str:
    """The dataset's trigger word: trimmed, one line, no commas (it is one tag), at most 100 characters."""
    if word is None:
        return ""
    if not isinstance(word, str):
        raise ValidationError("The trigger word must be text.", field="trigger_word", code="bad_trigger_word")
    word = word.strip()
    if "," in word or "，" in word or "\n" in word or "\r" in word:
        raise ValidationError("The trigger word is one tag: no commas or line breaks.", field="trigger_word",
                              code="bad_trigger_word")
    if len(word) > MAX_TRIGGER_LEN:
        raise ValidationError(f"The trigger word is longer than {MAX_TRIGGER_LEN} characters.",
                              field="trigger_word", code="trigger_word_too_long")
    return word


def _check_type(type_) -> str:
    if type_ not in DATASET_TYPES:
        raise ValidationError(f"The type must be one of {', '.join(DATASET_TYPES)}.", field="type",
                              code="bad_type")
    return type_


def _free_default_name(db) -> str:
    taken = {r[0] for r in db.execute("SELECT name FROM datasets WHERE trashed_at IS NULL")}
    if DEFAULT_NAME not in taken:
        return DEFAULT_NAME
    n = 2
    while f"{DEFAULT_NAME} {n}" in taken:
        n += 1
    return f"{DEFAULT_NAME} {n}"


def create(svc, name: str | None = None, type_: str = "image", trigger_word: str | None = None) -> dict:
    db = svc.store.db
    name = _check_name(name) if name is not None else _free_default_name(db)
    type_ = _check_type(type_)
    trigger_word = check_trigger_word(trigger_word)
    dataset_id = "ds_" + uuid.uuid4().hex[:8]
    dataset_dirs(svc.layout, dataset_id).ensure()
    now = time.time()
    db["datasets"].insert({"id": dataset_id, "name": name, "type": type_, "created_at": now,
                           "updated_at": now, "trashed_at": None, "trash_path": None,
                           "trigger_word": trigger_word or None})
    ds = get(svc, dataset_id)
    svc.bus.publish("datasets", "dataset_created", ds)
    return ds


def row(svc, dataset_id: str, *, allow_trashed: bool = False) -> dict:
    dataset_dirs(svc.layout, dataset_id)  # validates the id's shape
    cur = svc.store.db.execute("SELECT * FROM datasets WHERE id = ?", [dataset_id])
    found = cur.fetchone()
    if found is None:
        raise DatasetNotFound(dataset_id)
    data = dict(zip([d[0] for d in cur.description], found))
    if data["trashed_at"] and not allow_trashed:
        raise DatasetTrashed(dataset_id)
    return data


def find(store, dataset_id: str) -> dict | None:
    """{id, name, type, trashed_at, trigger_word} or None: the row other features (training, tagging) read,
    with only the store in hand and without the checks and errors of row()."""
    if "datasets" not in store.db.table_names():
        return None
    cur = store.db.execute("SELECT * FROM datasets WHERE id = ?", [dataset_id])
    found = cur.fetchone()
    if found is None:
        return None
    data = dict(zip([d[0] for d in cur.description], found))
    return {key: data.get(key) for key in ("id", "name", "type", "trashed_at", "trigger_word")}


def trigger_word(store, dataset_id: str) -> str | None:
    """The dataset's trigger word, stripped, or None when it has none (or does not exist)."""
    found = find(store, dataset_id)
    return (found and (found["trigger_word"] or "").strip()) or None


def _stats(db, ids: list[str]) -> dict[str, dict]:
    """Counts and cover per dataset. The counts are kept up to date by triggers on dataset_items
    (migration 006), so a page of the grid never re-aggregates 100,000 rows."""
    if not ids:
        return {}
    out = {i: {"item_count": 0, "captioned_count": 0, "broken_count": 0, "missing_control_count": 0,
               "cover": None} for i in ids}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for ds_id, total, captioned, broken, no_control in db.execute(
            "SELECT dataset_id, item_count, captioned_count, broken_count, missing_control_count "
            f"FROM dataset_stats WHERE dataset_id IN ({','.join('?' * len(chunk))})", chunk,
        ):
            out[ds_id].update(item_count=total, captioned_count=captioned, broken_count=broken,
                              missing_control_count=no_control)
    # The cover is the first usable item by name: stable, and cheap with the (dataset_id, name) index.
    for ds_id in ids:
        if not out[ds_id]["item_count"]:
            continue
        first = db.execute(
            "SELECT name, mtime_ns FROM dataset_items WHERE dataset_id = ? AND broken = 0 ORDER BY name LIMIT 1",
            [ds_id],
        ).fetchone()
        if first:
            out[ds_id]["cover"] = {"name": first[0], "thumb_url": media_url(ds_id, "thumb", first[0], first[1])}
    return out


# Characters urllib's quote() leaves alone: a name made only of these needs no quoting,
# which is most names, and skips quote()'s per-character work on every row of every page.
_URL_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*")


def quote_name(name: str) -> str:
    return name if _URL_SAFE.fullmatch(name) else quote(name)


def media_url(dataset_id: str, what: str, name: str, version: int | None = None, slot: str = "media",
              *, quoted: str | None = None) -> str:
    """URLs the UI puts in <img>/<video>; the version busts the browser cache when the file changes.
    `quoted` is quote_name(name) when the caller has it already (a row builds two URLs from one name)."""
    q = quote_name(name) if quoted is None else quoted
    path = f"/media/datasets/{dataset_id}/thumb/{slot}/{q}" if what == "thumb" else f"/media/datasets/{dataset_id}/{slot}/{q}"
    return path + version_suffix(version)


def version_suffix(version: int | None) -> str:
    """The query that busts the browser cache when a file changes (its mtime_ns); none without one."""
    return f"?v={version}" if version else ""


def _public(data: dict, stats: dict) -> dict:
    out = {k: data[k] for k in ("id", "name", "type", "created_at", "updated_at", "trashed_at")}
    out["trigger_word"] = data.get("trigger_word") or ""
    out.update(stats)
    if data["type"] != "image_control":
        out["missing_control_count"] = 0
    return out


def get(svc, dataset_id: str, *, allow_trashed: bool = False) -> dict:
    data = row(svc, dataset_id, allow_trashed=allow_trashed)
    return _public(data, _stats(svc.store.db, [dataset_id])[dataset_id])


def list_datasets(svc, *, trashed: bool = False) -> list[dict]:
    db = svc.store.db
    cond = "trashed_at IS NOT NULL" if trashed else "trashed_at IS NULL"
    cur = db.execute(f"SELECT * FROM datasets WHERE {cond} ORDER BY created_at DESC")
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    stats = _stats(db, [r["id"] for r in rows])
    return [_public(r, stats[r["id"]]) for r in rows]


def type_change_effects(svc, dataset_id: str, new_type: str) -> dict:
    """What changing the type does to a non-empty dataset, so the UI can explain before it happens."""
    data = row(svc, dataset_id)
    new_type = _check_type(new_type)
    db = svc.store.db
    kinds = dict(db.execute("SELECT kind, COUNT(*) FROM dataset_items WHERE dataset_id = ? GROUP BY kind",
                            [dataset_id]).fetchall())
    unusable = sum(n for k, n in kinds.items() if k not in TYPE_KINDS[new_type])
    notes = []
    if unusable:
        notes.append({"code": "unusable_items", "count": unusable,
                      "message": f"{unusable} item(s) are not {'videos' if new_type == 'video' else 'images'}"
                                 " and will be ignored for training (they stay in the folder)."})
    controls = sum(1 for _ in dataset_dirs(svc.layout, dataset_id).control.glob("*")) \
        if dataset_dirs(svc.layout, dataset_id).control.exists() else 0
    if data["type"] == "image_control" and new_type != "image_control" and controls:
        notes.append({"code": "controls_unused", "count": controls,
                      "message": f"{controls} control image(s) are kept but not used."})
    if new_type == "image_control" and data["type"] != "image_control":
        missing = db.execute("SELECT COUNT(*) FROM dataset_items WHERE dataset_id = ? AND controls = '[]'",
                             [dataset_id]).fetchone()[0]
        if missing:
            notes.append({"code": "controls_missing", "count": missing,
                          "message": f"{missing} item(s) have no control image yet and will be flagged."})
    return {"from": data["type"], "to": new_type, "item_count": sum(kinds.values()), "notes": notes}


def update(svc, dataset_id: str, *, name: str | None = None, type_: str | None = None,
           trigger_word: str | None = None) -> dict:
    row(svc, dataset_id)
    changes = {}
    if name is not None:
        changes["name"] = _check_name(name)
    if type_ is not None:
        changes["type"] = _check_type(type_)
    if trigger_word is not None:
        changes["trigger_word"] = check_trigger_word(trigger_word) or None
    if changes:
        changes["updated_at"] = time.time()
        svc.store.db["datasets"].update(dataset_id, changes)
    ds = get(svc, dataset_id)
    svc.bus.publish(topic(dataset_id), "dataset_updated", ds)
    svc.bus.publish("datasets", "dataset_updated", ds)
    return ds


def touch(svc, dataset_id: str) -> None:
    db = svc.store.db
    with transaction(db):   # or part of the caller's transaction
        db.execute("UPDATE datasets SET updated_at = ? WHERE id = ?", [time.time(), dataset_id])
