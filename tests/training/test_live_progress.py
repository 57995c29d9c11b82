"""What the task page is sent while a task trains (issue 19): every step's loss as a `loss` event as
soon as the step is final (the UI coalesces them for drawing; the server drops none), and the
progress as it changes, its last event carrying the final step."""

from __future__ import annotations

import time

from server.training import tasks

from .conftest import qwen_task


def _drain(sub) -> list[dict]:
    events = []
    while (ev := sub.get(timeout=0)) is not None:
        events.append(ev)
    return events


def test_every_steps_loss_is_published_as_it_happens(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.01")   # faster than a poll: several steps per read
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=8, samples=False))
    sub = svc.bus.subscription()
    sub.subscribe(f"task:{task['id']}")
    try:
        svc.supervisor.enqueue(task["id"])
        done = svc.supervisor.wait(task["id"], timeout=60)
        assert done["status"] == "done", done["error"]
        events = _drain(sub)
    finally:
        sub.close()
    points = [pt for ev in events if ev["type"] == "loss" for pt in ev["data"]["points"]]
    stored = tasks.loss_history(svc.store, task["id"])
    assert len(stored) == 24
    # the same points as stored, each once, in step order
    assert [(p["step"], p["epoch"], p["loss"]) for p in points] == [(p["step"], p["epoch"], p["loss"]) for p in stored]
    train = [ev["data"] for ev in events if ev["type"] == "progress" and ev["data"]["stage"] == "train"]
    assert train and train[-1]["step"] == 24 and train[-1]["phase"] == "saved"
    steps = [p["step"] for p in train if p["step"] is not None]
    assert steps == sorted(steps)


def test_stop_ends_the_poll_wait_at_once(trainer, models, monkeypatch):
    """The runner's wait between log reads is an Event: a stop request is acted on without a sleep."""
    import threading

    from server.training.runner import TaskRunner

    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.5")
    svc = trainer
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=20, samples=False))
    svc.supervisor.enqueue(task["id"])
    log = tasks.paths(svc.layout, task["id"]).logs / "run-001-train.log"
    deadline = time.monotonic() + 30
    while not (log.exists() and "steps:" in log.read_text(encoding="utf-8", errors="replace")):
        assert time.monotonic() < deadline, "the trainer never started its steps"
        time.sleep(0.02)   # polling a file the trainer writes: a condition with a deadline
    runner = svc.supervisor._runners[task["id"]]
    waiting = threading.Event()

    class SpyEvent(threading.Event):
        def wait(self, timeout=None):
            if timeout and timeout >= 60:
                waiting.set()
            return super().wait(timeout)

    runner._wake = SpyEvent()
    monkeypatch.setattr(TaskRunner, "POLL_S", 600.0)   # were it a sleep, the stop would wait ten minutes
    assert waiting.wait(30), "the runner never began a long wait"
    started = time.monotonic()
    svc.supervisor.stop(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=60)
    assert done["status"] == "stopped" and time.monotonic() - started < 60
