"""JobManager.wait blocks on the job's end instead of reading its row every 20 ms (issue 19: that polling
was most of a benchmark's app-side CPU), and a job cancelled while still queued leaves nothing behind
(its context used to stay, so shutdown waited its whole timeout)."""

from __future__ import annotations

import threading

import pytest

from server.events import EventBus
from server.jobs import JobManager
from server.store import Store
from tests.live import wait_for


@pytest.fixture
def manager(tmp_path):
    store = Store(tmp_path / "jobs.db")
    jobs = JobManager(store, EventBus(), max_workers=2)
    yield jobs
    jobs.shutdown(wait=True, timeout=10)
    store.close()


def _blocking_job(manager, gate: threading.Event, started: threading.Event | None = None) -> str:
    def fn(ctx):
        if started is not None:
            started.set()
        assert gate.wait(60), "the test never opened the gate"
        return {"ok": True}
    return manager.submit("test", "blocking", fn)["id"]


def test_wait_reads_the_job_row_only_once_it_has_ended(manager, monkeypatch):
    gate, started = threading.Event(), threading.Event()
    job_id = _blocking_job(manager, gate, started)
    assert started.wait(30)
    reads = []
    real_get = manager.get
    # Reads by the waiting thread (the job's own events read the row too).
    monkeypatch.setattr(manager, "get", lambda jid: reads.append(threading.current_thread().name) or real_get(jid))
    waited = {}
    waiter = threading.Thread(target=lambda: waited.update(manager.wait(job_id, timeout=60)), name="waiter")
    waiter.start()
    try:
        # The waiter is blocked (not polling) for as long as the job runs: give a poller time to show itself.
        waiter.join(0.5)
        assert waiter.is_alive() and "waiter" not in reads
    finally:
        gate.set()
        waiter.join(60)
    assert waited["status"] == "done" and waited["result"] == {"ok": True}
    assert reads.count("waiter") == 1


def test_wait_still_times_out(manager):
    gate = threading.Event()
    job_id = _blocking_job(manager, gate)
    with pytest.raises(TimeoutError):
        manager.wait(job_id, timeout=0.3)
    gate.set()
    assert manager.wait(job_id, timeout=60)["status"] == "done"


def test_a_job_cancelled_while_queued_leaves_nothing_behind(manager):
    gate = threading.Event()
    running = [_blocking_job(manager, gate) for _ in range(2)]   # both workers busy
    queued = manager.submit("test", "queued", lambda ctx: {"ran": True})["id"]
    assert manager.cancel(queued)["status"] == "queued"
    gate.set()
    assert manager.wait(queued, timeout=60)["status"] == "cancelled"
    for job_id in running:
        assert manager.wait(job_id, timeout=60)["status"] == "done"
    wait_for(lambda: not manager.list(active_only=True), 30, "no active job")
    # Nothing left to stop: shutdown returns at once (it waited 10 s for the queued job's context before).
    assert manager.shutdown(wait=True, timeout=0.5) is True
