"""Changing captions on disk, the index and the undo history together.

`apply_captions(svc, dataset_id, {name: text}, label, op=..., params=...)` is the entry point for anything that
rewrites captions - single edits, batch tag ops: it reads the current text from disk (the truth,
other tools may have changed it), records ONE undo step with every before-value as pending (the
journal), writes the new text atomically, then updates the index and completes the step, and
publishes the change. Undo/redo live here as well because they are caption writes too; an
auto-tagging run journals item by item through the same History calls (tagging/job.py).
"""

from __future__ import annotations

from typing import Callable

from ..store import transaction
from . import captions, items, storage, testpoint
from .errors import CaptionChanged, Conflict
from .history import History

# Batch events name the items when few changed; past this the UI reloads its page.
ITEM_EVENT_MAX = 50
# Up to this many files per operation are fsynced one by one; larger batches rely on the atomic
# rename alone (see captions.write_atomic), which keeps a 10,000-item op in seconds.
FSYNC_MAX = 50


def publish_items(svc, dataset_id: str, names: list[str]) -> dict[str, dict]:
    """Tell the dataset's pages these items changed; returns the items it sent, by name (none past
    ITEM_EVENT_MAX, where one event only counts them)."""
    if not names:
        return {}
    t = storage.topic(dataset_id)
    if len(names) > ITEM_EVENT_MAX:
        svc.bus.publish(t, "items_updated", {"count": len(names), "names": names[:items.EVENT_NAMES_MAX]})
        return {}
    ds = storage.row(svc, dataset_id)
    sent = {}
    for name, row in items.rows_by_names(svc, dataset_id, names).items():
        sent[name] = items.public(ds, row)
        svc.bus.publish(t, "item_updated", sent[name])
    return sent


def write_error(name: str, exc: OSError) -> dict:
    """A caption that could not be written (its path is a folder, a read-only or locked file...)."""
    return {"name": name, "code": "caption_write_failed",
            "message": f"Could not write the caption of {name} ({exc.strerror or type(exc).__name__})."}


def write_journaled(svc, dataset_id: str, writes: list[dict], *, fsync: bool) -> list[dict]:
    """Write captions ({name, after}) whose step is journaled already, one by one; returns the errors.
    One unwritable caption does not stop the others: each is reported and left out of the step."""
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    errors = []
    for w in writes:
        try:
            captions.write(dirs.media, w["name"], w["after"], fsync=fsync)
        except OSError as exc:
            errors.append(write_error(w["name"], exc))
            continue
        testpoint.reached("caption_written")
    return errors


def transform_captions(svc, dataset_id: str, names: list[str], fn: Callable[[str, str | None], str | None],
                       label: str, *, kind: str = "op", coalesce: bool = False, expected: dict | None = None,
                       op: str | None = None, params: dict | None = None) -> dict:
    """Apply `fn(name, current_text) -> new_text` to each named item, as ONE undo step.

    The step and its before-values are recorded first (pending), then the files are written, then the
    index and the step are completed together; a crash in between is finished at the next start
    (recovery.py). Items whose media file is gone are skipped and reported (and dropped from the index).
    `expected` maps name -> the text the caller based its edit on; a different text on disk means
    someone else changed it, and the write is refused with 409 rather than losing their edit.
    `op`/`params` name the step for the UI (see history.py); `label` is its English description.
    A caption that cannot be written is listed in `errors`; the step keeps what did change. `items` holds
    the changed items as the API shows them, for up to ITEM_EVENT_MAX of them (those the event carried).
    """
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    changes, missing = [], []
    h = History(svc.store)
    step, errors = None, []
    with storage.dataset_lock(dirs):
        for name in names:
            if not (dirs.media / name).is_file():
                missing.append(name)
                continue
            before, too_large = captions.read_for_edit(dirs.media, name)
            if too_large:
                errors.append({"name": name, "code": "caption_too_large",
                               "message": f"The caption of {name} is larger than a caption may be; "
                                          "it was left as it is."})
                continue
            if expected and name in expected and (expected[name] or "") != (before or ""):
                raise CaptionChanged(name, before)
            after = fn(name, before)
            if before is None and after == "":
                after = None  # an op that leaves nothing does not create an empty caption file
            if after != before:
                changes.append({"name": name, "before": before, "after": after})
        opened = h.open_step(dataset_id, label, changes, kind=kind, coalesce=coalesce, op=op, params=params)
        if opened:
            testpoint.reached("step_opened")
            errors += write_journaled(svc, dataset_id, changes, fsync=len(changes) <= FSYNC_MAX)
            failed = {e["name"] for e in errors}
            changes = [c for c in changes if c["name"] not in failed]
            # Index, step and dataset in one commit: the journal (committed above) covers the files
            # until then, and a crash before it is finished from the journal (recovery.py).
            with transaction(svc.store.db):
                items.set_caption_rows(svc, dataset_id, [(c["name"], c["after"]) for c in changes])
                step = h.close(*opened, failed=failed)
                if changes:
                    storage.touch(svc, dataset_id)
    if missing:
        items.refresh(svc, dataset_id, missing)
    sent = publish_items(svc, dataset_id, [c["name"] for c in changes])
    # An edit merged into the step it continues leaves undo/redo as they were (the same step, no redo).
    if opened and not (step and step.get("merged") and step["id"] is not None):
        publish_history(svc, dataset_id)
    return {"step": step, "changed": len(changes), "unchanged": len(names) - len(changes) - len(missing) - len(errors),
            "missing": missing, "errors": errors, "items": sent}


def apply_captions(svc, dataset_id: str, texts: dict[str, str], label: str, *, kind: str = "op",
                   op: str | None = None, params: dict | None = None) -> dict:
    """Write these captions as one undoable step."""
    return transform_captions(svc, dataset_id, list(texts), lambda name, _old: texts[name], label, kind=kind,
                              op=op, params=params)


def publish_history(svc, dataset_id: str) -> None:
    """`history` on dataset:<id>: {can_undo, can_redo, undo: Step|null, redo: Step|null}, as GET history."""
    svc.bus.publish(storage.topic(dataset_id), "history", History(svc.store).pointers(dataset_id))


def _replay(svc, dataset_id: str, step: dict, direction: str) -> dict:
    """Write one side of a step, journaled like any change. An item whose caption changed since the
    step (another tool, or an edit outside the history) is left alone and reported, so undo never
    destroys newer text."""
    h = History(svc.store)
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    src, dst = ("after", "before") if direction == "undo" else ("before", "after")
    conflicts, missing, writes = [], [], []
    with storage.dataset_lock(dirs):
        for c in h.changes(step["id"]):
            if not (dirs.media / c["name"]).is_file():
                missing.append(c["name"])
                continue
            current = captions.read(dirs.media, c["name"])
            if (current or None) != (c[src] or None):
                conflicts.append(c["name"])
            elif current != c[dst]:
                writes.append({"name": c["name"], "before": current, "after": c[dst]})
        h.open_replay(dataset_id, step["id"], direction, writes)
        errors = write_journaled(svc, dataset_id, writes, fsync=len(writes) <= FSYNC_MAX)
        failed = {e["name"] for e in errors}
        writes = [w for w in writes if w["name"] not in failed]
        with transaction(svc.store.db):   # as in transform_captions
            items.set_caption_rows(svc, dataset_id, [(w["name"], w["after"]) for w in writes])
            h.close(step["id"])
            if writes:
                storage.touch(svc, dataset_id)
    if missing:
        items.refresh(svc, dataset_id, missing)
    publish_items(svc, dataset_id, [w["name"] for w in writes])
    publish_history(svc, dataset_id)
    return {"step": h.step(step["id"]), "changed": len(writes), "missing": missing, "conflicts": conflicts,
            "errors": errors}


def undo(svc, dataset_id: str) -> dict:
    storage.row(svc, dataset_id)
    step = History(svc.store).next_undo(dataset_id)
    if step is None:
        raise Conflict("There is nothing to undo.", code="nothing_to_undo")
    return _replay(svc, dataset_id, step, "undo")


def redo(svc, dataset_id: str) -> dict:
    storage.row(svc, dataset_id)
    step = History(svc.store).next_redo(dataset_id)
    if step is None:
        raise Conflict("There is nothing to redo.", code="nothing_to_redo")
    return _replay(svc, dataset_id, step, "redo")
