from __future__ import annotations

from flask import Blueprint, request

from ..services import services

bp = Blueprint("jobs", __name__)


@bp.get("/jobs")
def list_jobs():
    active = request.args.get("active") in ("1", "true")
    return {"jobs": services().jobs.list(owner=request.args.get("owner"), active_only=active)}


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    return {"job": services().jobs.get(job_id)}


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    return {"job": services().jobs.cancel(job_id)}
