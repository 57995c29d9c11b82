"""A grid page's items (built per page from plain tuples, issue 19) are exactly what an item is,
written out here field by field from the stored row: URLs, quoting, versions, tags, controls, flags."""

from __future__ import annotations

import json

import pytest

from server.datasets import items, storage
from server.datasets.tags import split_tags


def _expected(ds: dict, row: dict) -> dict:
    controls = json.loads(row["controls"] or "[]")
    return {
        "id": row["id"], "name": row["name"], "kind": row["kind"], "size": row["size"], "mtime": row["mtime"],
        "caption": row["caption"], "has_caption": bool(row["caption"] and row["caption"].strip()),
        "tags": split_tags(row["caption"] or ""),
        "width": row["width"], "height": row["height"], "duration": row["duration"], "fps": row["fps"],
        "frames": row["frames"], "broken": bool(row["broken"]), "error": row["error"],
        "unsupported": row["kind"] != ("video" if ds["type"] == "video" else "image"),
        "controls": [{"name": c, "url": storage.media_url(ds["id"], "file", c, slot="control"),
                      "thumb_url": storage.media_url(ds["id"], "thumb", c, slot="control")} for c in controls],
        "missing_control": ds["type"] == "image_control" and not controls,
        "url": storage.media_url(ds["id"], "file", row["name"], row["mtime_ns"]),
        "thumb_url": storage.media_url(ds["id"], "thumb", row["name"], row["mtime_ns"]),
    }


ROWS = [
    # name, kind, caption, mtime_ns, controls, broken
    ("plain.png", "image", "1girl, solo ,  smile,", 1700000000123456789, "[]", 0),
    ("with space 日本.jpg", "image", "   ", 5, '["with space 日本.png", "c #1.png"]', 0),
    ("a%b?c.webp", "image", None, 0, "[]", 1),
    ("clip.mp4", "video", "a video", None, "[]", 0),
]


@pytest.mark.parametrize("ds_type", ["image", "image_control"])
def test_page_items_are_the_rows_written_out(make_ds, ds_type):
    ds = make_ds(ds_type)
    rows = [{"dataset_id": ds.id, "name": n, "stem": n.rsplit(".", 1)[0], "kind": k, "size": 100 + i,
             "mtime": 1.5 + i, "mtime_ns": v, "caption": c, "caption_mtime_ns": None, "caption_size": None,
             "tags_key": items.tags_key(c), "width": 10 * i or None, "height": 7,
             "duration": 1.25 if k == "video" else None, "fps": 24.0 if k == "video" else None,
             "frames": 30 if k == "video" else None, "controls": ctl, "broken": b, "error": "bad" if b else None}
            for i, (n, k, c, v, ctl, b) in enumerate(ROWS)]
    items._write_rows(ds.svc.store.db, ds.id, rows, [])
    page = ds.items(limit=10)
    stored = items._rows_by_name(ds.svc.store.db, ds.id)
    assert [i["name"] for i in page["items"]] == sorted(stored, key=str.lower)
    for got in page["items"]:
        assert got == _expected(page["dataset"], stored[got["name"]])
    # One item on its own (GET /items/<id>) is the same object.
    one = ds.api.get(f"{ds.base}/items/{page['items'][1]['id']}").get_json()["item"]
    assert one == page["items"][1]
