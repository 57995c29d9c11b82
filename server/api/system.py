from __future__ import annotations

from flask import Blueprint, request

from ..services import services

bp = Blueprint("system", __name__)


@bp.get("/system")
def system_snapshot():
    return services().monitor.snapshot(with_history=request.args.get("history") in ("1", "true"))
