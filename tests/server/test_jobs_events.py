"""The job system and the event bus."""

from __future__ import annotations

import threading
import time

from server import create_app
from server.events import EventBus
from server.jobs import JobCancelled
from tests.conftest import TOKEN


def test_job_runs_reports_progress_and_result(svc, api):
    sub = svc.bus.subscription()
    sub.subscribe("jobs")

    def work(ctx):
        for i in range(5):
            ctx.progress(i + 1, 5, f"item {i}", force=True)
        return {"count": 5}

    job = svc.jobs.submit("demo", "Demo job", work, owner="dataset:1")
    done = svc.jobs.wait(job["id"])
    assert done["status"] == "done"
    assert (done["done"], done["total"]) == (5, 5)
    assert done["result"] == {"count": 5}
    assert done["finished_at"] >= done["started_at"] >= done["created_at"]
    statuses = []
    while (ev := sub.get(timeout=0.2)) is not None:
        statuses.append(ev["data"]["status"])
    assert statuses[0] == "queued" and "running" in statuses and statuses[-1] == "done"
    listed = api.get("/api/jobs?owner=dataset:1").json["jobs"]
    assert [j["id"] for j in listed] == [job["id"]]
    assert api.get(f"/api/jobs/{job['id']}").json["job"]["status"] == "done"


def test_job_cancel_through_api(svc, api):
    started = threading.Event()

    def slow(ctx):
        started.set()
        for i in range(1000):
            ctx.check()
            ctx.progress(i, 1000, force=True)
            time.sleep(0.01)

    job = svc.jobs.submit("slow", "Slow", slow)
    assert started.wait(5)
    deadline = time.time() + 5
    while svc.jobs.get(job["id"])["done"] < 3 and time.time() < deadline:
        time.sleep(0.01)
    resp = api.post(f"/api/jobs/{job['id']}/cancel")
    assert resp.status_code == 200
    final = svc.jobs.wait(job["id"])
    assert final["status"] == "cancelled"
    assert 0 < final["done"] < 1000


def test_job_failure_is_recorded(svc):
    def broken(ctx):
        raise ValueError("bad image")

    final = svc.jobs.wait(svc.jobs.submit("x", "x", broken)["id"])
    assert final["status"] == "failed"
    assert "ValueError: bad image" in final["error"]


def test_job_cancelled_exception_from_nested_code(svc):
    def nested(ctx):
        raise JobCancelled()

    assert svc.jobs.wait(svc.jobs.submit("x", "x", nested)["id"])["status"] == "cancelled"


def test_exclusive_jobs_conflict(svc):
    gate = threading.Event()
    job = svc.jobs.submit("thumbs", "t", lambda ctx: gate.wait(5), owner="dataset:9", exclusive=True)
    try:
        import pytest

        from server.errors import Conflict

        with pytest.raises(Conflict):
            svc.jobs.submit("thumbs", "t", lambda ctx: None, owner="dataset:9", exclusive=True)
    finally:
        gate.set()
    svc.jobs.wait(job["id"])


def test_unknown_job_is_404(api):
    resp = api.get("/api/jobs/nope")
    assert resp.status_code == 404 and resp.json["error"]["code"] == "job_not_found"


def test_running_jobs_are_marked_interrupted_after_restart(data_dir):
    app = create_app(data_dir=data_dir, token=TOKEN, gpu_provider="none")
    svc = app.extensions["workbench"]
    gate = threading.Event()
    job = svc.jobs.submit("long", "Long", lambda ctx: gate.wait(10))
    deadline = time.time() + 5
    while svc.jobs.get(job["id"])["status"] != "running" and time.time() < deadline:
        time.sleep(0.01)
    # Simulate the process dying: the row still says running, nobody finishes it.
    svc.store.close()
    app2 = create_app(data_dir=data_dir, token=TOKEN, gpu_provider="none")
    after = app2.extensions["workbench"].jobs.get(job["id"])
    assert after["status"] == "interrupted"
    gate.set()
    app2.extensions["workbench"].shutdown()
    svc.jobs.shutdown(wait=True)


def test_event_bus_topics_and_prefixes():
    bus = EventBus(strict=False)  # the mechanics, with made-up events
    a, b = bus.subscription(), bus.subscription()
    a.subscribe("task:1")
    b.subscribe("task:*")
    bus.publish("task:1", "progress", {"step": 1})
    bus.publish("task:2", "progress", {"step": 2})
    bus.publish("system", "sample", {})
    assert a.get(0)["data"] == {"step": 1} and a.get(0) is None
    assert [b.get(0)["topic"], b.get(0)["topic"]] == ["task:1", "task:2"]
    assert bus.listeners("task:5") == 1 and bus.listeners("system") == 0
    a.close()
    assert bus.listeners("task:1") == 1


def test_slow_subscriber_drops_oldest_instead_of_blocking():
    bus = EventBus(strict=False)  # the mechanics, with made-up events
    sub = bus.subscription()
    sub.queue.maxsize = 3
    sub.subscribe("x")
    for i in range(10):
        bus.publish("x", "n", i)
    assert [sub.get(0)["data"] for _ in range(3)] == [7, 8, 9]
    assert sub.dropped == 7


def test_late_subscriber_gets_the_job_events_it_missed():
    bus = EventBus(strict=False)  # the mechanics, with made-up events
    bus.publish("job:1", "item", 1)
    bus.publish("job:1", "item", 2)
    bus.publish("system", "sample", {})  # not a retained topic
    late = bus.subscription()
    late.subscribe("job:1", "system")
    bus.publish("job:1", "item", 3)
    assert [late.get(0)["data"] for _ in range(3)] == [1, 2, 3]
    assert late.get(0) is None
    late.subscribe("job:1")  # subscribing again does not replay twice
    assert late.get(0) is None
