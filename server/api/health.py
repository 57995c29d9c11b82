from __future__ import annotations

import time

from flask import Blueprint

from ..services import services
from ..version import BUILT_AT, COMMIT, __version__

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    svc = services()
    return {
        "status": "ok",
        "version": __version__,
        "built_at": BUILT_AT,
        "commit": COMMIT,
        "data_dir": str(svc.layout.root),
        "data_dir_fallback": svc.data_dir_fallback,
        "uptime_s": round(time.time() - svc.started_at, 3),
        "schema_version": svc.store.schema_version,
        "window": svc.window is not None,
        "server_mode": svc.server_mode,
    }
