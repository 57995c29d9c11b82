"""Import and thumbnail jobs: cancel mid-way, one thumbnail job per dataset, schema slot."""

import pytest

from server.datasets import importer
from server.jobs import JobCancelled
from server.store.migrations import MIGRATIONS

from ds_helpers import make_image


class CancelAfter:
    """A job context that asks to stop after `n` files, like the user pressing Cancel."""

    id = "test"

    def __init__(self, n):
        self.n = n
        self.calls = 0
        self.progressed = []

    def check(self):
        self.calls += 1
        if self.calls > self.n:
            raise JobCancelled()

    def progress(self, done=None, total=None, message=None, force=False, *, message_code=None, params=None):
        self.progressed.append((done, total))


def test_cancelled_import_keeps_and_lists_what_it_copied(ds, src, svc):
    for i in range(10):
        make_image(src / f"p{i}.png", color=(i, 0, 0))
    ctx = CancelAfter(3)
    with pytest.raises(JobCancelled):
        importer.run_import(svc, ds.id, importer.folder_entries(src), "media", ctx)
    assert ds.items()["total"] == 3
    assert len([p for p in ds.media.iterdir() if not p.name.startswith(".")]) == 3
    assert ctx.progressed[0] == (0, 10)
    # Nothing is left claimed, and importing again copies only the rest: the 3 already there are
    # recognised by content (not copied again as p0_1.png...).
    report = ds.import_folder(src)
    assert report["imported"] == 7 and report["duplicates"] == 3 and report["renamed"] == []
    assert ds.items()["total"] == 10


def test_import_job_cancel_through_api(ds, src, svc, api):
    for i in range(40):
        make_image(src / f"q{i}.png")
    r = api.post(f"{ds.base}/import", json={"source": "folder", "path": str(src)})
    job_id = r.get_json()["job"]["id"]
    api.post(f"/api/jobs/{job_id}/cancel")
    job = svc.jobs.wait(job_id)
    assert job["status"] in ("cancelled", "done")
    assert ds.items()["total"] == len([p for p in ds.media.iterdir() if not p.name.startswith(".")])


def test_one_thumbnail_job_at_a_time(filled, api, svc):
    import threading
    gate = threading.Event()
    blocker = svc.jobs.submit("thumbnails", "busy", lambda ctx: gate.wait(5), owner=f"dataset:{filled.id}")
    try:
        r = api.post(f"{filled.base}/thumbnails")
        assert r.status_code == 409 and r.get_json()["error"]["code"] == "job_busy"
    finally:
        gate.set()
        svc.jobs.wait(blocker["id"])
    job = svc.jobs.wait(api.post(f"{filled.base}/thumbnails").get_json()["job"]["id"])
    assert job["status"] == "done" and job["result"]["total"] == 4


def test_schema_slot_two_is_datasets():
    assert MIGRATIONS[1].__name__ == "_m002_datasets"


def test_history_and_trash_unknown_dataset(api):
    for method, path in [("get", "history"), ("post", "undo"), ("post", "redo"), ("get", "trash"),
                         ("post", "rescan"), ("post", "thumbnails"), ("get", "tags"), ("get", "items/ids")]:
        r = getattr(api, method)(f"/api/datasets/ds_12345678/{path}")
        assert r.status_code == 404 and r.get_json()["error"]["code"] == "dataset_not_found", path
