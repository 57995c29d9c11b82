"""Files on the user's machine seen from a task: model-path checks, a task's files in the file manager,
and a run's whole log as one text.

- `check_paths()` says whether each model path the create form holds exists (the form marks it as
  the user types, long before a task is started).
- `open_task_path()` opens a file or folder of one task in the OS file manager
  (server/system/desktop.py); only paths inside that task's folder.
- `run_log()` joins the stage logs of a task's latest run in stage order (the log download).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import NotFound, ValidationError
from ..paths import safe_join
from ..system import desktop
from . import tasks
from .task_types import STAGES

MAX_PATHS = 50


def check_paths(paths) -> dict[str, dict]:
    if not isinstance(paths, list) or len(paths) > MAX_PATHS or not all(isinstance(p, str) for p in paths):
        raise ValidationError(f"paths must be a list of at most {MAX_PATHS} strings.", field="paths")
    out = {}
    for raw in paths:
        path = raw.strip()
        info = {"exists": False, "is_file": False, "size": None}
        if path:
            try:
                p = Path(path).expanduser()
                if p.exists():
                    info["exists"] = True
                    info["is_file"] = p.is_file()
                    info["size"] = p.stat().st_size if info["is_file"] else None
            except (OSError, ValueError):
                pass
        out[raw] = info
    return out


def task_path(layout, task_id: str, relative: str) -> Path:
    """A path inside the task's folder (`""` = the folder itself), refusing anything outside it."""
    root = tasks.paths(layout, task_id).root
    if not isinstance(relative, str):
        raise ValidationError("path must be text.", field="path")
    if relative.strip() in ("", "."):
        return root
    try:
        return safe_join(root, relative)
    except ValueError:
        raise ValidationError("That path is not inside the task's folder.", field="path") from None


def open_task_path(layout, task_id: str, relative: str, reveal: bool = False) -> Path:
    path = task_path(layout, task_id, relative)
    if not path.exists():
        raise NotFound("No such file or folder in this task.", code="path_not_found")
    desktop.open_path(path, reveal=reveal)
    return path


def run_log(layout, task: dict) -> str:
    run = task.get("run") or {}
    run_no = run.get("run_no") or task.get("run_no") or 0
    logs = tasks.paths(layout, task["id"]).logs
    parts = []
    for stage in STAGES:
        path = logs / f"run-{run_no:03d}-{stage}.log"
        if path.is_file():
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "".join(parts)
