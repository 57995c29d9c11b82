"""Settings API: every registered key's value (secrets masked), changes, and the schema the settings page
builds its fields from."""

from __future__ import annotations

from flask import Blueprint

from .. import settings
from ..errors import json_body
from ..models import library as _models  # noqa: F401  (each feature registers its own keys on import;
from ..runtime import setting_keys as _runtime  # noqa: F401   importing them here makes the served set
from ..system import browse as _browse  # noqa: F401   complete whatever else the app loaded)
from ..tagging import setting_keys as _tagging  # noqa: F401
from ..services import services

bp = Blueprint("settings", __name__)


@bp.get("/settings")
def get_settings():
    return {"settings": settings.read_all(services().store)}


@bp.get("/settings/schema")
def get_schema():
    """-> {"settings": [{key, type, default, secret, group, label_key, help_key, choices?, choice_key?, min?, max?,
    max_len?, + the UI hints of `extra`}]} in registration order, the order of the fields on the page
    (see server/settings.py)."""
    return {"settings": settings.schema()}


@bp.patch("/settings")
def patch_settings():
    svc = services()
    result = settings.update(svc.store, json_body())
    svc.bus.publish("settings", "settings", result)
    return {"settings": result}
