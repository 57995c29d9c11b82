"""Task rows and task folders: create, read, list, update, clone, delete.

A task is a row in `tasks` (config as JSON, status, queue place, live process, progress) and a
folder `<data>/tasks/<id>/` with everything generated for it (dataset.toml, sample_prompts.txt,
cache/, logs/, output/). Only tasks that are not queued or running may be changed or deleted.

Statuses: draft -> queued -> running (-> stopping) -> done | failed | stopped | interrupted.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid

from ..store import transaction
from ..errors import Conflict, NotFound, ValidationError
from . import config as task_config
from .commands import TaskPaths

ACTIVE = ("queued", "running", "stopping")
RUNNING = ("running", "stopping")
FINAL = ("done", "failed", "stopped", "interrupted")
JSON_COLUMNS = ("config", "gpus", "progress", "run")


def new_id() -> str:
    return "task_" + uuid.uuid4().hex[:8]


def paths(layout, task_id: str) -> TaskPaths:
    return TaskPaths(layout.tasks / task_id)


def _decode(row: dict) -> dict:
    for key in JSON_COLUMNS:
        if row.get(key):
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                row[key] = None
    return row


def row(store, task_id: str) -> dict:
    cur = store.db.execute("SELECT * FROM tasks WHERE id = ?", [task_id])
    found = cur.fetchone()
    if found is None:
        raise NotFound(f"No task with id {task_id}.", code="task_not_found")
    return _decode(dict(zip([d[0] for d in cur.description], found)))


def running_count(store) -> int:
    """How many tasks have a trainer running (or stopping): the trainer-env setup waits for none."""
    if "tasks" not in store.db.table_names():
        return 0
    return store.db.execute("SELECT COUNT(*) FROM tasks WHERE status IN ('running', 'stopping')").fetchone()[0]


def public(task: dict, layout) -> dict:
    out = {k: v for k, v in task.items() if k not in ("pid_create_time",)}
    out["folder"] = str(paths(layout, task["id"]).root)
    return out


def list_rows(store) -> list[dict]:
    cur = store.db.execute("SELECT * FROM tasks ORDER BY created_at DESC")
    cols = [d[0] for d in cur.description]
    return [_decode(dict(zip(cols, r))) for r in cur.fetchall()]


def update_fields(store, task_id: str, **fields) -> None:
    for key in JSON_COLUMNS:
        if key in fields and fields[key] is not None and not isinstance(fields[key], str):
            fields[key] = json.dumps(fields[key], ensure_ascii=False)
    fields["updated_at"] = time.time()
    store.db["tasks"].update(task_id, fields)


def create(store, layout, raw: dict) -> dict:
    cfg = task_config.check(raw)
    now = time.time()
    task_id = new_id()
    store.db["tasks"].insert({
        "id": task_id, "name": cfg["name"], "task_type": cfg["task_type"], "status": "draft",
        "config": json.dumps(cfg, ensure_ascii=False), "queue_pos": None, "gpus": json.dumps(cfg["gpus"]),
        "stage": None, "run_no": 0, "progress": None, "error": None, "stop_mode": None, "pid": None,
        "pid_create_time": None, "run": None, "created_at": now, "updated_at": now, "started_at": None,
        "finished_at": None,
    })
    p = paths(layout, task_id)
    for folder in (p.root, p.output, p.logs, p.cache):
        folder.mkdir(parents=True, exist_ok=True)
    return row(store, task_id)


def update(store, task_id: str, changes: dict) -> dict:
    """Replace top-level config keys with `changes` (a section is replaced as a whole)."""
    task = row(store, task_id)
    if task["status"] in ACTIVE:
        raise Conflict("Stop the task before changing it.", code="task_busy")
    if not isinstance(changes, dict):
        raise ValidationError("The changes must be an object.")
    merged = {**task["config"], **changes}
    cfg = task_config.check(merged)
    update_fields(store, task_id, config=cfg, name=cfg["name"], task_type=cfg["task_type"], gpus=cfg["gpus"])
    return row(store, task_id)


def clone(store, layout, task_id: str, name: str | None = None) -> dict:
    if name is not None and not isinstance(name, str):
        raise ValidationError("The name must be text.", field="name")
    cfg = dict(row(store, task_id)["config"])
    cfg["name"] = (name or f"{cfg['name']} (copy)")[:task_config.NAME_MAX]
    return create(store, layout, cfg)


def delete(store, layout, task_id: str, keep_files: bool = False, confirm: bool = False) -> None:
    """Forget a task; its folder goes too unless `keep_files`. Trained files (anything in output/)
    are only removed with `confirm`: the UI asks first, and an API call must say it means it."""
    task = row(store, task_id)
    if task["status"] in ACTIVE:
        raise Conflict("Stop the task before deleting it.", code="task_busy")
    output = paths(layout, task_id).output
    if not keep_files and not confirm and output.is_dir() and any(p.is_file() for p in output.rglob("*")):
        raise Conflict("This task has trained files. Confirm to delete them, or keep the files.",
                       code="confirm_required", details={"folder": str(paths(layout, task_id).root)})
    with transaction(store.db):
        store.db.execute("DELETE FROM task_loss WHERE task_id = ?", [task_id])
        store.db.execute("DELETE FROM tasks WHERE id = ?", [task_id])
    if not keep_files:
        shutil.rmtree(paths(layout, task_id).root, ignore_errors=True)


def loss_history(store, task_id: str, since_step: int = -1, limit: int = 100_000) -> list[dict]:
    """Loss per step of the latest training (a resumed run continues its predecessor's curve)."""
    run = row(store, task_id).get("run") or {}
    first_run = run.get("base_run_no") or run.get("run_no") or 0
    cur = store.db.execute(
        "SELECT step, epoch, loss, ts FROM task_loss WHERE task_id = ? AND run_no >= ? AND step > ? "
        "ORDER BY step, id LIMIT ?",
        [task_id, first_run, since_step, limit])
    return [{"step": s, "epoch": e, "loss": loss, "ts": ts} for s, e, loss, ts in cur.fetchall()]
