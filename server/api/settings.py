from __future__ import annotations

from flask import Blueprint

from .. import settings
from ..errors import json_body
from ..services import services

bp = Blueprint("settings", __name__)


@bp.get("/settings")
def get_settings():
    return {"settings": settings.read_all(services().store)}


@bp.patch("/settings")
def patch_settings():
    svc = services()
    result = settings.update(svc.store, json_body())
    svc.bus.publish("settings", "settings", result)
    return {"settings": result}
