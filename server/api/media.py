"""Dataset files for <img>/<video> tags: /media/datasets/<id>/<slot>/<name> and thumbnails.

The security guard already requires the launch secret for /media/ (the UI's cookie carries it).
Names are single file names: anything with a separator, '..' or a drive is refused before it
reaches the disk, and the joined path is checked again with safe_join. Full files are served with
conditional=True, so browsers get Range requests (video seeking), ETag and Last-Modified.
"""

from __future__ import annotations

from flask import Blueprint, send_file

from ..datasets import probe, storage, thumbnails
from ..datasets.errors import ApiError, BadName, NotFound
from ..datasets.media_types import is_plain_name, kind_of
from ..paths import safe_join
from ..services import services

bp = Blueprint("media", __name__)

# Item URLs carry ?v=<mtime>, so a changed file gets a new URL: caching for a day is safe.
FILE_MAX_AGE = 3600
THUMB_MAX_AGE = 86400


def _path(dataset_id: str, slot: str, name: str):
    svc = services()
    storage.row(svc, dataset_id)
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    folder = dirs.slot(slot)
    if not is_plain_name(name) or kind_of(name) not in ("image", "video"):
        raise BadName(name)
    try:
        path = safe_join(folder, name)
    except ValueError:
        raise BadName(name) from None
    if path.parent != folder.resolve() or not path.is_file():
        raise NotFound(f"{name!r} is not in this dataset.", code="file_not_found")
    return svc, path


@bp.get("/media/datasets/<dataset_id>/<slot>/<path:name>")
def file(dataset_id: str, slot: str, name: str):
    _, path = _path(dataset_id, slot, name)
    return send_file(path, conditional=True, max_age=FILE_MAX_AGE)


@bp.get("/media/datasets/<dataset_id>/thumb/<slot>/<path:name>")
def thumb(dataset_id: str, slot: str, name: str):
    svc, path = _path(dataset_id, slot, name)
    try:
        out = thumbnails.ensure_for_item(svc, dataset_id, slot, path.name)
    except probe.MediaError as exc:
        raise ApiError(str(exc), code="corrupt_media", status=422, details={"name": name}) from exc
    return send_file(out, mimetype="image/jpeg", conditional=True, max_age=THUMB_MAX_AGE)
