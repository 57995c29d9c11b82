"""Background jobs: long work (imports, thumbnails, tagging, caching) off the request threads.

A job is a function `fn(ctx)` submitted with a kind and a title. It reports progress through
`ctx.progress(done, total, message_code=..., params=...)` (a message code of jobs/messages.py, which the UI
translates; the English text is kept as `message`) and checks `ctx.cancelled` (or calls `ctx.check()`, which
raises JobCancelled) at safe points. A failed job keeps `error` (English) and `error_code` / `error_params`
(jobs/failures.py, or an ApiError's code and details), which the UI translates. Every change is written to
the `jobs` table and published on the topics `job:<id>` and `jobs`, so the UI can follow one job or all of them.

Jobs that were queued or running when the app last stopped are marked `interrupted` at start-up:
their threads died with the process and saying otherwise would be a lie.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..store import transaction
from ..errors import ApiError, Conflict, NotFound
from . import failures, messages
from .failures import JobError  # noqa: F401 - jobs raise it from here

log = logging.getLogger(__name__)

ACTIVE = ("queued", "running")
FINAL = ("done", "failed", "cancelled", "interrupted")


class JobCancelled(Exception):
    pass


class JobFailed(Exception):
    """Raised by a job that ran to the end but achieved nothing (every item failed): the job is
    `failed`, not `done`, and still keeps its result so the UI can list what went wrong."""

    def __init__(self, message: str, result: Any = None, *, code: str | None = None, params: dict | None = None):
        super().__init__(message)
        self.result = result
        self.code, self.params = code, params


class JobContext:
    # Progress events are throttled: a tagging run can report thousands of items per minute
    # and the UI needs a few updates per second, not all of them.
    MIN_INTERVAL = 0.2

    def __init__(self, manager: "JobManager", job_id: str):
        self._manager = manager
        self.id = job_id
        self._cancel = threading.Event()
        self.ended = threading.Event()   # set once the job's final row is written (JobManager.wait)
        self._last_emit = 0.0
        self.done = 0
        self.total = 0
        self.message = ""
        self.message_code: str | None = None
        self.message_params: dict | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled()

    def progress(self, done: int | None = None, total: int | None = None, message: str | None = None,
                 force: bool = False, *, message_code: str | None = None, params: dict | None = None) -> None:
        """`message_code` (jobs/messages.py) with `params` says what the job is doing in a form the UI
        translates; a bare `message` (no code) is shown as it is."""
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if message_code is not None:
            self.message = messages.text(message_code, params)
            self.message_code, self.message_params = message_code, dict(params or {})
        elif message is not None:
            self.message, self.message_code, self.message_params = message, None, None
        now = time.monotonic()
        if force or now - self._last_emit >= self.MIN_INTERVAL or (self.total and self.done >= self.total):
            self._last_emit = now
            self._manager._update(self.id, done=self.done, total=self.total, **self.message_fields())

    def message_fields(self) -> dict:
        """The message columns of the job row."""
        return {"message": self.message, "message_code": self.message_code,
                "message_params": json.dumps(self.message_params) if self.message_params is not None else None}

    def event(self, type: str, data: Any = None) -> None:
        """Publish a job-specific event (e.g. one item finished) on `job:<id>`."""
        self._manager.bus.publish(f"job:{self.id}", type, data)


class JobManager:
    def __init__(self, store, bus, max_workers: int = 3):
        self.store = store
        self.bus = bus
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="job")
        self._contexts: dict[str, JobContext] = {}
        self._lock = threading.Lock()
        self._mark_interrupted()

    def _mark_interrupted(self) -> None:
        db = self.store.db
        with transaction(db):
            db.execute(
                "UPDATE jobs SET status = 'interrupted', finished_at = ?, message = ?, message_code = 'interrupted', "
                "message_params = NULL WHERE status IN ('queued', 'running')",
                [time.time(), messages.text("interrupted")],
            )

    def submit(self, kind: str, title: str, fn: Callable[[JobContext], Any], *, params: dict | None = None,
               owner: str | None = None, exclusive: bool = False) -> dict:
        """Queue `fn`. With `exclusive`, refuse when the same owner already has an active job of this kind."""
        if exclusive and owner:
            busy = self.store.db.execute(
                "SELECT id FROM jobs WHERE owner = ? AND kind = ? AND status IN ('queued', 'running')",
                [owner, kind],
            ).fetchone()
            if busy:
                raise Conflict(f"A {kind} job is already running for this item.", code="job_busy",
                               details={"job_id": busy[0]})
        job_id = uuid.uuid4().hex[:12]
        row = {
            "id": job_id, "kind": kind, "title": title, "status": "queued", "done": 0, "total": 0,
            "message": "", "message_code": None, "message_params": None,
            "error": None, "error_code": None, "error_params": None, "result": None,
            "params": json.dumps(params or {}),
            "owner": owner, "created_at": time.time(), "started_at": None, "finished_at": None,
        }
        self.store.db["jobs"].insert(row)
        ctx = JobContext(self, job_id)
        with self._lock:
            self._contexts[job_id] = ctx
        self._publish(job_id)
        self._pool.submit(self._run, ctx, fn)
        return self.get(job_id)

    def _run(self, ctx: JobContext, fn: Callable[[JobContext], Any]) -> None:
        try:
            self._execute(ctx, fn)
        finally:
            # Also for a job cancelled while queued, whose context was left behind (shutdown then
            # waited its whole timeout for it).
            with self._lock:
                self._contexts.pop(ctx.id, None)
            self.store.release()
            ctx.ended.set()

    def _execute(self, ctx: JobContext, fn: Callable[[JobContext], Any]) -> None:
        if ctx.cancelled:
            self._finish(ctx.id, "cancelled")
            return
        self._update(ctx.id, status="running", started_at=time.time())
        try:
            result = fn(ctx)
        except JobCancelled:
            self._finish(ctx.id, "cancelled", done=ctx.done, total=ctx.total)
        except JobFailed as exc:
            self._finish(ctx.id, "failed", **failure_fields(exc), done=ctx.done, total=ctx.total,
                         result=json.dumps(exc.result, default=str) if exc.result is not None else None,
                         **ctx.message_fields())
        except Exception as exc:  # noqa: BLE001 - a job's failure is data for the user, not a crash
            log.error("Job %s failed:\n%s", ctx.id, traceback.format_exc())
            self._finish(ctx.id, "failed", **failure_fields(exc), done=ctx.done, total=ctx.total)
        else:
            status = "cancelled" if ctx.cancelled else "done"
            self._finish(ctx.id, status, result=json.dumps(result, default=str) if result is not None else None,
                         done=ctx.done, total=ctx.total, **ctx.message_fields())

    def _finish(self, job_id: str, status: str, **fields) -> None:
        self._update(job_id, status=status, finished_at=time.time(), **fields)

    def _update(self, job_id: str, **fields) -> None:
        self.store.db["jobs"].update(job_id, fields)
        self._publish(job_id)

    def _publish(self, job_id: str) -> None:
        job = self.get(job_id)
        self.bus.publish(f"job:{job_id}", "job", job)
        self.bus.publish("jobs", "job", job)

    def cancel(self, job_id: str) -> dict:
        job = self.get(job_id)
        if job["status"] not in ACTIVE:
            return job
        with self._lock:
            ctx = self._contexts.get(job_id)
        if ctx:
            ctx._cancel.set()
        return self.get(job_id)

    def get(self, job_id: str) -> dict:
        row = self.store.db.execute("SELECT * FROM jobs WHERE id = ?", [job_id]).fetchone()
        if row is None:
            raise NotFound(f"No job with id {job_id}.", code="job_not_found")
        cols = [d[0] for d in self.store.db.execute("SELECT * FROM jobs LIMIT 0").description]
        return _decode(dict(zip(cols, row)))

    def list(self, *, owner: str | None = None, active_only: bool = False, limit: int = 100) -> list[dict]:
        where, args = [], []
        if owner:
            where.append("owner = ?")
            args.append(owner)
        if active_only:
            where.append("status IN ('queued', 'running')")
        sql = "SELECT * FROM jobs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created_at DESC LIMIT ?"
        args.append(limit)
        cur = self.store.db.execute(sql, args)
        cols = [d[0] for d in cur.description]
        return [_decode(dict(zip(cols, r))) for r in cur.fetchall()]

    def wait(self, job_id: str, timeout: float = 30) -> dict:
        """Block until the job ends (tests and scripts use this). A job of this manager is waited for
        on its `ended` event, not by reading its row every 20 ms: that polling cost a benchmark's app
        process more CPU than the job's own bookkeeping (issue 19), and tests on a busy 2-core box alike."""
        deadline = time.monotonic() + timeout
        with self._lock:
            ctx = self._contexts.get(job_id)
        if ctx is not None:
            ctx.ended.wait(timeout)
        while time.monotonic() < deadline:
            job = self.get(job_id)
            if job["status"] in FINAL:
                return job
            time.sleep(0.02)
        raise TimeoutError(f"job {job_id} still {self.get(job_id)['status']} after {timeout}s")

    def shutdown(self, wait: bool = True, timeout: float = 10) -> bool:
        """Cancel every job and, with `wait`, give running ones `timeout` seconds to stop.

        Returns True when no job thread is left running, so the caller may close the store.
        """
        with self._lock:
            for ctx in self._contexts.values():
                ctx._cancel.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        if not wait:
            return not self._contexts
        deadline = time.monotonic() + timeout
        while self._contexts and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._contexts:
            log.warning("%d job(s) did not stop within %ss: %s", len(self._contexts), timeout,
                        ", ".join(self._contexts))
        return not self._contexts


def active_of_kind(store, kind: str) -> dict | None:
    """The newest queued or running job of `kind` ({id, kind, title, status}), or None: for features
    that hold only the store (the trainer-env check) instead of reading the jobs table themselves."""
    if "jobs" not in store.db.table_names():
        return None
    row = store.db.execute("SELECT id, kind, title, status FROM jobs WHERE kind = ? AND status IN ('queued', 'running') "
                           "ORDER BY created_at DESC LIMIT 1", [kind]).fetchone()
    return dict(zip(("id", "kind", "title", "status"), row)) if row else None


def failure_fields(exc: Exception) -> dict:
    """The error columns of a failed job: the English text (with the exception's type, for logs and scripts),
    and the code + parameters the UI translates: a JobError's or JobFailed's own, an ApiError's code and
    details, else `unexpected` with the raw text as the detail."""
    if isinstance(exc, (JobError, JobFailed)) and exc.code:
        code, params = exc.code, exc.params or {}
    elif isinstance(exc, ApiError):
        code, params = exc.code, exc.details
    else:
        code, params = "unexpected", {"error": f"{type(exc).__name__}: {exc}"}
    return {"error": f"{type(exc).__name__}: {exc}", "error_code": code,
            "error_params": json.dumps(params, default=str, ensure_ascii=False)}


def _decode(row: dict) -> dict:
    for key in ("params", "result", "message_params", "error_params"):
        if row.get(key):
            try:
                row[key] = json.loads(row[key])
            except ValueError:
                pass
    return row
