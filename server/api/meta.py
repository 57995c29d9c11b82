"""GET /api/meta: facts the server owns and the UI reads rather than copies (media extensions, the
websocket events each topic carries)."""

from __future__ import annotations

from flask import Blueprint

from .. import events, media_types

bp = Blueprint("meta", __name__)


@bp.get("/meta")
def meta():
    return {"media": media_types.public(), "events": events.public()}
