"""Resumable uploads of one big file through the browser (server mode: models and dataset archives of
several GB sent from the user's own machine).

The protocol is two requests, like tus's core (https://tus.io) without its extensions:
- `POST /api/uploads {name, size, purpose, dataset_id?, slot?}` starts one and returns its id;
- `GET /api/uploads/<id>` says how many bytes the server holds (the offset);
- `PUT /api/uploads/<id>` with `Content-Range: bytes START-END/SIZE` appends a chunk; START must be the
  current offset (409 `upload_offset_mismatch`, details.offset, otherwise).
Bytes go to `<data>/cache/resumable/<id>/data.part`; its size IS the offset, so a chunk cut off half
way (a dropped connection, a killed app) keeps what arrived and the client goes on from there, even
after a restart. When the last byte is in, the file is renamed in one step (never copied) to where it
belongs: a model into `<data>/models/` (a new name if one exists), a dataset file into the dataset
import's staging folder, whose import job then runs as for any upload (zips are unpacked there).
Unfinished uploads older than STALE_S are removed when a new one starts.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

from .datasets.media_types import sanitize_filename, split_name
from .errors import ApiError, Conflict, NotFound, ValidationError
from .fileio import atomic_write_text, replace
from .system.browse import MODEL_SUFFIXES

PURPOSES = ("model", "dataset")
MAX_UPLOAD_BYTES = 256 << 30  # the largest DiT checkpoints in full precision are ~60 GB
STALE_S = 7 * 24 * 3600
BLOCK = 1 << 20
_ID = re.compile(r"[0-9a-f]{32}")
_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")
_busy: set[str] = set()
_busy_lock = threading.Lock()


def _root(layout) -> Path:
    return layout.cache / "resumable"


def _folder(layout, upload_id: str) -> Path:
    if not isinstance(upload_id, str) or not _ID.fullmatch(upload_id):
        raise NotFound("No such upload.", code="upload_not_found")
    folder = _root(layout) / upload_id
    if not (folder / "meta.json").is_file():
        raise NotFound("No such upload (finished, cancelled or expired).", code="upload_not_found")
    return folder


def _meta(folder: Path) -> dict:
    return json.loads((folder / "meta.json").read_text(encoding="utf-8"))


def _offset(folder: Path) -> int:
    part = folder / "data.part"
    return part.stat().st_size if part.exists() else 0


def _sweep(layout) -> None:
    root = _root(layout)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if time.time() - folder.stat().st_mtime > STALE_S and folder.name not in _busy:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def create(svc, body: dict) -> dict:
    from .datasets import importer, storage

    name, size, purpose = body.get("name"), body.get("size"), body.get("purpose")
    if purpose not in PURPOSES:
        raise ValidationError("purpose must be 'model' or 'dataset'.", field="purpose", code="bad_upload_purpose")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name must be a file name.", field="name", code="bad_name")
    name = sanitize_filename(name)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise ValidationError("size must be the file's size in bytes (more than 0).", field="size", code="empty_upload")
    if size > MAX_UPLOAD_BYTES:
        raise ValidationError("That file is larger than any upload this app takes.", field="size",
                              code="upload_too_large", details={"limit": MAX_UPLOAD_BYTES})
    meta = {"name": name, "size": size, "purpose": purpose, "created": time.time()}
    if purpose == "model":
        if not name.lower().endswith(MODEL_SUFFIXES):
            raise ValidationError("A model file ends in " + ", ".join(MODEL_SUFFIXES) + ".", field="name",
                                  code="bad_model_file", details={"suffixes": ", ".join(MODEL_SUFFIXES)})
    else:
        storage.row(svc, body.get("dataset_id"))
        slot = body.get("slot", "media")
        if slot not in ("media", "control"):
            raise ValidationError("slot must be 'media' or 'control'.", field="slot", code="bad_slot")
        meta.update(dataset_id=body["dataset_id"], slot=slot)
    _sweep(svc.layout)
    root = _root(svc.layout)
    root.mkdir(parents=True, exist_ok=True)
    importer.check_space(root, size)
    upload_id = uuid.uuid4().hex
    folder = root / upload_id
    folder.mkdir()
    (folder / "data.part").touch()
    atomic_write_text(folder / "meta.json", json.dumps(meta))
    return {"id": upload_id, "offset": 0, "size": size, "name": name, "purpose": purpose}


def status(layout, upload_id: str) -> dict:
    folder = _folder(layout, upload_id)
    meta = _meta(folder)
    return {"id": upload_id, "offset": _offset(folder), "size": meta["size"], "name": meta["name"],
            "purpose": meta["purpose"]}


def parse_range(header: str | None, size: int) -> tuple[int, int]:
    """(start, end exclusive) from `bytes START-END/SIZE` (END inclusive, as HTTP writes it)."""
    m = _RANGE.fullmatch((header or "").strip())
    if not m or int(m.group(3)) != size or int(m.group(1)) > int(m.group(2)) or int(m.group(2)) >= size:
        raise ValidationError(f"Send Content-Range: bytes START-END/{size}.", field="Content-Range",
                              code="bad_content_range")
    return int(m.group(1)), int(m.group(2)) + 1


def append(svc, upload_id: str, content_range: str | None, stream) -> dict:
    """Write one chunk at the current offset; on the last byte, put the file where it belongs."""
    folder = _folder(svc.layout, upload_id)
    meta = _meta(folder)
    start, end = parse_range(content_range, meta["size"])
    with _busy_lock:
        if upload_id in _busy:
            raise Conflict("Another chunk of this upload is still arriving.", code="upload_busy")
        _busy.add(upload_id)
    try:
        offset = _offset(folder)
        if start != offset:
            raise Conflict(f"The server holds {offset} bytes of this upload; send from there.",
                           code="upload_offset_mismatch", details={"offset": offset})
        with open(folder / "data.part", "r+b") as f:
            f.seek(offset)
            left = end - start
            # Written as it arrives: a connection cut half way keeps every byte that came (the offset).
            while left > 0:
                block = stream.read(min(BLOCK, left))
                if not block:
                    break
                f.write(block)
                left -= len(block)
        offset = _offset(folder)
        if offset < end:
            raise ApiError("The chunk ended early; ask for the offset and send the rest.",
                           code="upload_incomplete", status=400, details={"offset": offset})
        result = _finish(svc, folder, meta) if offset == meta["size"] else None
        return {"id": upload_id, "offset": offset, "size": meta["size"], "done": result is not None,
                "result": result}
    finally:
        with _busy_lock:
            _busy.discard(upload_id)


def _finish(svc, folder: Path, meta: dict) -> dict:
    from .datasets import importer

    part = folder / "data.part"
    if meta["purpose"] == "model":
        target = svc.layout.models
        target.mkdir(parents=True, exist_ok=True)
        stem, ext = split_name(meta["name"])
        n = 0
        while True:  # claim a free name (exclusive create), then replace it in one step
            dest = target / (meta["name"] if n == 0 else f"{stem}_{n}{ext}")
            try:
                open(dest, "xb").close()
                break
            except FileExistsError:
                n += 1
        replace(part, dest)
        shutil.rmtree(folder, ignore_errors=True)
        return {"path": str(dest)}
    staging_id = importer.new_upload_id()
    base = importer.upload_dir(svc.layout, staging_id)
    base.mkdir(parents=True)
    replace(part, base / meta["name"])
    shutil.rmtree(folder, ignore_errors=True)
    job = importer.finish_upload(svc, meta["dataset_id"], staging_id, meta["slot"], True)
    return {"job": job, "dataset_id": meta["dataset_id"]}


def cancel(layout, upload_id: str) -> dict:
    folder = _folder(layout, upload_id)
    with _busy_lock:
        if upload_id in _busy:
            raise Conflict("A chunk of this upload is still arriving.", code="upload_busy")
        shutil.rmtree(folder, ignore_errors=True)
    return {"cancelled": True}
