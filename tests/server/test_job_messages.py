"""Job progress messages carry a code and parameters the UI translates (server/jobs/messages.py), with the
English sentence kept as `message` for anything that does not know the code (issue 13, item 3)."""

from __future__ import annotations

import threading
import time

from server import create_app
from tests.conftest import TOKEN


def test_progress_with_a_code_keeps_code_params_and_english(svc, api):
    sub = svc.bus.subscription()
    sub.subscribe("jobs")

    def work(ctx):
        ctx.progress(1, 2, force=True, message_code="import_file", params={"file": "cat/01.png"})
        ctx.progress(2, 2, "free text", force=True)   # a bare message clears the code: no stale translation
        ctx.progress(2, 2, force=True, message_code="convert_done")

    job = svc.jobs.wait(svc.jobs.submit("demo", "Demo", work)["id"])
    assert job["status"] == "done"
    assert (job["message_code"], job["message_params"], job["message"]) == ("convert_done", {}, "Converted")
    seen = []
    while (ev := sub.get(timeout=0.2)) is not None:
        seen.append((ev["data"]["message_code"], ev["data"]["message_params"], ev["data"]["message"]))
    assert ("import_file", {"file": "cat/01.png"}, "Importing cat/01.png") in seen
    assert (None, None, "free text") in seen
    assert api.get(f"/api/jobs/{job['id']}").json["job"]["message_code"] == "convert_done"


def test_an_unknown_message_code_is_a_failure_not_a_silent_english_line(svc):
    job = svc.jobs.wait(svc.jobs.submit("demo", "Demo", lambda ctx: ctx.progress(message_code="no_such_step"))["id"])
    assert job["status"] == "failed" and "no_such_step" in job["error"]


def test_interrupted_jobs_say_so_with_a_code(data_dir):
    app = create_app(data_dir=data_dir, token=TOKEN, gpu_provider="none")
    svc = app.extensions["workbench"]
    gate = threading.Event()
    job = svc.jobs.submit("long", "Long", lambda ctx: gate.wait(10))
    deadline = time.monotonic() + 10
    while svc.jobs.get(job["id"])["status"] != "running":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    svc.store.close()   # the process "dies": the row still says running
    app2 = create_app(data_dir=data_dir, token=TOKEN, gpu_provider="none")
    try:
        after = app2.extensions["workbench"].jobs.get(job["id"])
        assert after["status"] == "interrupted" and after["message_code"] == "interrupted"
        assert after["message"] == "The app stopped while this job was running."
    finally:
        gate.set()
        app2.extensions["workbench"].shutdown()
        svc.jobs.shutdown(wait=True)
