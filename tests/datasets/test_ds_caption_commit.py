"""A caption change commits twice: the journal before the files are written, then the index, the step
and the dataset's timestamp together. A failure before that last commit leaves none of them half done:
the step stays pending with its journal, and start-up recovery finishes it (issue 19)."""

from __future__ import annotations

import os

import pytest

from server import create_app
from server.datasets import captions, editing, items, recovery, storage
from server.datasets.history import History
from server.store import transaction

from ds_helpers import make_image


@pytest.fixture
def one_item(tmp_path):
    app = create_app(data_dir=tmp_path / "commit-data", token="t", testing=True, gpu_provider="none")
    svc = app.extensions["workbench"]
    ds_id = storage.create(svc, "Commit", "image")["id"]
    media = storage.dataset_dirs(svc.layout, ds_id).media
    make_image(media / "a.png", size=(16, 16))
    (media / "a.txt").write_text("old", encoding="utf-8")
    items.rescan(svc, ds_id)
    yield svc, ds_id, media
    svc.shutdown()


def indexed(svc, ds_id) -> str | None:
    return svc.store.db.execute("SELECT caption FROM dataset_items WHERE dataset_id = ? AND name = 'a.png'",
                                [ds_id]).fetchone()[0]


def test_a_failure_before_the_last_commit_leaves_the_step_to_recovery(one_item, monkeypatch):
    svc, ds_id, media = one_item
    stamp = storage.row(svc, ds_id)["updated_at"]

    def disk_gone(*_a, **_k):
        raise OSError("the disk went away")

    monkeypatch.setattr(storage, "touch", disk_gone)   # the last write of the finishing transaction
    with pytest.raises(OSError):
        editing.apply_captions(svc, ds_id, {"a.png": "new"}, "Edit")
    monkeypatch.undo()
    assert captions.read(media, "a.png") == "new"          # the file was written...
    assert indexed(svc, ds_id) == "old"                     # ...but the index update was not committed alone
    pending = History(svc.store).pending_steps()
    assert [(p["pending"], p["journal"]) for p in pending] == [("apply", [{"name": "a.png", "src": "old",
                                                                           "dst": "new"}])]
    recovery.run(svc)
    assert indexed(svc, ds_id) == "new" and History(svc.store).pending_steps() == []
    assert History(svc.store).changes(History(svc.store).next_undo(ds_id)["id"]) == [
        {"name": "a.png", "before": "old", "after": "new"}]
    assert storage.row(svc, ds_id)["updated_at"] >= stamp


def test_recovery_indexes_the_journaled_text_even_when_the_file_kept_its_stat(one_item, monkeypatch):
    """"old" -> "new" is the same length; written within one tick of the file system's clock, the file keeps
    the stat the index has for "old". Recovery must not take the stat's word for it."""
    svc, ds_id, media = one_item
    cap = media / "a.txt"
    before = cap.stat()
    monkeypatch.setattr(storage, "touch", lambda *_a, **_k: (_ for _ in ()).throw(OSError("the disk went away")))
    with pytest.raises(OSError):
        editing.apply_captions(svc, ds_id, {"a.png": "new"}, "Edit")
    monkeypatch.undo()
    os.utime(cap, ns=(before.st_atime_ns, before.st_mtime_ns))   # the same tick as the indexed "old"
    assert (cap.stat().st_mtime_ns, cap.stat().st_size) == (before.st_mtime_ns, before.st_size)
    recovery.run(svc)
    assert indexed(svc, ds_id) == "new"


def test_a_caption_save_commits_twice(one_item):
    svc, ds_id, _media = one_item
    commits = []
    svc.store.db.conn.set_trace_callback(lambda sql: commits.append(sql) if sql.strip() == "COMMIT" else None)
    try:
        editing.transform_captions(svc, ds_id, ["a.png"], lambda _n, _t: "newer", "Edit", kind="edit", coalesce=True)
    finally:
        svc.store.db.conn.set_trace_callback(None)
    assert len(commits) == 2 and indexed(svc, ds_id) == "newer"


def test_transaction_is_atomic_and_nests(one_item):
    svc, ds_id, _media = one_item
    db = svc.store.db
    with pytest.raises(RuntimeError):
        with transaction(db):
            db.execute("UPDATE datasets SET name = 'A' WHERE id = ?", [ds_id])   # sqlite-utils alone commits this
            with transaction(db):
                db.execute("UPDATE datasets SET name = 'B' WHERE id = ?", [ds_id])
            assert db.conn.in_transaction   # the inner block did not commit the outer one
            raise RuntimeError
    assert storage.row(svc, ds_id)["name"] == "Commit"


def test_an_index_update_that_fails_half_way_changes_nothing(one_item):
    """A rescan's index write (removed names deleted, rows upserted) is one transaction: a row that cannot be
    stored leaves the index as it was, not with the deletes done and half the rows written."""
    svc, ds_id, _media = one_item
    db = svc.store.db
    good = {"dataset_id": ds_id, "name": "b.png", "kind": "image"}
    unstorable = {"dataset_id": ds_id, "name": "c.png", "kind": {"not": "a column value"}}
    with pytest.raises(Exception):
        items._write_rows(db, ds_id, [good, unstorable], removed=["a.png"])
    names = [r[0] for r in db.execute("SELECT name FROM dataset_items WHERE dataset_id = ? ORDER BY name", [ds_id])]
    assert names == ["a.png"]
