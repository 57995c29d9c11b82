"""Talking to the app itself: focus the window (second launch), open an app folder (or, in server
mode, download it: nothing opens on the server's desktop)."""

from __future__ import annotations

from flask import Blueprint, request

from ..errors import ApiError, json_body
from ..services import services
from ..system import desktop
from .files import send_path

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


def refuse_in_server_mode() -> None:
    """Server mode: the desktop belongs to a machine no one sits at; the UI downloads instead."""
    if services().server_mode:
        raise ApiError("In server mode nothing opens on the server's desktop; download it instead.",
                       code="no_desktop", status=409)


def _app_folder(which):
    folders = _app_folders()
    if not isinstance(which, str) or which not in folders:
        raise ApiError(f"Unknown folder '{which}'.", code="unknown_folder", status=422,
                       details={"field": "folder", "choices": sorted(folders)})
    path = folders[which]
    path.mkdir(parents=True, exist_ok=True)
    return path


@bp.post("/app/open-folder")
def open_folder():
    """Open one of the app's own folders in the OS file manager; never a path from the request."""
    refuse_in_server_mode()
    path = _app_folder(json_body().get("folder", "data"))
    desktop.open_path(path)
    return {"opened": str(path)}


@bp.get("/app/download-folder")
def download_folder():
    """?folder=logs -> that app folder as a zip, streamed (server mode's "open folder")."""
    which = request.args.get("folder", "logs")
    return send_path(_app_folder(which), name=f"lora-workbench-{which}")
