"""A failed job says why with a code and parameters the UI translates (server/jobs/failures.py, or an
ApiError's code and details), stored with the job and published, the English kept as `error` (issue 13,
item 6: no English sentence on a zh-CN screen)."""

from __future__ import annotations

import sqlite_utils

from server.datasets import importer, storage
from server.errors import ValidationError
from server.jobs import JobError, JobFailed
from server.store.migrations import MIGRATIONS, migrate


def run(svc, fn):
    return svc.jobs.wait(svc.jobs.submit("demo", "Demo", fn)["id"])


def test_a_known_failure_point_keeps_its_code_params_and_english(svc, api):
    sub = svc.bus.subscription()
    sub.subscribe("jobs")

    def work(ctx):
        raise JobError("rt_step_failed", {"what": "pip install torch", "exit_code": 1})

    job = run(svc, work)
    assert job["status"] == "failed"
    assert (job["error_code"], job["error_params"]) == ("rt_step_failed", {"what": "pip install torch", "exit_code": 1})
    assert job["error"] == "JobError: pip install torch failed (exit code 1); see the log above."
    assert api.get(f"/api/jobs/{job['id']}").json["job"]["error_code"] == "rt_step_failed"
    published = [ev["data"] for ev in iter(lambda: sub.get(timeout=0.2), None)]
    assert published[-1]["status"] == "failed" and published[-1]["error_code"] == "rt_step_failed"


def test_an_api_error_keeps_its_code_and_details(svc):
    def work(ctx):
        raise ValidationError("x.zip is not a readable zip file.", field="path", code="bad_zip")

    job = run(svc, work)
    assert (job["error_code"], job["error_params"]) == ("bad_zip", {"field": "path"})


def test_an_unknown_exception_is_unexpected_with_the_raw_text_as_detail(svc):
    def work(ctx):
        raise RuntimeError("pip install torch failed")

    job = run(svc, work)
    assert job["error_code"] == "unexpected"
    assert job["error_params"] == {"error": "RuntimeError: pip install torch failed"} == {"error": job["error"]}


def test_a_job_that_achieved_nothing_fails_with_its_code_and_keeps_its_result(svc):
    def work(ctx):
        raise JobFailed("All 3 items failed; no caption was written.", {"failed": 3}, code="tag_all_failed",
                        params={"failed": 3})

    job = run(svc, work)
    assert (job["status"], job["error_code"], job["error_params"], job["result"]) == \
        ("failed", "tag_all_failed", {"failed": 3}, {"failed": 3})


def test_an_import_whose_source_went_away_fails_with_its_code(svc, tmp_path):
    row = storage.create(svc, "cats", "image")
    gone = tmp_path / "gone"
    job = importer._submit(svc, row["id"], "Import gone", lambda: importer.folder_entries(gone), "media", {})
    job = svc.jobs.wait(job["id"])
    assert job["status"] == "failed" and job["error_code"] == "import_source_unreadable"
    assert "gone" in job["error_params"]["error"]


def test_the_migration_adds_the_columns_to_an_existing_database(tmp_path):
    db = sqlite_utils.Database(tmp_path / "old.db")
    for index, step in enumerate(MIGRATIONS[:7]):
        step(db)
        db.execute(f"PRAGMA user_version = {index + 1}")
    db["jobs"].insert({"id": "old", "kind": "x", "status": "failed", "error": "RuntimeError: boom"})
    migrate(db)
    row = db["jobs"].get("old")
    assert row["error"] == "RuntimeError: boom" and row["error_code"] is None and "error_params" in row
