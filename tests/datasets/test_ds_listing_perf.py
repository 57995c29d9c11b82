"""The grid's fast paths (issue 19) give the same answers as the slow ones they replaced:
counts kept by triggers equal a fresh aggregate after every kind of write, the default sort is
served by an index, and a page fetched by ids-then-rows equals the plain ORDER BY ... OFFSET."""

from __future__ import annotations

import os
import sqlite3

import pytest
from ds_helpers import make_image

from server.datasets import items, listing, storage
from server.store.migrations import MIGRATIONS, migrate

AGGREGATE = ("SELECT COUNT(*), "
             "COALESCE(SUM(CASE WHEN caption IS NOT NULL AND TRIM(caption) != '' THEN 1 ELSE 0 END), 0), "
             "COALESCE(SUM(broken), 0), COALESCE(SUM(CASE WHEN controls = '[]' THEN 1 ELSE 0 END), 0) "
             "FROM dataset_items WHERE dataset_id = ?")


def _counts(ds) -> tuple:
    got = ds.api.get(ds.base).get_json()["dataset"]
    fresh = ds.svc.store.db.execute(AGGREGATE, [ds.id]).fetchone()
    return (got["item_count"], got["captioned_count"], got["broken_count"]), fresh[:3]


def test_counts_follow_every_kind_of_write(make_ds, src, api):
    ds = make_ds("image_control")
    for i in range(6):
        make_image(src / f"a{i}.png", color=(i * 30, 0, 0))
        if i % 2:
            (src / f"a{i}.txt").write_text(f"tag{i}, solo", encoding="utf-8")
    ds.import_folder(src)
    ds.wait_jobs()
    shown, fresh = _counts(ds)
    assert shown == fresh == (6, 3, 0)

    first = ds.item("a0.png")
    assert api.put(f"{ds.base}/items/{first['id']}/caption", json={"caption": "now, captioned"}).status_code == 200
    assert ds.op("add_tags", {"tags": ["everyone"]}).status_code == 200        # a batch op over all
    items.mark_broken(ds.svc, ds.id, "a2.png", "unreadable")                   # the thumbnailer's mark
    (ds.media / "a3.png").unlink()                                             # gone behind our back
    (ds.media / "a4.txt").write_text("   ", encoding="utf-8")                  # blanked by another tool
    assert api.post(f"{ds.base}/rescan").status_code == 200
    shown, fresh = _counts(ds)
    assert shown == fresh == (5, 4, 1)
    # missing_control_count (shown only for image_control datasets) too: one item gets a control
    make_image(ds.control / "a1.png")
    assert api.post(f"{ds.base}/rescan").status_code == 200
    got = api.get(ds.base).get_json()["dataset"]
    assert got["missing_control_count"] == ds.svc.store.db.execute(AGGREGATE, [ds.id]).fetchone()[3] == 4

    assert api.post(f"{ds.base}/undo").status_code == 200
    shown, fresh = _counts(ds)
    assert shown == fresh


def test_migration_counts_existing_items(tmp_path):
    """A database from before migration 006 gets its counts from the rows it already has."""
    db_path = tmp_path / "old.sqlite3"
    import sqlite_utils

    db = sqlite_utils.Database(sqlite3.connect(str(db_path)))
    for index, step in enumerate(MIGRATIONS[:5]):
        step(db)
        db.execute(f"PRAGMA user_version = {index + 1}")
    rows = [{"dataset_id": "ds_0000000a", "name": f"x{i}.png", "caption": "t" if i % 3 else " ",
             "broken": 1 if i == 4 else 0, "controls": "[]" if i % 2 else '["c.png"]'} for i in range(10)]
    db["dataset_items"].insert_all(rows)
    db.conn.commit()
    migrate(db)
    assert db.execute("SELECT item_count, captioned_count, broken_count, missing_control_count FROM dataset_stats "
                      "WHERE dataset_id = 'ds_0000000a'").fetchone() == (10, 6, 1, 5)
    db.execute("DELETE FROM dataset_items WHERE name = 'x1.png'")
    assert db.execute("SELECT item_count, captioned_count, missing_control_count FROM dataset_stats").fetchone() \
        == (9, 5, 4)


def test_counts_follow_an_item_changed_in_place_and_one_moved(tmp_path):
    """Migration 009's two update triggers: a change within the dataset moves each count by its difference
    (several flags at once, either way), and an item moved to another dataset leaves one and joins the other."""
    from server.store import Store, transaction

    store = Store(tmp_path / "w.db")
    db = store.db
    stats = "SELECT item_count, captioned_count, broken_count, missing_control_count FROM dataset_stats WHERE dataset_id = ?"
    with transaction(db):
        db["dataset_items"].insert_all([{"dataset_id": "ds_0000000a", "name": f"x{i}.png", "caption": None,
                                         "broken": 0, "controls": "[]"} for i in range(3)])
    assert db.execute(stats, ["ds_0000000a"]).fetchone() == (3, 0, 0, 3)
    with transaction(db):
        db.execute("UPDATE dataset_items SET caption = 'a', broken = 1, controls = '[\"c.png\"]' WHERE name = 'x0.png'")
        db.execute("UPDATE dataset_items SET caption = '  ' WHERE name = 'x1.png'")   # blank: not captioned
    assert db.execute(stats, ["ds_0000000a"]).fetchone() == (3, 1, 1, 2)
    with transaction(db):
        db.execute("UPDATE dataset_items SET caption = NULL, broken = 0, controls = '[]' WHERE name = 'x0.png'")
    assert db.execute(stats, ["ds_0000000a"]).fetchone() == (3, 0, 0, 3)
    with transaction(db):
        db.execute("UPDATE dataset_items SET dataset_id = 'ds_0000000b', caption = 'b' WHERE name = 'x2.png'")
    assert db.execute(stats, ["ds_0000000a"]).fetchone() == (2, 0, 0, 2)
    assert db.execute(stats, ["ds_0000000b"]).fetchone() == (1, 1, 0, 1)
    assert db.execute(AGGREGATE, ["ds_0000000b"]).fetchone() == (1, 1, 0, 1)
    store.close()


def test_default_sort_uses_an_index_not_a_sort(svc, ds):
    plan = " ".join(r[3] for r in svc.store.db.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM dataset_items WHERE dataset_id = ? ORDER BY name COLLATE NOCASE ASC, "
        "id ASC LIMIT 200 OFFSET 1000", [ds.id]))
    assert "idx_dataset_items_name_nocase" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("deep_from", [0, 10**9], ids=["ids-first", "plain"])
def test_pages_equal_the_plain_query(ds, svc, api, monkeypatch, deep_from):
    """Every page, in every sort and with a filter, equals ORDER BY ... LIMIT/OFFSET over the rows,
    whether fetched ids-first (deep pages) or plainly."""
    monkeypatch.setattr(listing, "DEEP_OFFSET", deep_from)
    names = ["b.png", "A.png", "a_2.png", "B_1.png", "c.png", "Ä.png", "a.png", "10.png", "9.png", "z z.png"]
    for i, name in enumerate(names):
        make_image(ds.media / name, color=(i * 20, 0, 0), size=(8 + i, 8))
        os.utime(ds.media / name, (1_000_000 + i % 3, 1_000_000 + i % 3))   # ties in mtime: id breaks them
        if i % 2:
            (ds.media / (name[:-4] + ".txt")).write_text("solo", encoding="utf-8")
    assert api.post(f"{ds.base}/rescan").status_code == 200
    db = svc.store.db
    for sort, col in (("name", "name COLLATE NOCASE"), ("mtime", "mtime"), ("size", "size"), ("added", "id")):
        for order in ("asc", "desc"):
            for flt, cond in (({}, ""), ({"q": "solo"}, " AND caption LIKE '%solo%'")):
                expected = [r[0] for r in db.execute(
                    f"SELECT name FROM dataset_items WHERE dataset_id = ?{cond} ORDER BY {col} {order}, id {order}",
                    [ds.id])]
                got = []
                for offset in range(0, len(names), 3):
                    page = ds.items(sort=sort, order=order, limit=3, offset=offset, **flt)
                    assert page["total"] == len(expected)
                    got += [i["name"] for i in page["items"]]
                assert got == expected, (sort, order, flt)


def test_urls_quote_names_as_before(ds):
    """The fast path for plain names and quote() for the rest build the same URLs quote() always did."""
    from urllib.parse import quote

    for name in ("plain_name-1.0~x.png", "空格 和 #?&%.png", "a+b=c;d.png", "a+b.png", "ü.jpg"):
        assert storage.media_url(ds.id, "thumb", name, 5) == f"/media/datasets/{ds.id}/thumb/media/{quote(name)}?v=5"
        assert storage.media_url(ds.id, "file", name) == f"/media/datasets/{ds.id}/media/{quote(name)}"
