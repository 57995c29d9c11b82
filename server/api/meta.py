"""GET /api/meta: facts the server owns and the UI reads rather than copies (media extensions)."""

from __future__ import annotations

from flask import Blueprint

from .. import media_types

bp = Blueprint("meta", __name__)


@bp.get("/meta")
def meta():
    return {"media": media_types.public()}
