"""Model library API (settings page, create-task form).

GET   /api/models/library                 every task type's roles, stored paths and their checks
PATCH /api/models/library                 {slot: path or ""} -> the library
POST  /api/models/check                   {path, task_type?, role?} -> one check result
GET   /api/models/defaults                ?task_type=&variant= -> {models: {role: path}, sources, checks}
                                          (no task_type: {defaults: {type: {variant: {role: path}}}})
POST  /api/models/pick-file               {kind: model|python|folder, initial?} -> {path} from the native
                                          dialog of the app window; 409 no_native_dialog in a browser
"""

from __future__ import annotations

import os

from flask import Blueprint, request

from ..errors import ApiError, ValidationError, json_body
from ..models import checks, library
from ..services import services
from ..system import dialogs

bp = Blueprint("models", __name__)


@bp.get("/models/library")
def get_library():
    svc = services()
    body = library.library(svc.store, check=request.args.get("check", "1") not in ("0", "false"))
    body["native_dialog"] = svc.window is not None
    return body


@bp.patch("/models/library")
def patch_library():
    svc = services()
    library.set_paths(svc.store, json_body())
    body = library.library(svc.store)
    body["native_dialog"] = svc.window is not None
    svc.bus.publish("settings", "model_library", body["paths"])
    return body


@bp.post("/models/check")
def check():
    body = json_body()
    path = body.get("path")
    if not isinstance(path, str):
        raise ValidationError("path must be a file path.", field="path")
    for name in ("task_type", "role"):
        if body.get(name) is not None and not isinstance(body[name], str):
            raise ValidationError(f"{name} must be text.", field=name)
    return checks.check_file(path, body.get("task_type"), body.get("role"))


@bp.get("/models/defaults")
def defaults():
    store = services().store
    task_type = request.args.get("task_type")
    if not task_type:
        return {"defaults": library.all_defaults(store)}
    return library.defaults(store, task_type, request.args.get("variant") or None,
                            with_checks=request.args.get("check") in ("1", "true"))


@bp.post("/models/pick-file")
def pick_file():
    """Open the native "open file" dialog of the app window; headless (browser) mode has none."""
    svc = services()
    if svc.window is None:
        raise ApiError("There is no app window to show a file dialog in; type the path instead.",
                       code="no_native_dialog", status=409)
    body = json_body()
    initial = body.get("initial") or ""
    directory = ""
    if isinstance(initial, str) and initial:
        directory = initial if os.path.isdir(initial) else os.path.dirname(initial)
    kind = body.get("kind", "model")
    if kind not in (*dialogs.KINDS, "folder"):
        raise ValidationError("kind must be model, python, any or folder.", field="kind")
    import webview

    directory = directory if os.path.isdir(directory) else ""
    if kind == "folder":
        result = svc.window.create_file_dialog(webview.FileDialog.FOLDER, directory=directory)
    else:
        result = svc.window.create_file_dialog(webview.FileDialog.OPEN, directory=directory, allow_multiple=False,
                                               file_types=dialogs.file_types(kind))
    if not result:
        return {"path": None}
    path = result[0] if isinstance(result, (list, tuple)) else result
    return {"path": str(path)}
