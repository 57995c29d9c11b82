"""Schema migrations, applied in order at start-up.

`PRAGMA user_version` records how many have run. Append new steps; never edit a released one,
because a user's database has already run it.
"""

from __future__ import annotations

import sqlite_utils

from . import transaction


def _m001_initial(db: sqlite_utils.Database) -> None:
    db["settings"].create({"key": str, "value": str, "updated_at": float}, pk="key", if_not_exists=True)
    db["jobs"].create(
        {
            "id": str, "kind": str, "title": str, "status": str, "done": int, "total": int,
            "message": str, "error": str, "result": str, "params": str, "owner": str,
            "created_at": float, "started_at": float, "finished_at": float,
        },
        pk="id",
        if_not_exists=True,
    )
    db["jobs"].create_index(["status"], if_not_exists=True)
    db["jobs"].create_index(["owner"], if_not_exists=True)


def _m002_datasets(db: sqlite_utils.Database) -> None:
    """Datasets, their item index (a cache of the folder, rebuilt by a rescan), undo history, trash."""
    db["datasets"].create(
        {
            "id": str, "name": str, "type": str, "created_at": float, "updated_at": float,
            "trashed_at": float, "trash_path": str,
        },
        pk="id",
        if_not_exists=True,
    )
    db["dataset_items"].create(
        {
            "id": int, "dataset_id": str, "name": str, "stem": str, "kind": str, "size": int,
            "mtime": float, "mtime_ns": int, "caption": str, "caption_mtime_ns": int, "caption_size": int,
            "tags_key": str, "width": int, "height": int, "duration": float, "fps": float, "frames": int,
            "controls": str, "broken": int, "error": str, "added_at": float,
        },
        pk="id",
        not_null={"dataset_id", "name"},
        if_not_exists=True,
    )
    db["dataset_items"].create_index(["dataset_id", "name"], unique=True, if_not_exists=True)
    db["dataset_items"].create_index(["dataset_id", "mtime"], if_not_exists=True)
    db["dataset_items"].create_index(["dataset_id", "size"], if_not_exists=True)
    db["dataset_history"].create(
        {"id": int, "dataset_id": str, "label": str, "kind": str, "item_count": int, "undone": int,
         "created_at": float, "updated_at": float},
        pk="id",
        if_not_exists=True,
    )
    db["dataset_history"].create_index(["dataset_id", "undone"], if_not_exists=True)
    db["dataset_history_changes"].create(
        {"id": int, "step_id": int, "name": str, "before": str, "after": str},
        pk="id",
        foreign_keys=[("step_id", "dataset_history", "id")],
        if_not_exists=True,
    )
    db["dataset_history_changes"].create_index(["step_id"], if_not_exists=True)
    db["dataset_trash_items"].create(
        {"id": int, "dataset_id": str, "batch": str, "name": str, "trash_dir": str, "files": str,
         "deleted_at": float},
        pk="id",
        if_not_exists=True,
    )
    db["dataset_trash_items"].create_index(["dataset_id"], if_not_exists=True)


def _m003_training(db: sqlite_utils.Database) -> None:
    """Training tasks (server/training/): config, queue place, live process and progress; loss per step."""
    db["tasks"].create(
        {
            "id": str, "name": str, "task_type": str, "status": str, "config": str, "queue_pos": float,
            "gpus": str, "stage": str, "run_no": int, "progress": str, "error": str, "stop_mode": str,
            "pid": int, "pid_create_time": float, "run": str, "created_at": float, "updated_at": float,
            "started_at": float, "finished_at": float,
        },
        pk="id",
        if_not_exists=True,
    )
    db["tasks"].create_index(["status", "queue_pos"], if_not_exists=True)
    db["task_loss"].create(
        {"id": int, "task_id": str, "run_no": int, "step": int, "epoch": int, "loss": float, "ts": float},
        pk="id",
        if_not_exists=True,
    )
    db["task_loss"].create_index(["task_id", "step"], if_not_exists=True)


def _m004_dataset_steps_and_trigger(db: sqlite_utils.Database) -> None:
    """Undo steps get a machine-readable `op` + JSON `params` (the UI translates those, not the English
    label); datasets get a `trigger_word`. Existing steps are given an op from their English label."""
    import json
    import re

    history_cols = {c.name for c in db["dataset_history"].columns}
    if "op" not in history_cols:
        db["dataset_history"].add_column("op", str)
    if "params" not in history_cols:
        db["dataset_history"].add_column("params", str)
    if "trigger_word" not in {c.name for c in db["datasets"].columns}:
        db["datasets"].add_column("trigger_word", str)
    by_label = {
        "Add tags": "add_tags", "Remove tags": "remove_tags", "Replace tag": "replace_tag",
        "Replace text": "replace_text", "Move tag to front": "move_to_front", "Remove duplicate tags": "dedupe",
        "Sort tags": "sort", "Set caption": "set", "Prepend to caption": "prepend", "Append to caption": "append",
        "Clear caption": "clear",
    }
    for step_id, label in db.execute("SELECT id, label FROM dataset_history WHERE op IS NULL").fetchall():
        label = label or ""
        op, params = by_label.get(label), {}
        m = re.match(r"^Edit (caption|tags) of (.+)$", label, re.S)
        auto = re.match(r"^Auto-tag \((.+)\)$", label)
        if m:
            op, params = f"edit_{'caption' if m.group(1) == 'caption' else 'tags'}", {"name": m.group(2)}
        elif auto:
            backend = {"WD14": "wd14", "API": "openai_api", "Qwen2.5-VL": "musubi_qwen_vl"}.get(auto.group(1))
            op, params = "autotag", ({"backend": backend} if backend else {})
        db.execute("UPDATE dataset_history SET op = ?, params = ? WHERE id = ?",
                   [op or "other", json.dumps(params, ensure_ascii=False), step_id])


def _m005_caption_journal(db: sqlite_utils.Database) -> None:
    """A journal for multi-file caption changes (datasets/history.py, recovery.py): a step is `pending` ('apply',
    'undo' or 'redo') from before its first file is written until its last one is; the journal rows
    say which caption goes from what text to what, so a step a crash left open is finished at start.
    `dataset_imports` lists imports that are running, so a crash mid-import is reconciled at start."""
    if "pending" not in {c.name for c in db["dataset_history"].columns}:
        db["dataset_history"].add_column("pending", str)
    db["dataset_journal"].create(
        {"id": int, "step_id": int, "dataset_id": str, "name": str, "src": str, "dst": str},
        pk="id",
        if_not_exists=True,
    )
    db["dataset_journal"].create_index(["step_id"], if_not_exists=True)
    db["dataset_imports"].create({"job_id": str, "dataset_id": str, "started_at": float}, pk="job_id",
                                 if_not_exists=True)


# What each count of `dataset_stats` counts, as a 0/1 expression over an item row `{r}` (NEW or OLD).
# Shipped migrations make their triggers from these, so they never change: counting differently is a new
# migration with its own expressions.
_STAT_FLAGS = {
    "captioned_count": "(CASE WHEN {r}.caption IS NOT NULL AND TRIM({r}.caption) != '' THEN 1 ELSE 0 END)",
    "broken_count": "(CASE WHEN {r}.broken = 1 THEN 1 ELSE 0 END)",
    "missing_control_count": "(CASE WHEN {r}.controls = '[]' THEN 1 ELSE 0 END)",
}


def _stats_delta(sign: str, r: str) -> str:
    return ", ".join([f"item_count = item_count {sign} 1",
                      *(f"{k} = {k} {sign} {v.format(r=r)}" for k, v in _STAT_FLAGS.items())])


def _stats_add(r: str) -> str:
    """Trigger statements counting item row `r` into its dataset's counts (the dataset's row made if need be)."""
    return (f"INSERT INTO dataset_stats (dataset_id) VALUES ({r}.dataset_id) ON CONFLICT(dataset_id) DO NOTHING; "
            f"UPDATE dataset_stats SET {_stats_delta('+', r)} WHERE dataset_id = {r}.dataset_id;")


def _stats_remove(r: str) -> str:
    return f"UPDATE dataset_stats SET {_stats_delta('-', r)} WHERE dataset_id = {r}.dataset_id;"


def _m006_perf_name_index_and_dataset_stats(db: sqlite_utils.Database) -> None:
    """Issue 19 (perf): the grid's default `ORDER BY name COLLATE NOCASE, id` gets an index that serves it
    (the (dataset_id, name) one is BINARY, so every page sorted the whole dataset), and each dataset's
    counts live in `dataset_stats`, kept by triggers on `dataset_items`, instead of being re-aggregated
    over all items on every page. Triggers see every writer (import, rescan, caption ops, trash, broken
    marks), so no code path can forget to update them."""
    db.execute("CREATE INDEX IF NOT EXISTS idx_dataset_items_name_nocase "
               "ON dataset_items (dataset_id, name COLLATE NOCASE, id)")
    db.execute("CREATE TABLE IF NOT EXISTS dataset_stats (dataset_id TEXT PRIMARY KEY, "
               "item_count INTEGER NOT NULL DEFAULT 0, captioned_count INTEGER NOT NULL DEFAULT 0, "
               "broken_count INTEGER NOT NULL DEFAULT 0, missing_control_count INTEGER NOT NULL DEFAULT 0)")
    db.execute("DELETE FROM dataset_stats")
    db.execute("INSERT INTO dataset_stats SELECT dataset_id, COUNT(*), SUM({}), SUM({}), SUM({}) FROM dataset_items "
               "GROUP BY dataset_id".format(*(x.format(r="dataset_items") for x in _STAT_FLAGS.values())))
    add, remove = _stats_add("NEW"), _stats_remove("OLD")
    db.execute(f"CREATE TRIGGER IF NOT EXISTS dataset_stats_insert AFTER INSERT ON dataset_items BEGIN {add} END")
    db.execute(f"CREATE TRIGGER IF NOT EXISTS dataset_stats_delete AFTER DELETE ON dataset_items BEGIN {remove} END")
    db.execute("CREATE TRIGGER IF NOT EXISTS dataset_stats_update AFTER UPDATE OF dataset_id, caption, broken, controls "
               f"ON dataset_items BEGIN {remove} {add} END")
    db.execute("CREATE TRIGGER IF NOT EXISTS dataset_stats_forget AFTER DELETE ON datasets "
               "BEGIN DELETE FROM dataset_stats WHERE dataset_id = OLD.id; END")


def _m007_job_message_code(db: sqlite_utils.Database) -> None:
    """A job's progress message as a code + JSON parameters the UI translates (server/jobs/messages.py);
    `message` keeps the English text."""
    db["jobs"].add_column("message_code", str)
    db["jobs"].add_column("message_params", str)


def _m008_job_error_code(db: sqlite_utils.Database) -> None:
    """Why a job failed as a code + JSON parameters the UI translates (server/jobs/failures.py, or an ApiError's
    code and details); `error` keeps the English text. Jobs that failed before have no code: the UI shows them
    as failed with their text as the detail."""
    db["jobs"].add_column("error_code", str)
    db["jobs"].add_column("error_params", str)


def _m009_stats_update_in_place(db: sqlite_utils.Database) -> None:
    """An item that changes within its dataset (every caption save) moves the counts by one UPDATE of the
    difference, instead of m006's three statements (take the old row out, make sure the dataset has a row,
    put the new one in): a caption save's index update took three times as long as the UPDATE itself.
    An item moved to another dataset (nothing does that today) still goes out of one and into the other."""
    db.execute("DROP TRIGGER IF EXISTS dataset_stats_update")
    columns = "AFTER UPDATE OF dataset_id, caption, broken, controls ON dataset_items"
    db.execute(f"CREATE TRIGGER dataset_stats_update_moved {columns} WHEN NEW.dataset_id IS NOT OLD.dataset_id "
               f"BEGIN {_stats_remove('OLD')} {_stats_add('NEW')} END")
    delta = ", ".join(f"{k} = {k} + {v.format(r='NEW')} - {v.format(r='OLD')}" for k, v in _STAT_FLAGS.items())
    db.execute(f"CREATE TRIGGER dataset_stats_update_in_place {columns} WHEN NEW.dataset_id IS OLD.dataset_id "
               f"BEGIN UPDATE dataset_stats SET {delta} WHERE dataset_id = NEW.dataset_id; END")


MIGRATIONS = [_m001_initial, _m002_datasets, _m003_training, _m004_dataset_steps_and_trigger,
              _m005_caption_journal, _m006_perf_name_index_and_dataset_stats, _m007_job_message_code,
              _m008_job_error_code, _m009_stats_update_in_place]


def migrate(db: sqlite_utils.Database) -> int:
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise RuntimeError(
            f"The database was written by a newer LoRA Workbench (schema {current}, "
            f"this version knows {len(MIGRATIONS)}). Update the app or choose another data folder."
        )
    for index in range(current, len(MIGRATIONS)):
        # A step and its version number in one transaction (sqlite's DDL is transactional): a step that
        # fails half-way (a crash, a full disk) leaves the schema as it was, and the next start runs it again.
        with transaction(db):
            MIGRATIONS[index](db)
            db.execute(f"PRAGMA user_version = {index + 1}")
    return len(MIGRATIONS)
