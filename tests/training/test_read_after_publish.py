"""A read of a task is never older than an event already published for it (issue 16): the runner saves the
progress to the row about once a second, so the task page, which subscribes and then reads the task again
once the server acknowledges the subscription (server/api/ws.py), gets the progress last published from
GET /api/tasks/<id> (Supervisor.current), not the row's older one."""

from __future__ import annotations

import time

from server.training import tasks
from server.training.runner import TaskRunner

from .conftest import qwen_task


def test_a_read_shows_the_progress_published_before_the_runner_saved_it(trainer, models, api, monkeypatch):
    svc = trainer
    monkeypatch.setattr(TaskRunner, "SAVE_EVERY_S", 3600.0)   # the row is saved at stage ends only
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.3")
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=30, samples=False))
    sub = svc.bus.subscription()
    sub.subscribe(f"task:{task['id']}")
    try:
        svc.supervisor.enqueue(task["id"])
        deadline = time.monotonic() + 60
        published = None
        while not (published and published["stage"] == "train" and (published.get("step") or 0) >= 2):
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"no training step published (last progress: {published})"
            event = sub.get(timeout=remaining)
            if event and event["type"] == "progress":
                published = event["data"]
        stored = tasks.row(svc.store, task["id"])["progress"] or {}
        read = api.get(f"/api/tasks/{task['id']}").get_json()["task"]["progress"]
        listed = {t["id"]: t for t in api.get("/api/tasks").get_json()["tasks"]}[task["id"]]["progress"]
    finally:
        sub.close()
        svc.supervisor.stop(task["id"])
    # what the test is about: the row is behind the event
    assert (stored.get("stage"), stored.get("step")) != ("train", published["step"])
    assert read["stage"] == "train" and read["step"] >= published["step"]
    assert listed["stage"] == "train" and listed["step"] >= published["step"]
    done = svc.supervisor.wait(task["id"], timeout=60)
    assert done["status"] == "stopped"
    # once ended, the row (saved at the stop) is the whole story
    final = api.get(f"/api/tasks/{task['id']}").get_json()["task"]
    assert final["progress"] == tasks.row(svc.store, task["id"])["progress"]
    assert final["progress"]["step"] >= published["step"]
