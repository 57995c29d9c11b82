"""Paging, searching and sorting the item index, and turning "the selection" into item names.

A filter is a dict (from query args or a JSON body):
    q             text to search for (case-insensitive substring)
    in            where to look for q: "all" (default), "name" or "caption"
    tag           exact tag (case-insensitive)
    no_caption    true: only items without caption text
    broken        true: only unreadable items
    missing_control  true: only items without a control image
    kind          "image" or "video"
    names         only these file names: a list (JSON body) or one per line (query args); the
                  pre-flight report links its findings to the grid this way
A target (what a batch operation applies to) is one of {"ids": [...]}, {"names": [...]},
{"filter": {...}} or {"all": true}; the filter form is how "select all matching" works without
the UI ever holding 10,000 ids.
"""

from __future__ import annotations

from . import items, storage
from .errors import ValidationError

SORTS = {"name": "name COLLATE NOCASE", "mtime": "mtime", "size": "size", "added": "id"}
MAX_LIMIT = 500
DEEP_OFFSET = 2000   # from here on a page is fetched ids-first (see page())
DEFAULT_LIMIT = 100
MAX_NAMES = 500   # sqlite's host-parameter limit is far above; a URL with more would be too long anyway
TRUE = ("1", "true", "yes", "on")


def _flag(value) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE if value is not None else False


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def where(dataset_id: str, flt: dict | None) -> tuple[str, list]:
    flt = flt or {}
    if not isinstance(flt, dict):
        raise ValidationError("The filter must be an object.", field="filter", code="bad_filter")
    sql, args = ["dataset_id = ?"], [dataset_id]
    q = str(flt.get("q") or "").strip()
    if q:
        where_in = flt.get("in") or "all"
        cols = {"all": ("name", "caption"), "name": ("name",), "caption": ("caption",)}.get(where_in)
        if cols is None:
            raise ValidationError("'in' must be all, name or caption.", field="in", code="bad_filter")
        sql.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in cols) + ")")
        args += [_like(q)] * len(cols)
    tag = str(flt.get("tag") or "").strip()
    if tag:
        sql.append("tags_key LIKE ? ESCAPE '\\'")
        args.append(_like("," + tag.lower() + ","))
    if _flag(flt.get("no_caption")):
        sql.append("(caption IS NULL OR TRIM(caption) = '')")
    if _flag(flt.get("broken")):
        sql.append("broken = 1")
    if _flag(flt.get("missing_control")):
        sql.append("controls = '[]'")
    names = flt.get("names")
    if names:
        if isinstance(names, str):
            names = [n for n in names.split("\n") if n]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > MAX_NAMES:
            raise ValidationError(f"names must be at most {MAX_NAMES} file names.", field="names", code="bad_filter")
        sql.append(f"name IN ({', '.join('?' * len(names))})")
        args += names
    kind = flt.get("kind")
    if kind:
        if kind not in ("image", "video"):
            raise ValidationError("kind must be image or video.", field="kind", code="bad_filter")
        sql.append("kind = ?")
        args.append(kind)
    return " AND ".join(sql), args


def parse_int(value, field: str, default: int, lo: int = 0, hi: int | None = None) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be a whole number.", field=field, code="bad_number") from None
    hi = items.MAX_ROW_ID if hi is None else hi  # beyond this sqlite cannot take the number at all
    if n < lo or n > hi:
        limits = f"between {lo} and {hi}"
        raise ValidationError(f"{field} must be {limits}.", field=field, code="bad_number")
    return n


def order_by(sort: str | None, order: str | None) -> str:
    sort = sort or "name"
    if sort not in SORTS:
        raise ValidationError(f"sort must be one of {', '.join(SORTS)}.", field="sort", code="bad_sort")
    direction = (order or "asc").lower()
    if direction not in ("asc", "desc"):
        raise ValidationError("order must be asc or desc.", field="order", code="bad_sort")
    return f"{SORTS[sort]} {direction.upper()}, id {direction.upper()}"


def page(svc, dataset_id: str, args: dict) -> dict:
    """One page of items. Accepts offset/limit or page (1-based)/limit."""
    ds = storage.get(svc, dataset_id)
    limit = parse_int(args.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if args.get("page") not in (None, ""):
        offset = (parse_int(args.get("page"), "page", 1, 1, items.MAX_ROW_ID // MAX_LIMIT) - 1) * limit
    else:
        offset = parse_int(args.get("offset"), "offset", 0, 0)
    cond, params = where(dataset_id, args)
    db = svc.store.db
    # Unfiltered, the total is the dataset's maintained item count (storage._stats): no COUNT over 100k rows.
    total = ds["item_count"] if cond == "dataset_id = ?" else \
        db.execute(f"SELECT COUNT(*) FROM dataset_items WHERE {cond}", params).fetchone()[0]
    order = order_by(args.get("sort"), args.get("order"))
    cols = ", ".join(items.PUBLIC_COLUMNS)   # only what an item shows, as plain tuples
    if offset < DEEP_OFFSET:
        sql = f"SELECT {cols} FROM dataset_items WHERE {cond} ORDER BY {order} LIMIT ? OFFSET ?"
    else:
        # A deep page: its ids first, then its rows. Skipping `offset` rows then walks only the index (it
        # covers dataset_id + sort key + id), not 100,000 table rows; near the top the plain query is cheaper.
        sql = (f"SELECT {cols} FROM dataset_items WHERE id IN (SELECT id FROM dataset_items WHERE {cond} "
               f"ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}")
    rows = items.public_rows(ds, db.conn.execute(sql, params + [limit, offset]).fetchall())
    return {"items": rows, "total": total, "offset": offset, "limit": limit, "dataset": ds}


def matching(svc, dataset_id: str, flt: dict | None, sort: str | None = None, order: str | None = None) -> list[tuple[int, str]]:
    storage.row(svc, dataset_id)
    cond, params = where(dataset_id, flt)
    return [tuple(r) for r in svc.store.db.execute(
        f"SELECT id, name FROM dataset_items WHERE {cond} ORDER BY {order_by(sort, order)}", params)]


def resolve_target(svc, dataset_id: str, target) -> list[str]:
    """Item names for a target; unknown ids are refused so a stale selection is noticed."""
    if not isinstance(target, dict):
        raise ValidationError("Say which items: {ids}, {names}, {filter} or {all: true}.", field="target",
                              code="bad_target")
    if "ids" in target:
        ids = target["ids"]
        if not isinstance(ids, list) or not all(items.is_row_id(i) for i in ids):
            raise ValidationError("ids must be a list of item ids.", field="ids", code="bad_target")
        found: dict[int, str] = {}
        db = svc.store.db
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            found.update(db.execute(
                f"SELECT id, name FROM dataset_items WHERE dataset_id = ? AND id IN ({','.join('?' * len(chunk))})",
                [dataset_id, *chunk]).fetchall())
        unknown = [i for i in ids if i not in found]
        if unknown:
            raise ValidationError(f"{len(unknown)} selected item(s) are no longer in the dataset; reload the list.",
                                  field="ids", code="unknown_items", details={"ids": unknown[:100]})
        return [found[i] for i in dict.fromkeys(ids)]
    if "names" in target:
        names = target["names"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValidationError("names must be a list of file names.", field="names", code="bad_target")
        known = items.rows_by_names(svc, dataset_id, names)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValidationError(f"{len(unknown)} item(s) are not in the dataset.", field="names",
                                  code="unknown_items", details={"names": unknown[:100]})
        return list(dict.fromkeys(names))
    if "filter" in target:
        return [n for _, n in matching(svc, dataset_id, target["filter"])]
    if target.get("all") is True:
        return [n for _, n in matching(svc, dataset_id, None)]
    raise ValidationError("Say which items: {ids}, {names}, {filter} or {all: true}.", field="target",
                          code="bad_target")
