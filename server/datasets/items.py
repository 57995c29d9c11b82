"""The item index: one sqlite row per media file, a cache of the dataset folder.

The folder is the truth (musubi-tuner and other tools read and write it); the index exists so
10,000 items can be paged, searched and sorted without touching the disk. `rescan()` brings it
back in line with the folder, comparing size + mtime of each media file and its caption, so
files changed by other tools are picked up; `refresh()` re-reads only the names it is given
(after an import or a caption write).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from ..store import transaction
from . import captions, probe, storage
from .errors import ItemMissing, ItemNotFound
from .media_types import CAPTION_EXT, TYPE_KINDS, kind_of, split_name
from .tags import split_tags

# Events carry at most this many names; past it the UI just reloads its page.
EVENT_NAMES_MAX = 500
_CONTROL_INDEX = re.compile(r"^(.*)_(\d+)$")


def tags_key(caption: str | None) -> str:
    """',tag a,tag b,' (lower-case): exact-tag search becomes a LIKE '%,tag,%' on one column."""
    tags = split_tags(caption or "")
    return ("," + ",".join(t.lower() for t in tags) + ",") if tags else ""


def _own_file(folder: Path, entry: os.DirEntry) -> bool:
    """A regular file of `folder`. A symbolic link counts only if it stays inside the folder: a link
    to an outside file would otherwise be captioned by a remote API or trained on without the user
    ever having put it in the dataset (media serving refuses such links too)."""
    if not entry.is_file():
        return False
    if not entry.is_symlink():
        return True
    target = Path(os.path.realpath(entry.path))
    return Path(os.path.realpath(folder)) in target.parents


def control_map(control_dir: Path, stems: set[str]) -> dict[str, list[str]]:
    """Control images per target stem: `stem.ext` or `stem_<n>.ext`, an exact stem match winning
    (so control `a_1.png` belongs to item `a_1` when it exists, else to item `a`)."""
    out: dict[str, list[str]] = {}
    try:
        entries = [e.name for e in os.scandir(control_dir) if kind_of(e.name) == "image" and _own_file(control_dir, e)]
    except FileNotFoundError:
        return out
    for name in sorted(entries):
        stem = split_name(name)[0]
        target = stem if stem in stems else None
        if target is None:
            m = _CONTROL_INDEX.match(stem)
            if m and m.group(1) in stems:
                target = m.group(1)
        if target is not None:
            out.setdefault(target, []).append(name)
    return out


def _stat(path: Path):
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None


def build_row(dirs: storage.DatasetDirs, dataset_id: str, name: str, st, old: dict | None,
              controls: list[str], probed: tuple[int, probe.MediaInfo] | None = None,
              written: str | None = None) -> dict:
    """The index row for one media file; re-probes only when the media file itself changed.
    `probed`: (size, info) from a decode check of the bytes just placed under this name (an import's),
    so the file is not opened again; used only while the file still has that size. `written`: the
    caption text the caller just wrote for it, likewise used instead of reading the file back while
    the caption file has that text's size."""
    cap_st = _stat(dirs.media / (split_name(name)[0] + CAPTION_EXT))
    row = {
        "dataset_id": dataset_id, "name": name, "stem": split_name(name)[0], "kind": kind_of(name),
        "size": st.st_size, "mtime": st.st_mtime, "mtime_ns": st.st_mtime_ns,
        "caption_mtime_ns": cap_st.st_mtime_ns if cap_st else None,
        "caption_size": cap_st.st_size if cap_st else None,
        "controls": json.dumps(controls, ensure_ascii=False),
    }
    # What the caller wrote comes first: a file rewritten within one tick of the file system's clock with
    # text of the same length keeps its old stat, and the row its old text (recovery hit that).
    if written is not None and cap_st and cap_st.st_size == len(written.encode("utf-8")):
        row["caption"] = written
    elif old and old["caption_mtime_ns"] == row["caption_mtime_ns"] and old["caption_size"] == row["caption_size"]:
        row["caption"] = old["caption"]
    else:
        row["caption"] = captions.read(dirs.media, name) if cap_st else None
    row["tags_key"] = tags_key(row["caption"])
    if old and old["size"] == st.st_size and old["mtime_ns"] == st.st_mtime_ns:
        for key in ("width", "height", "duration", "fps", "frames", "broken", "error"):
            row[key] = old[key]
    elif probed is not None and probed[0] == st.st_size:
        row.update(probed[1].as_row(), broken=0, error=None)
    else:
        try:
            row.update(probe.probe(dirs.media / name).as_row(), broken=0, error=None)
        except probe.MediaError as exc:
            row.update(width=None, height=None, duration=None, fps=None, frames=None, broken=1, error=str(exc))
    return row


def _rows_by_name(db, dataset_id: str, names: list[str] | None = None) -> dict[str, dict]:
    if names is None:
        cur = db.execute("SELECT * FROM dataset_items WHERE dataset_id = ?", [dataset_id])
        cols = [d[0] for d in cur.description]
        return {r["name"]: r for r in (dict(zip(cols, x)) for x in cur.fetchall())}
    out = {}
    for i in range(0, len(names), 500):
        chunk = names[i:i + 500]
        cur = db.execute(f"SELECT * FROM dataset_items WHERE dataset_id = ? AND name IN ({','.join('?' * len(chunk))})",
                         [dataset_id, *chunk])
        cols = [d[0] for d in cur.description]
        out.update({r["name"]: r for r in (dict(zip(cols, x)) for x in cur.fetchall())})
    return out


def _media_entries(media_dir: Path) -> dict[str, os.stat_result]:
    out = {}
    try:
        with os.scandir(media_dir) as it:
            for e in it:
                if kind_of(e.name) in ("image", "video") and not e.name.startswith(".") and _own_file(media_dir, e):
                    out[e.name] = e.stat()
    except FileNotFoundError:
        pass
    return out


def _write_rows(db, dataset_id: str, rows: list[dict], removed: list[str]) -> None:
    with transaction(db):
        for i in range(0, len(removed), 500):
            chunk = removed[i:i + 500]
            db.execute(f"DELETE FROM dataset_items WHERE dataset_id = ? AND name IN ({','.join('?' * len(chunk))})",
                       [dataset_id, *chunk])
        now = time.time()
        by_columns: dict[tuple[str, ...], list[list]] = {}   # rows from build_row all share one column set
        for r in rows:
            cols = tuple(c for c in r if c != "id")
            by_columns.setdefault(cols, []).append([r[c] for c in cols] + [now])
        for cols, values in by_columns.items():
            db.conn.executemany(
                f"INSERT INTO dataset_items ({','.join(cols)}, added_at) VALUES ({','.join('?' * len(cols))}, ?) "
                f"ON CONFLICT(dataset_id, name) DO UPDATE SET {','.join(f'{c}=excluded.{c}' for c in cols)}",
                values,
            )


def _publish(svc, dataset_id: str, added: list[str], removed: list[str], updated: list[str]) -> None:
    bus = svc.bus
    t = storage.topic(dataset_id)
    if added:
        bus.publish(t, "items_added", {"count": len(added), "names": added[:EVENT_NAMES_MAX]})
    if removed:
        bus.publish(t, "items_removed", {"count": len(removed), "names": removed[:EVENT_NAMES_MAX]})
    if updated:
        bus.publish(t, "items_updated", {"count": len(updated), "names": updated[:EVENT_NAMES_MAX]})


def rescan(svc, dataset_id: str) -> dict:
    """Bring the index in line with the folder. Returns the names added, removed and changed."""
    storage.row(svc, dataset_id)
    dirs = storage.dataset_dirs(svc.layout, dataset_id).ensure()
    db = svc.store.db
    with storage.dataset_lock(dirs):
        on_disk = _media_entries(dirs.media)
        known = _rows_by_name(db, dataset_id)
        controls = control_map(dirs.control, {split_name(n)[0] for n in on_disk})
        rows, added, updated = [], [], []
        for name, st in on_disk.items():
            old = known.get(name)
            row = build_row(dirs, dataset_id, name, st, old, controls.get(split_name(name)[0], []))
            if old is None:
                added.append(name)
                rows.append(row)
            elif any(row[k] != old[k] for k in row):
                updated.append(name)
                rows.append(row)
        removed = [n for n in known if n not in on_disk]
        _write_rows(db, dataset_id, rows, removed)
    _publish(svc, dataset_id, sorted(added), sorted(removed), sorted(updated))
    return {"added": len(added), "removed": len(removed), "updated": len(updated), "total": len(on_disk)}


def refresh(svc, dataset_id: str, names: list[str], *, publish: bool = True,
            probed: dict[str, tuple[int, probe.MediaInfo]] | None = None, written: dict[str, str] | None = None) -> dict:
    """Re-index just these media names (new, changed or gone). `probed`: what the caller's decode
    check of a file just placed under a name found; `written`: caption texts it wrote (see build_row)."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    db = svc.store.db
    with storage.dataset_lock(dirs):
        known = _rows_by_name(db, dataset_id, list(names))
        stems = {split_name(n)[0] for n in names}
        controls = control_map(dirs.control, stems) if dirs.control.exists() else {}
        rows, added, updated, removed = [], [], [], []
        for name in names:
            st = _stat(dirs.media / name)
            if st is None or kind_of(name) not in ("image", "video"):
                if name in known:
                    removed.append(name)
                continue
            row = build_row(dirs, dataset_id, name, st, known.get(name), controls.get(split_name(name)[0], []),
                            (probed or {}).get(name), (written or {}).get(name))
            rows.append(row)
            (updated if name in known else added).append(name)
        _write_rows(db, dataset_id, rows, removed)
    if publish:
        _publish(svc, dataset_id, added, removed, updated)
    return {"added": added, "removed": removed, "updated": updated}


# The columns an API item is made of, in the order public_rows() unpacks them.
PUBLIC_COLUMNS = ("id", "name", "kind", "size", "mtime", "mtime_ns", "caption", "width", "height", "duration",
                  "fps", "frames", "broken", "error", "controls")


def public_rows(dataset: dict, rows) -> list[dict]:
    """Items as the API returns them, from rows of PUBLIC_COLUMNS (plain tuples). This runs for every
    row of every grid page, so what is the same for the whole page (the URL prefixes, the dataset's
    kinds) is worked out once, the name is quoted once for both URLs, and the common no-controls row
    parses no JSON."""
    ds_id, ds_type = dataset["id"], dataset["type"]
    allowed = TYPE_KINDS[ds_type]
    control_type = ds_type == "image_control"
    file_prefix = storage.media_url(ds_id, "file", "")
    thumb_prefix = storage.media_url(ds_id, "thumb", "")
    quote, version = storage.quote_name, storage.version_suffix
    out = []
    for (id_, name, kind, size, mtime, mtime_ns, caption, width, height, duration, fps, frames, broken, error,
         raw_controls) in rows:
        controls = json.loads(raw_controls) if raw_controls and raw_controls != "[]" else []
        quoted, v = quote(name), version(mtime_ns)
        out.append({
            "id": id_, "name": name, "kind": kind, "size": size, "mtime": mtime,
            "caption": caption, "has_caption": bool(caption and caption.strip()),
            "tags": split_tags(caption) if caption else [],
            "width": width, "height": height, "duration": duration, "fps": fps,
            "frames": frames, "broken": bool(broken), "error": error,
            "unsupported": kind not in allowed,
            "controls": [{"name": c, "url": storage.media_url(ds_id, "file", c, slot="control"),
                          "thumb_url": storage.media_url(ds_id, "thumb", c, slot="control")} for c in controls],
            "missing_control": control_type and not controls,
            "url": file_prefix + quoted + v,
            "thumb_url": thumb_prefix + quoted + v,
        })
    return out


def public(dataset: dict, row) -> dict:
    """One item as the API returns it, from an index row (a dict or sqlite3.Row)."""
    return public_rows(dataset, [tuple(row[c] for c in PUBLIC_COLUMNS)])[0]


MAX_ROW_ID = 2**63 - 1  # sqlite's INTEGER range; a larger number can name no row


def is_row_id(value) -> bool:
    """An id from a request that can name a row: a non-negative int (not a bool) in sqlite's range."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ROW_ID


def get_row(svc, dataset_id: str, item_id) -> dict:
    try:
        item_id = int(item_id)
    except (TypeError, ValueError, OverflowError):
        raise ItemNotFound(item_id) from None
    if not is_row_id(item_id):
        raise ItemNotFound(item_id)
    cur = svc.store.db.execute("SELECT * FROM dataset_items WHERE dataset_id = ? AND id = ?", [dataset_id, item_id])
    found = cur.fetchone()
    if found is None:
        raise ItemNotFound(item_id)
    return dict(zip([d[0] for d in cur.description], found))


def rows_by_names(svc, dataset_id: str, names: list[str]) -> dict[str, dict]:
    return _rows_by_name(svc.store.db, dataset_id, list(names))


def ensure_on_disk(svc, dataset_id: str, row: dict) -> None:
    """Raise ItemMissing (and drop the stale row) when another tool deleted the file."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    if not (dirs.media / row["name"]).is_file():
        refresh(svc, dataset_id, [row["name"]])
        raise ItemMissing(row["name"])


def set_caption_rows(svc, dataset_id: str, pairs: list[tuple[str, str | None]]) -> None:
    """Record captions we just wrote, with each file's new stat, so a rescan sees no change."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    params = []
    for name, caption in pairs:
        cap_st = _stat(dirs.media / (split_name(name)[0] + CAPTION_EXT))
        params.append([caption if cap_st else None, tags_key(caption if cap_st else None),
                       cap_st.st_mtime_ns if cap_st else None, cap_st.st_size if cap_st else None,
                       dataset_id, name])
    db = svc.store.db
    with transaction(db):
        db.conn.executemany(
            "UPDATE dataset_items SET caption = ?, tags_key = ?, caption_mtime_ns = ?, caption_size = ? "
            "WHERE dataset_id = ? AND name = ?", params)


def mark_broken(svc, dataset_id: str, name: str, error: str | None) -> None:
    db = svc.store.db
    with transaction(db):
        db.execute("UPDATE dataset_items SET broken = ?, error = ? WHERE dataset_id = ? AND name = ?",
                   [1 if error else 0, error, dataset_id, name])
