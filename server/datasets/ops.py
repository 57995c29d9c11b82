"""Caption and tag edits as the API offers them: one item, or a batch over a target.

Each call reads the affected captions from disk, applies a pure function from `tags.py` and
hands the result to `editing.transform_captions`, which writes, indexes and records ONE undo
step. The step's `op` (the batch op's name, edit_caption, edit_tags) and `params` are what the UI
translates and shows next to undo/redo; the English label is for logs.
"""

from __future__ import annotations

from . import editing, items, listing, storage, tags
from .errors import ItemMissing, ValidationError


def run_batch(svc, dataset_id: str, op: str, params: dict | None, target) -> dict:
    storage.row(svc, dataset_id)
    fn = tags.op_function(op, params or {})
    names = listing.resolve_target(svc, dataset_id, target)
    result = editing.transform_captions(svc, dataset_id, names, lambda _n, text: fn(text), tags.LABELS[op],
                                        op=op, params=params)
    del result["items"]   # the page reloads what it shows from the events
    return {**result, "targeted": len(names)}


def _item(svc, dataset_id: str, item_id) -> tuple[dict, dict]:
    """The dataset's row (the item needs only its id and type, not the counts) and the item's.
    Whether its file is still there, transform_captions finds out (and _result reports)."""
    return storage.row(svc, dataset_id), items.get_row(svc, dataset_id, item_id)


def _result(svc, dataset_id: str, ds: dict, row: dict, result: dict) -> dict:
    if result["missing"]:
        raise ItemMissing(row["name"])   # another tool deleted the file: its row is gone now
    item = result["items"].get(row["name"])   # as the event carried it, when the caption changed
    if item is None:
        item = items.public(ds, items.get_row(svc, dataset_id, row["id"]))
    return {"item": item, "step": result["step"]}


def set_caption(svc, dataset_id: str, item_id, text, expected=...) -> dict:
    """The caption box's autosave. `expected` (optional) is the text the edit started from."""
    if not isinstance(text, str):
        raise ValidationError("The caption must be text.", field="caption", code="bad_text")
    ds, row = _item(svc, dataset_id, item_id)
    exp = None if expected is ... else {row["name"]: expected}
    result = editing.transform_captions(svc, dataset_id, [row["name"]],
                                        lambda _n, _old: tags.set_caption("", text),
                                        f"Edit caption of {row['name']}", kind="edit", coalesce=True, expected=exp,
                                        op="edit_caption", params={"name": row["name"]})
    return _result(svc, dataset_id, ds, row, result)


def set_tags(svc, dataset_id: str, item_id, new_tags) -> dict:
    """The tag editor: the item's full tag list in its new order (reorder, remove or add a chip)."""
    if not isinstance(new_tags, list) or not all(isinstance(t, str) for t in new_tags):
        raise ValidationError("tags must be a list of strings.", field="tags", code="bad_tags")
    clean = [t for raw in new_tags for t in tags.split_tags(raw)]
    ds, row = _item(svc, dataset_id, item_id)
    result = editing.transform_captions(svc, dataset_id, [row["name"]], lambda _n, _old: tags.join_tags(clean),
                                        f"Edit tags of {row['name']}", op="edit_tags",
                                        params={"name": row["name"]})
    return _result(svc, dataset_id, ds, row, result)


def tag_frequency(svc, dataset_id: str, *, search: str = "", sort: str = "count", order: str | None = None,
                  limit: int | None = None, flt: dict | None = None) -> dict:
    """(tag, count) over the dataset (or the items matching a filter); count = items having the tag."""
    storage.row(svc, dataset_id)
    cond, params = listing.where(dataset_id, flt or {})
    counts = tags.frequency(r[0] for r in svc.store.db.execute(
        f"SELECT caption FROM dataset_items WHERE {cond}", params))
    needle = (search or "").strip().lower()
    rows = [{"tag": t, "count": c} for t, c in counts.items() if not needle or needle in t.lower()]
    if sort not in ("count", "tag"):
        raise ValidationError("sort must be count or tag.", field="sort", code="bad_sort")
    desc = (order or ("desc" if sort == "count" else "asc")) == "desc"
    if sort == "count":
        rows.sort(key=lambda r: (-r["count"] if desc else r["count"], r["tag"].casefold()))
    else:
        rows.sort(key=lambda r: r["tag"].casefold(), reverse=desc)
    total = len(rows)
    return {"tags": rows[:limit] if limit else rows, "total": total}


def suggest(svc, dataset_id: str, prefix: str, limit: int = 20) -> list[dict]:
    """Autocomplete from the dataset's own vocabulary: prefix matches first, then substring, by count."""
    prefix = (prefix or "").strip().lower()
    freq = tag_frequency(svc, dataset_id)["tags"]
    if not prefix:
        return freq[:limit]
    starts = [r for r in freq if r["tag"].lower().startswith(prefix)]
    inside = [r for r in freq if prefix in r["tag"].lower() and not r["tag"].lower().startswith(prefix)]
    return (starts + inside)[:limit]
