"""Datasets API (all under /api, all need the launch secret). Thin: parse, call server.datasets, return JSON.

Errors are {"error": {"code", "message", "details"?}}; codes used here include dataset_not_found,
dataset_trashed, item_not_found, item_missing (file deleted on disk; the index is refreshed),
caption_changed (409, details.current = text on disk), unknown_items, bad_target, bad_op,
bad_params, bad_regex, bad_slot, no_control_slot, confirm_required, nothing_to_undo/redo,
dataset_busy, validation_error (+ details.field).

Shapes
    Dataset = {id, name, type: "image"|"video"|"image_control", trigger_word ("" = none), created_at,
               updated_at, trashed_at, item_count, captioned_count, broken_count, missing_control_count,
               cover: {name, thumb_url} | null}
    Item    = {id (int, stable across rescans), name, kind: "image"|"video", size, mtime,
               caption (str | null = no .txt file), has_caption, tags: [str],
               width, height, duration, fps, frames (video), broken, error, unsupported (kind not
               used by this dataset type), controls: [{name, url, thumb_url}], missing_control,
               url (full file, Range-capable), thumb_url}
    Filter  = query args / JSON: q, in ("all"|"name"|"caption"), tag, no_caption, broken,
              missing_control, kind ("image"|"video")
    Target  = {"ids": [int]} | {"names": [str]} | {"filter": Filter} | {"all": true}
    Step    = {id, dataset_id, op, params, label, kind ("op"|"edit"|"autotag"), item_count, undone, created_at,
               updated_at}
              op: a batch op's name (add_tags, replace_tag, ... with params = the op's params, shortened),
              edit_caption / edit_tags {name}, autotag {backend}, or "other" (show the English label).
              params is a small JSON object (strings cut at 100 chars, lists at 10 entries).
    Job     = the jobs API's job object; follow it on websocket topic job:<id> or GET /api/jobs/<id>

Datasets
    GET    /datasets                          -> {datasets: [Dataset]} (not trashed, newest first)
    POST   /datasets {name?, type?="image", trigger_word?}
                                              -> 201 {dataset}; name defaults to "New dataset", "New dataset 2"...
    GET    /datasets/<id>                     -> {dataset, history: {can_undo, can_redo, undo, redo, steps}}
    PATCH  /datasets/<id> {name?, type?, trigger_word?} -> {dataset}; trigger_word is trimmed, one tag (no
                                                 commas or line breaks, 400 bad_trigger_word), <= 100 chars
                                                 (trigger_word_too_long), "" clears it; auto-tagging uses it
                                                 as the default trigger (prompt {trigger}, caption prefix)
    GET    /datasets/<id>/type-effects?type=T -> {effects: {from, to, item_count, notes: [{code, count, message}]}}
                                                 what changing the type would do (UI explains before PATCH)
    DELETE /datasets/<id>                     -> {dataset} moved to the trash; thumbnail jobs are stopped,
                                                 other running jobs give 409 dataset_busy {job_ids}
    POST   /datasets/<id>/restore             -> {dataset} back from the trash
    POST   /datasets/<id>/rescan              -> {result: {added, removed, updated, total}, dataset}
                                                 picks up files changed on disk by other tools

Items
    GET    /datasets/<id>/items               -> {items: [Item], total, offset, limit, dataset}
           ?offset=0&limit=100 (max 500) or ?page=1&limit=100; Filter args; sort=name|mtime|size|added; order=asc|desc
    GET    /datasets/<id>/items/ids           -> {ids: [int], names: [str], total}; Filter args + sort/order:
                                                 "select all matching" and range selection
    GET    /datasets/<id>/items/<item_id>     -> {item}
    PUT    /datasets/<id>/items/<item_id>/caption {caption, expected?}
                                              -> {item, step}; atomic write; 404 item_missing if the file is
                                                 gone; with `expected` 409 caption_changed if disk differs.
                                                 Edits of one item within 60 s merge into one undo step
                                                 (step.merged; step.id null when typed back to the start).
    PUT    /datasets/<id>/items/<item_id>/tags {tags: [str]}  -> {item, step}; the item's tags in their new order
    POST   /datasets/<id>/items/<item_id>/controls  multipart files=...  -> {item, added: [name], skipped}
    DELETE /datasets/<id>/items/<item_id>/controls/<name>             -> {item, batch} control image to the trash
    POST   /datasets/<id>/items/delete {target} -> {batch, deleted, names} media+caption+controls to the trash

Caption / tag batch operations (one undo step each)
    POST   /datasets/<id>/ops {op, params, target} -> {step, changed, unchanged, missing: [name], targeted}
           op / params:
             add_tags {tags: [str]|"a, b", position: "start"|"end"}   remove_tags {tags}
             replace_tag {old, new}  (exact tag; new "" removes)      move_to_front {tag, add_if_missing?}
             replace_text {find, replace, regex?, case_sensitive?}    dedupe {}   sort {keep_first?, reverse?}
             set {text}   prepend {text, separator?=", "}   append {text, separator?}   clear {}
    GET    /datasets/<id>/tags?search=&sort=count|tag&order=&limit=&<Filter args>  -> {tags: [{tag, count}], total}
    GET    /datasets/<id>/tags/suggest?prefix=&limit=20                           -> {tags: [{tag, count}]}
    GET    /datasets/<id>/history             -> {can_undo, can_redo, undo: Step|null, redo: Step|null, steps}
    POST   /datasets/<id>/undo | /redo        -> {step, changed, missing, conflicts: [name]}
           (409 nothing_to_undo / nothing_to_redo; items changed since the step are left alone = conflicts)

Import (jobs; progress on job:<id>, the job result is the report:
        {imported, controls, captions, renamed: [{from, to}], renamed_count, skipped: [{path, reason, message}],
         skipped_count}; reason = corrupt | unreadable | unsupported_type | wrong_kind | caption_without_media)
    POST   /datasets/<id>/upload  multipart: files (many), paths (optional, parallel to files: relative paths
           incl. folders, e.g. webkitRelativePath), upload_id (to add to an earlier chunk, or with new=1 an id
           of 16 hex digits the client chose for its first chunk, so it can discard an upload whose first
           answer never came), final ("1" default: start the import now; "0": more chunks follow),
           slot ("media"|"control")
                                              -> {upload_id, received: [{path, stored, size}], job | null}
           409 upload_discarded: the upload was discarded (DELETE) meanwhile; nothing was kept.
           .zip files in an upload are expanded. Uploaded names are sanitized (no ../, absolute paths, backslashes).
    DELETE /datasets/<id>/upload/<upload_id>  -> {discarded: true, job_cancelled: bool}  cancel an upload: drop the
                                                 chunks received, refuse chunks still arriving for it, and
                                                 cancel its import job if the last chunk had started one
    POST   /datasets/<id>/import {source: "folder"|"zip", path: absolute local path, slot?} -> 202 {job}
    POST   /datasets/<id>/thumbnails          -> 202 {job} generate missing thumbnails (409 job_busy if running);
           started by itself after an import; job result {total, made, fresh, gone, broken: [{slot, name, error}],
           broken_count}; unreadable media are flagged broken on their item

Trash
    GET    /datasets/<id>/trash               -> {entries: [{id, batch, name, files: [{slot, name}], deleted_at}]}
    POST   /datasets/<id>/trash/restore {ids: [int]} | {batch} -> {restored: [{name, restored_as}]}
    POST   /datasets/<id>/trash/empty {confirm: true}         -> {deleted}
    GET    /trash                             -> {datasets: [Dataset], item_counts: {dataset_id: n}}
    POST   /trash/datasets/<id>/purge {confirm: true}          -> {id} delete one trashed dataset for good
    POST   /trash/empty {confirm: true}       -> {datasets, items}

Media (server/api/media.py, not under /api; the secret comes from the lw_token cookie in <img>/<video>)
    GET /media/datasets/<id>/media/<name>          full file; Range requests; ETag/Last-Modified
    GET /media/datasets/<id>/control/<name>        control image
    GET /media/datasets/<id>/thumb/media/<name>    JPEG thumbnail (made on demand if missing), cached
    GET /media/datasets/<id>/thumb/control/<name>  (422 corrupt_media when the source cannot be read)

Live events
    topic "datasets": dataset_created, dataset_updated, dataset_trashed, dataset_restored, dataset_purged
    topic "dataset:<id>": dataset_updated {Dataset}; item_updated {Item}; items_added / items_removed /
        items_updated {count, names (first 500)}; thumbnails {done, total}; item_broken {name, error};
        import_finished {job_id, ...report}; history {can_undo, can_redo, undo: Step|null, redo: Step|null}
        (the same Step objects as GET history);
        dataset_trashed
"""

from __future__ import annotations

from flask import Blueprint, request

from ..datasets import editing, importer, items, listing, ops, storage, thumbnails, trash
from ..datasets.history import History
from ..errors import ValidationError, json_body
from ..services import services

bp = Blueprint("datasets", __name__)


def _args() -> dict:
    return request.args.to_dict()


# ---- datasets ------------------------------------------------------------------------------

@bp.get("/datasets")
def list_datasets():
    return {"datasets": storage.list_datasets(services())}


@bp.post("/datasets")
def create_dataset():
    body = json_body()
    return {"dataset": storage.create(services(), body.get("name"), body.get("type", "image"),
                                      body.get("trigger_word"))}, 201


@bp.get("/datasets/<dataset_id>")
def get_dataset(dataset_id: str):
    svc = services()
    return {"dataset": storage.get(svc, dataset_id), "history": History(svc.store).state(dataset_id)}


@bp.patch("/datasets/<dataset_id>")
def update_dataset(dataset_id: str):
    body = json_body()
    return {"dataset": storage.update(services(), dataset_id, name=body.get("name"), type_=body.get("type"),
                                      trigger_word=body.get("trigger_word"))}


@bp.get("/datasets/<dataset_id>/type-effects")
def type_effects(dataset_id: str):
    return {"effects": storage.type_change_effects(services(), dataset_id, request.args.get("type"))}


@bp.delete("/datasets/<dataset_id>")
def delete_dataset(dataset_id: str):
    return {"dataset": trash.trash_dataset(services(), dataset_id)}


@bp.post("/datasets/<dataset_id>/restore")
def restore_dataset(dataset_id: str):
    return {"dataset": trash.restore_dataset(services(), dataset_id)}


@bp.post("/datasets/<dataset_id>/rescan")
def rescan(dataset_id: str):
    svc = services()
    result = items.rescan(svc, dataset_id)
    return {"result": result, "dataset": storage.get(svc, dataset_id)}


# ---- items ---------------------------------------------------------------------------------

@bp.get("/datasets/<dataset_id>/items")
def list_items(dataset_id: str):
    return listing.page(services(), dataset_id, _args())


@bp.get("/datasets/<dataset_id>/items/ids")
def item_ids(dataset_id: str):
    args = _args()
    found = listing.matching(services(), dataset_id, args, args.get("sort"), args.get("order"))
    return {"ids": [i for i, _ in found], "names": [n for _, n in found], "total": len(found)}


@bp.get("/datasets/<dataset_id>/items/<item_id>")
def get_item(dataset_id: str, item_id: str):
    svc = services()
    ds = storage.get(svc, dataset_id)
    return {"item": items.public(ds, items.get_row(svc, dataset_id, item_id))}


@bp.put("/datasets/<dataset_id>/items/<item_id>/caption")
def put_caption(dataset_id: str, item_id: str):
    body = json_body()
    if "caption" not in body:
        raise ValidationError("Send the caption text as 'caption'.", field="caption", code="caption_required")
    expected = body["expected"] if "expected" in body else ...
    return ops.set_caption(services(), dataset_id, item_id, body["caption"], expected)


@bp.put("/datasets/<dataset_id>/items/<item_id>/tags")
def put_tags(dataset_id: str, item_id: str):
    return ops.set_tags(services(), dataset_id, item_id, json_body().get("tags"))


@bp.post("/datasets/<dataset_id>/items/<item_id>/controls")
def add_controls(dataset_id: str, item_id: str):
    svc = services()
    storage.row(svc, dataset_id)
    row = items.get_row(svc, dataset_id, item_id)
    items.ensure_on_disk(svc, dataset_id, row)
    files = [(f.filename or "control.png", f.stream) for f in request.files.getlist("files")]
    if not files:
        raise ValidationError("Attach one or more images as 'files'.", field="files", code="files_required")
    result = importer.add_controls(svc, dataset_id, row, files)
    ds = storage.get(svc, dataset_id)
    item = items.public(ds, items.get_row(svc, dataset_id, item_id))
    thumbnails.submit_job(svc, dataset_id, quiet_if_busy=True)
    return {"item": item, **result}


@bp.delete("/datasets/<dataset_id>/items/<item_id>/controls/<name>")
def delete_control(dataset_id: str, item_id: str, name: str):
    svc = services()
    storage.row(svc, dataset_id)
    row = items.get_row(svc, dataset_id, item_id)
    result = trash.delete_control(svc, dataset_id, row, name)
    return {"item": items.public(storage.get(svc, dataset_id), items.get_row(svc, dataset_id, item_id)), **result}


@bp.post("/datasets/<dataset_id>/items/delete")
def delete_items(dataset_id: str):
    svc = services()
    storage.row(svc, dataset_id)
    names = listing.resolve_target(svc, dataset_id, json_body().get("target"))
    return trash.delete_items(svc, dataset_id, names)


# ---- captions, tags, history ---------------------------------------------------------------

@bp.post("/datasets/<dataset_id>/ops")
def batch_op(dataset_id: str):
    body = json_body()
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise ValidationError("params must be an object.", field="params", code="bad_params")
    return ops.run_batch(services(), dataset_id, body.get("op"), params, body.get("target"))


@bp.get("/datasets/<dataset_id>/tags")
def tag_frequency(dataset_id: str):
    args = _args()
    limit = listing.parse_int(args.get("limit"), "limit", 0, 0)
    return ops.tag_frequency(services(), dataset_id, search=args.get("search", ""), sort=args.get("sort", "count"),
                             order=args.get("order"), limit=limit or None, flt=args)


@bp.get("/datasets/<dataset_id>/tags/suggest")
def tag_suggest(dataset_id: str):
    limit = listing.parse_int(request.args.get("limit"), "limit", 20, 1, 200)
    return {"tags": ops.suggest(services(), dataset_id, request.args.get("prefix", ""), limit)}


@bp.get("/datasets/<dataset_id>/history")
def history(dataset_id: str):
    svc = services()
    storage.row(svc, dataset_id)
    return History(svc.store).state(dataset_id)


@bp.post("/datasets/<dataset_id>/undo")
def undo(dataset_id: str):
    return editing.undo(services(), dataset_id)


@bp.post("/datasets/<dataset_id>/redo")
def redo(dataset_id: str):
    return editing.redo(services(), dataset_id)


# ---- import, thumbnails ----------------------------------------------------------------------

@bp.post("/datasets/<dataset_id>/upload")
def upload(dataset_id: str):
    svc = services()
    storage.row(svc, dataset_id)
    form = request.form
    slot = form.get("slot", "media")
    files = request.files.getlist("files")
    paths = form.getlist("paths")
    if paths and len(paths) != len(files):
        raise ValidationError("Send one path per file (or none).", field="paths", code="paths_mismatch")
    if not files and not form.get("upload_id"):
        raise ValidationError("Attach files as 'files'.", field="files", code="files_required")
    new = not form.get("upload_id") or form.get("new", "0").lower() in listing.TRUE
    upload_id = form.get("upload_id") or importer.new_upload_id()
    received = importer.stage_upload(svc.layout, upload_id, [
        (paths[i] if paths else (f.filename or "file"), f.stream) for i, f in enumerate(files)], new=new)
    final = form.get("final", "1").lower() in listing.TRUE
    job = importer.finish_upload(svc, dataset_id, upload_id, slot, final)
    return {"upload_id": upload_id, "received": received, "job": job}, (202 if job else 200)


@bp.delete("/datasets/<dataset_id>/upload/<upload_id>")
def discard_upload(dataset_id: str, upload_id: str):
    svc = services()
    storage.row(svc, dataset_id)
    return importer.discard_upload(svc, dataset_id, upload_id)


@bp.post("/datasets/<dataset_id>/import")
def import_local(dataset_id: str):
    body = json_body()
    job = importer.submit_local(services(), dataset_id, body.get("source"), body.get("path"),
                                body.get("slot", "media"))
    return {"job": job}, 202


@bp.post("/datasets/<dataset_id>/thumbnails")
def make_thumbnails(dataset_id: str):
    return {"job": thumbnails.submit_job(services(), dataset_id)}, 202


# ---- trash ---------------------------------------------------------------------------------

@bp.get("/datasets/<dataset_id>/trash")
def item_trash(dataset_id: str):
    return {"entries": trash.list_items(services(), dataset_id)}


@bp.post("/datasets/<dataset_id>/trash/restore")
def restore_items(dataset_id: str):
    body = json_body()
    return trash.restore_items(services(), dataset_id, ids=body.get("ids"), batch=body.get("batch"))


@bp.post("/datasets/<dataset_id>/trash/empty")
def empty_item_trash(dataset_id: str):
    return trash.empty_items(services(), dataset_id, json_body().get("confirm"))


@bp.get("/trash")
def trash_summary():
    return trash.summary(services())


@bp.post("/trash/datasets/<dataset_id>/purge")
def purge_dataset(dataset_id: str):
    return trash.purge_dataset(services(), dataset_id, json_body().get("confirm"))


@bp.post("/trash/empty")
def empty_trash():
    return trash.empty_all(services(), json_body().get("confirm"))
