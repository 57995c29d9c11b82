"""Resumable uploads (server/uploads.py).

POST   /api/uploads        {name, size, purpose: model|dataset, dataset_id?, slot?} -> 201 {id, offset: 0, size}
GET    /api/uploads/<id>   {id, offset, size, name, purpose}: where to go on after an interruption
PUT    /api/uploads/<id>   a chunk, Content-Range: bytes START-END/SIZE -> {offset, done, result}
                           (result: {path} of the model, or {job, dataset_id} of the dataset import)
DELETE /api/uploads/<id>   cancel: the partial file is removed
"""

from __future__ import annotations

from flask import Blueprint, request

from .. import uploads
from ..services import services
from ..errors import json_body

bp = Blueprint("uploads", __name__)


@bp.post("/uploads")
def create():
    return uploads.create(services(), json_body()), 201


@bp.get("/uploads/<upload_id>")
def status(upload_id: str):
    return uploads.status(services().layout, upload_id)


@bp.put("/uploads/<upload_id>")
def append(upload_id: str):
    return uploads.append(services(), upload_id, request.headers.get("Content-Range"), request.stream)


@bp.delete("/uploads/<upload_id>")
def cancel(upload_id: str):
    return uploads.cancel(services().layout, upload_id)
