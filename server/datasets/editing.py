"""Changing captions on disk, the index and the undo history together.

`apply_captions(svc, dataset_id, {name: text}, label, op=..., params=...)` is the entry point for anything that
rewrites captions - single edits, batch tag ops, an auto-tagging job: it reads the current text
from disk (the truth, other tools may have changed it), writes the new text atomically, updates
the index, records ONE undo step and publishes the change. Undo/redo live here as well because
they are caption writes too.
"""

from __future__ import annotations

from typing import Callable

from . import captions, items, storage
from .errors import CaptionChanged, Conflict
from .history import History

# Batch events name the items when few changed; past this the UI reloads its page.
ITEM_EVENT_MAX = 50
# Up to this many files per operation are fsynced one by one; larger batches rely on the atomic
# rename alone (see captions.write_atomic), which keeps a 10,000-item op in seconds.
FSYNC_MAX = 50


def _publish(svc, dataset_id: str, names: list[str]) -> None:
    if not names:
        return
    t = storage.topic(dataset_id)
    if len(names) <= ITEM_EVENT_MAX:
        ds = storage.row(svc, dataset_id)
        for name, row in items.rows_by_names(svc, dataset_id, names).items():
            svc.bus.publish(t, "item_updated", items.public(ds, row))
    else:
        svc.bus.publish(t, "items_updated", {"count": len(names), "names": names[:items.EVENT_NAMES_MAX]})


def transform_captions(svc, dataset_id: str, names: list[str], fn: Callable[[str, str | None], str | None],
                       label: str, *, kind: str = "op", coalesce: bool = False, expected: dict | None = None,
                       record: bool = True, op: str | None = None, params: dict | None = None) -> dict:
    """Apply `fn(name, current_text) -> new_text` to each named item.

    Items whose media file is gone are skipped and reported (and dropped from the index).
    `expected` maps name -> the text the caller based its edit on; a different text on disk means
    someone else changed it, and the write is refused with 409 rather than losing their edit.
    `op`/`params` name the step for the UI (see history.py); `label` is its English description.
    """
    dirs = storage.dataset_dirs(svc.layout, dataset_id)
    changes, missing = [], []
    with storage.dataset_lock(dirs):
        for name in names:
            if not (dirs.media / name).is_file():
                missing.append(name)
                continue
            before = captions.read(dirs.media, name)
            if expected and name in expected and (expected[name] or "") != (before or ""):
                raise CaptionChanged(name, before)
            after = fn(name, before)
            if before is None and after == "":
                after = None  # an op that leaves nothing does not create an empty caption file
            if after != before:
                changes.append({"name": name, "before": before, "after": after})
        fsync = len(changes) <= FSYNC_MAX
        for c in changes:
            captions.write(dirs.media, c["name"], c["after"], fsync=fsync)
        items.set_caption_rows(svc, dataset_id, [(c["name"], c["after"]) for c in changes])
        step = History(svc.store).record_step(dataset_id, label, changes, kind=kind, coalesce=coalesce,
                                              op=op, params=params) if record else None
    if missing:
        items.refresh(svc, dataset_id, missing)
    if changes:
        storage.touch(svc, dataset_id)
    _publish(svc, dataset_id, [c["name"] for c in changes])
    if record:
        publish_history(svc, dataset_id)
    return {"step": step, "changed": len(changes), "unchanged": len(names) - len(changes) - len(missing),
            "missing": missing}


def apply_captions(svc, dataset_id: str, texts: dict[str, str], label: str, *, kind: str = "op",
                   op: str | None = None, params: dict | None = None) -> dict:
    """Write these captions as one undoable step."""
    return transform_captions(svc, dataset_id, list(texts), lambda name, _old: texts[name], label, kind=kind,
                              op=op, params=params)


def publish_history(svc, dataset_id: str) -> None:
    """`history` on dataset:<id>: {can_undo, can_redo, undo: Step|null, redo: Step|null}, as GET history."""
    svc.bus.publish(storage.topic(dataset_id), "history", History(svc.store).pointers(dataset_id))


def _replay(svc, dataset_id: str, step: dict, direction: str) -> dict:
    """Write one side of a step. An item whose caption changed since the step (another tool, or
    an edit outside the history) is left alone and reported, so undo never destroys newer text."""
    h = History(svc.store)
    changes = h.changes(step["id"])
    src, dst = ("after", "before") if direction == "undo" else ("before", "after")
    want = {c["name"]: c for c in changes}
    conflicts: list[str] = []

    def fn(name, current):
        c = want[name]
        if (current or None) != (c[src] or None):
            conflicts.append(name)
            return current
        return c[dst]

    result = transform_captions(svc, dataset_id, list(want), fn, step["label"], record=False)
    h.mark(step["id"], undone=(direction == "undo"))
    publish_history(svc, dataset_id)
    return {"step": h.step(step["id"]), "changed": result["changed"], "missing": result["missing"],
            "conflicts": conflicts}


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
