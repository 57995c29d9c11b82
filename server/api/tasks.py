"""Training tasks: the task-type table, CRUD, preview, queue control, outputs, loss, logs, convert.

Thin: every route hands over to server/training/.
"""

from __future__ import annotations

from flask import Blueprint, Response, request, send_file

from ..errors import NotFound, ValidationError, json_body
from ..paths import safe_join
from ..services import services
from ..training import (catalog, cli_spec, commands, convert, local_files, outputs, planning, preflight, tasks,
                        user_presets)
from ..training.fields import form_groups
from ..training.task_types import PRESETS, STAGES
from .app_control import refuse_in_server_mode
from .files import send_path

bp = Blueprint("tasks", __name__)


def _public(task: dict) -> dict:
    return tasks.public(task, services().layout)


def _publish(task: dict, type_: str = "task") -> None:
    services().bus.publish("tasks", type_, task)


@bp.get("/task-types")
def task_types():
    return {"task_types": catalog.public_table(), "form_groups": form_groups(), "presets": list(PRESETS),
            "musubi": cli_spec.spec_version()}


@bp.get("/tasks")
def list_tasks():
    svc = services()
    return {"tasks": [_public(svc.supervisor.with_live(t)) for t in tasks.list_rows(svc.store)],
            "queue": svc.supervisor.queue()}


@bp.post("/tasks")
def create_task():
    svc = services()
    task = _public(tasks.create(svc.store, svc.layout, json_body()))
    _publish(task)
    return {"task": task}, 201


@bp.post("/tasks/preview")
def preview():
    svc = services()
    task_id = request.args.get("task_id")
    if task_id:
        tasks.row(svc.store, task_id)
    return planning.preview(svc.store, svc.layout, json_body(), task_id)


@bp.post("/tasks/vram")
def vram_estimate():
    """A create-form config -> {estimate_gb, presets: {high, medium, low}, dataset_type}."""
    svc = services()
    return planning.vram_estimate(svc.store, svc.layout, json_body())


@bp.post("/tasks/check-paths")
def check_paths():
    """{paths: [str]} -> {results: {path: {exists, is_file, size}}} (the create form's model-file check)."""
    return {"results": local_files.check_paths(json_body().get("paths"))}


@bp.get("/task-presets")
def list_user_presets():
    return {"presets": user_presets.list_presets(services().store)}


@bp.put("/task-presets/<path:name>")
def save_user_preset(name: str):
    preset = user_presets.save(services().store, name, json_body().get("config"))
    services().bus.publish("tasks", "presets", {"name": preset["name"]})
    return {"preset": preset}


@bp.delete("/task-presets/<path:name>")
def delete_user_preset(name: str):
    user_presets.delete(services().store, name)
    services().bus.publish("tasks", "presets", {"name": name, "deleted": True})
    return {"deleted": name}


@bp.put("/tasks/queue")
def reorder_queue():
    order = json_body().get("order")
    if not isinstance(order, list) or not all(isinstance(i, str) for i in order):
        raise ValidationError("order must be a list of task ids.", field="order")
    return {"queue": services().supervisor.reorder(order)}


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):
    return {"task": _public(services().supervisor.current(task_id))}


@bp.patch("/tasks/<task_id>")
def update_task(task_id: str):
    task = _public(tasks.update(services().store, task_id, json_body()))
    _publish(task)
    return {"task": task}


@bp.delete("/tasks/<task_id>")
def delete_task(task_id: str):
    svc = services()
    body = json_body()
    keep = request.args.get("keep_files") in ("1", "true") or body.get("keep_files") is True
    confirm = request.args.get("confirm") in ("1", "true") or body.get("confirm") is True
    tasks.delete(svc.store, svc.layout, task_id, keep_files=keep, confirm=confirm)
    svc.bus.publish("tasks", "deleted", {"id": task_id})
    return {"deleted": task_id, "kept_files": keep}


@bp.post("/tasks/<task_id>/clone")
def clone_task(task_id: str):
    svc = services()
    task = _public(tasks.clone(svc.store, svc.layout, task_id, json_body().get("name")))
    _publish(task)
    return {"task": task}, 201


@bp.post("/tasks/preflight")
def preflight_report():
    """The pre-flight report for a (possibly unsaved) task config: findings, buckets, time estimate."""
    svc = services()
    return preflight.report(svc.store, svc.layout, json_body())


@bp.get("/tasks/<task_id>/preflight")
def preflight_stored(task_id: str):
    svc = services()
    return preflight.report(svc.store, svc.layout, tasks.row(svc.store, task_id)["config"])


@bp.get("/tasks/<task_id>/preview")
def preview_stored(task_id: str):
    svc = services()
    return planning.preview(svc.store, svc.layout, tasks.row(svc.store, task_id)["config"], task_id)


@bp.post("/tasks/<task_id>/start")
@bp.post("/tasks/<task_id>/retry")
def start_task(task_id: str):
    return {"task": _public(services().supervisor.enqueue(task_id))}


@bp.post("/tasks/<task_id>/resume")
def resume_task(task_id: str):
    mode = json_body().get("from", "state")
    return {"task": _public(services().supervisor.enqueue(task_id, resume=mode))}


@bp.post("/tasks/<task_id>/stop")
def stop_task(task_id: str):
    return {"task": _public(services().supervisor.stop(task_id))}


@bp.get("/tasks/<task_id>/outputs")
def task_outputs(task_id: str):
    svc = services()
    task = tasks.row(svc.store, task_id)
    folder = tasks.paths(svc.layout, task_id).output
    segments = planning.segments_of(task)
    return {"checkpoints": outputs.checkpoints(folder, segments), "samples": outputs.samples(folder, segments),
            "states": outputs.states(folder, segments), "converted": outputs.converted(folder)}


@bp.get("/tasks/<task_id>/loss")
def task_loss(task_id: str):
    svc = services()
    tasks.row(svc.store, task_id)
    since = request.args.get("since", type=int, default=-1)
    if not -1 <= since <= 2**62:
        raise ValidationError("since must be a step number.", field="since")
    return {"points": tasks.loss_history(svc.store, task_id, since)}


@bp.get("/tasks/<task_id>/log")
def task_log(task_id: str):
    """The log of one stage of the latest run (`?stage=train`), or its last `?tail=` bytes."""
    svc = services()
    task = tasks.row(svc.store, task_id)
    run = task.get("run") or {}
    stage = request.args.get("stage") or task.get("stage") or "train"
    if stage not in STAGES:
        raise ValidationError("Unknown stage.", field="stage")
    path = tasks.paths(svc.layout, task_id).logs / f"run-{(run.get('run_no') or task.get('run_no') or 0):03d}-{stage}.log"
    if not path.is_file():
        return {"stage": stage, "text": "", "size": 0}
    tail = request.args.get("tail", type=int, default=256 * 1024)
    size = path.stat().st_size
    with open(path, "rb") as f:
        f.seek(max(0, size - tail))
        text = f.read().decode("utf-8", errors="replace")
    return {"stage": stage, "text": text, "size": size}


@bp.get("/tasks/<task_id>/log/download")
def task_log_download(task_id: str):
    """The latest run's whole log (every stage, in order) as a text file."""
    svc = services()
    task = tasks.row(svc.store, task_id)
    text = local_files.run_log(svc.layout, task)
    name = f"{commands.output_name(task['name'])}-run{(task.get('run_no') or 0):03d}.log"
    return Response(text, mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/tasks/<task_id>/open")
def open_task_path(task_id: str):
    """{path: relative to the task folder ("" = the folder), reveal: bool} -> opened in the file manager."""
    refuse_in_server_mode()
    svc = services()
    tasks.row(svc.store, task_id)
    body = json_body()
    path = local_files.open_task_path(svc.layout, task_id, body.get("path", ""), bool(body.get("reveal")))
    return {"opened": str(path)}


@bp.get("/tasks/<task_id>/download")
def download_task_path(task_id: str):
    """?path= relative to the task folder: a file, or a folder as a zip (server mode's "open / reveal")."""
    svc = services()
    task = tasks.row(svc.store, task_id)
    path = local_files.task_path(svc.layout, task_id, request.args.get("path", ""))
    if not path.exists():
        raise NotFound("No such file or folder in this task.", code="path_not_found")
    name = None if path != tasks.paths(svc.layout, task_id).root else commands.output_name(task["name"])
    return send_path(path, name=name)


@bp.get("/tasks/<task_id>/files/<path:name>")
def task_file(task_id: str, name: str):
    svc = services()
    tasks.row(svc.store, task_id)
    try:
        path = safe_join(tasks.paths(svc.layout, task_id).output, name)
    except ValueError:
        raise NotFound("No such file.") from None
    if not path.is_file():
        raise NotFound("No such file.")
    return send_file(path, conditional=True)


@bp.post("/tasks/<task_id>/convert")
def convert_checkpoint(task_id: str):
    body = json_body()
    file = body.get("file")
    if not isinstance(file, str) or not file:
        raise ValidationError("Name the checkpoint to convert.", field="file")
    return {"job": convert.submit(services(), task_id, file, body.get("target", "other"))}, 202
