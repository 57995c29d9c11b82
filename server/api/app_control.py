"""Talking to the app itself: focus the window (second launch), open an app folder."""

from __future__ import annotations

from flask import Blueprint

from ..errors import ApiError, json_body
from ..services import services
from ..system import desktop

bp = Blueprint("app_control", __name__)


def _app_folders() -> dict:
    layout = services().layout
    return {"data": layout.root, "datasets": layout.datasets, "tasks": layout.tasks,
            "models": layout.models, "logs": layout.logs}


@bp.post("/app/focus")
def focus():
    window = services().window
    if window is None:
        return {"focused": False}
    desktop.focus_window(window)
    return {"focused": True}


@bp.post("/app/quit")
def quit_app():
    """Close the window (or stop a headless launch) the same way the user closing it would."""
    svc = services()
    if svc.quit is None:
        raise ApiError("This server was not started by the launcher.", code="not_supported", status=409)
    svc.quit()
    return {"quitting": True}


@bp.post("/app/open-folder")
def open_folder():
    """Open one of the app's own folders in the OS file manager; never a path from the request."""
    which = json_body().get("folder", "data")
    folders = _app_folders()
    if not isinstance(which, str) or which not in folders:
        raise ApiError(f"Unknown folder '{which}'.", code="unknown_folder", status=422,
                       details={"field": "folder", "choices": sorted(folders)})
    path = folders[which]
    path.mkdir(parents=True, exist_ok=True)
    desktop.open_path(path)
    return {"opened": str(path)}
