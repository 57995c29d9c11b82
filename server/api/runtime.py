"""Trainer environment API (settings page, first run).

GET  /api/runtime            detection without running the musubi Python (cached probe); fast
POST /api/runtime/detect     full detection: runs the probe script in the musubi Python (can take ~30 s)
POST /api/runtime/setup      {action: setup|update|repair, replace?, extra?, base_python?} -> {job}
                             409 musubi_dir_exists / musubi_dirty: ask the user, then send replace: true
GET  /api/runtime/log/<job>  the job's log file as text (the live log comes as `log` events on job:<id>)
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response

from ..errors import NotFound, json_body
from ..runtime import detect, setup
from ..services import services
from ..system import longpaths

bp = Blueprint("runtime", __name__)


def _provider():
    monitor = services().monitor
    return getattr(monitor, "provider", None)


@bp.get("/runtime")
def get_runtime():
    svc = services()
    body = detect.detect(svc.store, _provider(), run_probe=False, find_pythons=False)
    body["problems"] += longpaths.trainer_dir_problems(Path(body["musubi"]["dir"]))
    body["native_dialog"] = svc.window is not None
    return body


@bp.post("/runtime/detect")
def run_detect():
    svc = services()
    result = detect.detect(svc.store, _provider(), run_probe=True, find_pythons=True)
    result["problems"] += longpaths.trainer_dir_problems(Path(result["musubi"]["dir"]))
    result["native_dialog"] = svc.window is not None
    svc.bus.publish("settings", "runtime", {"usable": result["usable"]})
    return result


@bp.post("/runtime/setup")
def start_setup():
    svc = services()
    opts = setup.plan(svc.store, _provider(), json_body())
    titles = {"setup": "Set up musubi-tuner", "update": "Update musubi-tuner", "repair": "Repair musubi-tuner"}
    job = svc.jobs.submit(detect.SETUP_JOB_KIND, titles[opts.action],
                          lambda ctx: setup.run_job(ctx, opts, svc.layout, svc.store),
                          params={"action": opts.action, "extra": opts.extra, "musubi_dir": str(opts.musubi_dir)},
                          owner=detect.SETUP_OWNER, exclusive=True)
    return {"job": job}, 202


@bp.get("/runtime/log/<job_id>")
def get_log(job_id: str):
    svc = services()
    if not job_id.isalnum():
        raise NotFound("No such log.", code="log_not_found")
    path = svc.layout.logs / f"runtime-{job_id}.log"
    if not path.is_file():
        raise NotFound("No such log.", code="log_not_found")
    return Response(path.read_text(encoding="utf-8", errors="replace"), mimetype="text/plain; charset=utf-8")
