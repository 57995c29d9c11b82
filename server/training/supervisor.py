"""The training queue: one running task per GPU, the rest wait in order.

- `enqueue()` (start, retry, resume) checks the task can run *now* (a bad model path or a missing
  musubi install is a 422 for the user, not a failed task later), then queues it at the end.
- A loop thread starts queued tasks in queue order when all their GPUs are free. A waiting task
  also holds back later tasks that want any of its GPUs, so a two-GPU task is not starved by a
  stream of one-GPU tasks.
- `stop()` takes a queued task back to draft, or asks its runner to end the process tree.
- At start-up every task the database says is running is checked: any process of its tree (pid +
  create time, the launcher and what it started) still alive -> re-attached; all gone -> `done` when
  the training had written its final checkpoint (it finished while the app was closed), else
  `interrupted`, never left "running".
- At shutdown runners detach: training keeps going and is re-attached on the next start.

Events: `status` on `task:<id>` and `task` on `tasks` at every status change, `queue` on `tasks`
(the whole queue with each task's place per GPU) whenever the queue changes; the runner adds
`log`, `progress`, `stage`, `sampling`, `sample`, `checkpoint` on `task:<id>`.
"""

from __future__ import annotations

import logging
import threading
import time

from ..errors import ApiError, Conflict, ValidationError
from . import accounting, estimate, exit_status, planning, proctree, tasks
from .runner import StageOutcome, TaskRunner, final_checkpoint_written

log = logging.getLogger(__name__)

RESTARTABLE = ("draft", "done", "failed", "stopped", "interrupted")


class Supervisor:
    # Everything that can let a queued task start (enqueue, reorder, a task ending, start-up) sets _wake;
    # the tick is only a safety net, so an idle app does not wake up every second for nothing.
    TICK_S = 10.0
    STOP_TIMEOUT_S = 10.0

    def __init__(self, store, layout, bus):
        self.store = store
        self.layout = layout
        self.bus = bus
        self._lock = threading.RLock()
        self._runners: dict[str, TaskRunner] = {}
        # The last progress snapshot each running task published. The row gets it only at the runner's next
        # save (every TaskRunner.SAVE_EVERY_S), so a page that subscribes after the last event and then reads
        # the task would see an older count for good; `current()` reads the row with this instead.
        self._progress: dict[str, dict] = {}
        self._wake = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name="training-supervisor", daemon=True)

    # --- life cycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._reattach()
        self._thread.start()

    def shutdown(self) -> None:
        self._closing = True
        self._wake.set()
        with self._lock:
            runners = list(self._runners.values())
        for runner in runners:
            runner.detach()
        for runner in runners:
            runner.thread.join(timeout=5)
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _reattach(self) -> None:
        for task in tasks.list_rows(self.store):
            if task["status"] not in tasks.RUNNING:
                continue
            run = task.get("run") or {}
            members = run.get("procs") or [[task.get("pid"), task.get("pid_create_time")]]
            alive = bool(task.get("pid")) and bool(proctree.Tree(members).alive())
            if not alive or not run.get("stages"):
                self._end_unattended(task, run)
                continue
            runner = TaskRunner(self, task["id"], run,
                                attach={"pid": task["pid"], "create_time": task["pid_create_time"], "procs": members})
            with self._lock:
                self._runners[task["id"]] = runner
            if task["status"] == "stopping":
                runner.request_stop()
            runner.start()
            self.publish(task["id"], "reattached", {"pid": task["pid"], "stage": task.get("stage")})
            log.info("re-attached task %s (pid %s)", task["id"], task["pid"])

    def _end_unattended(self, task: dict, run: dict) -> None:
        """A task that was running when the app stopped and has no process left."""
        stages = run.get("stages") or []
        last_stage = stages and run.get("stage_index", 0) == len(stages) - 1 and stages[-1]["name"] == "train"
        if last_stage and task.get("stage") == "train" and run.get("output_dir") and final_checkpoint_written(run):
            TaskRunner(self, task["id"], run).catch_up()   # its last steps' loss and final progress
            self._set_status(task["id"], "done", pid=None, pid_create_time=None, finished_at=time.time(), error=None)
            log.info("task %s finished while the app was closed", task["id"])
            return
        failure = {"code": "interrupted", "stage": task.get("stage") or "train", "line": None}
        self._set_status(task["id"], "interrupted", pid=None, pid_create_time=None, finished_at=time.time(),
                         error=exit_status.english(failure["stage"], failure), run={**run, "failure": failure})

    def _loop(self) -> None:
        while not self._closing:
            try:
                self._tick()
            except Exception:  # noqa: BLE001 - the queue must keep running
                log.exception("training supervisor tick failed")
            self._wake.wait(self.TICK_S)
            self._wake.clear()

    # --- queue ----------------------------------------------------------------------------------

    def queue(self) -> list[dict]:
        """Queued tasks in start order, each with its place in line on every GPU it waits for:
        `[{"id", "gpus", "positions": [{"gpu": 0, "position": 1}, ...]}]` (1 = starts next there)."""
        cur = self.store.db.execute("SELECT id, gpus FROM tasks WHERE status = 'queued' ORDER BY queue_pos, created_at")
        out, counts = [], {}
        for task_id, raw in cur.fetchall():
            gpus = tasks._decode({"gpus": raw})["gpus"]
            positions = []
            for gpu in sorted(set(gpus or [0])):
                counts[gpu] = counts.get(gpu, 0) + 1
                positions.append({"gpu": gpu, "position": counts[gpu]})
            out.append({"id": task_id, "gpus": gpus, "positions": positions})
        return out

    def publish_queue(self) -> None:
        """`queue` on `tasks`: the whole queue after any change (enqueue, start, stop, reorder)."""
        entries = self.queue()
        self.bus.publish("tasks", "queue", {"order": [e["id"] for e in entries], "queue": entries})

    def busy_gpus(self) -> set[int]:
        with self._lock:
            return {g for r in self._runners.values() for g in r.gpus}

    def _tick(self) -> None:
        if self._closing:
            return
        with self._lock:
            claimed = set(self.busy_gpus())
            launched = False
            for entry in self.queue():
                wanted = set(entry["gpus"] or [0])
                if wanted & claimed:
                    claimed |= wanted   # it waits, and holds its GPUs against later tasks
                    continue
                claimed |= wanted
                self._launch(tasks.row(self.store, entry["id"]))
                launched = True
            if launched:
                self.publish_queue()

    def _launch(self, task: dict) -> None:
        pending = (task.get("run") or {}).get("pending_resume")
        try:
            run = planning.prepare_run(self.store, self.layout, task, pending)
        except ApiError as exc:
            self._set_status(task["id"], "failed", error=exc.message, finished_at=time.time(), queue_pos=None)
            return
        runner = TaskRunner(self, task["id"], run)
        self._runners[task["id"]] = runner
        self._set_status(task["id"], "running", run=run, run_no=run["run_no"], stage=None, progress=None, error=None,
                         stop_mode=None, pid=None, pid_create_time=None, started_at=time.time(), finished_at=None,
                         queue_pos=None)
        runner.start()

    def enqueue(self, task_id: str, resume: str | None = None) -> dict:
        with self._lock:
            task = tasks.row(self.store, task_id)
            if task["status"] in tasks.ACTIVE:
                raise Conflict("The task is already queued or running.", code="task_busy")
            # Check now so the user sees what to fix; the same checks run again when it leaves the queue.
            planning.prepare_run(self.store, self.layout, task, resume, write=False)
            run = dict(task.get("run") or {})
            run["pending_resume"] = resume
            run.pop("failure", None)   # how the previous run ended is not this one's story
            top = self.store.db.execute("SELECT MAX(queue_pos) FROM tasks").fetchone()[0] or 0
            self._set_status(task_id, "queued", queue_pos=top + 1, run=run, error=None)
            self.publish_queue()
        self._wake.set()
        return tasks.row(self.store, task_id)

    def reorder(self, order: list[str]) -> list[dict]:
        """Put the queued tasks in `order` first, in that order; the others keep their relative order."""
        with self._lock:
            current = [e["id"] for e in self.queue()]
            unknown = [i for i in order if i not in current]
            if unknown:
                raise ValidationError(f"Task {unknown[0]} is not queued.", field="order")
            new = list(dict.fromkeys(order)) + [i for i in current if i not in order]
            for pos, task_id in enumerate(new, start=1):
                tasks.update_fields(self.store, task_id, queue_pos=float(pos))
            self.publish_queue()
        self._wake.set()
        return self.queue()

    def stop(self, task_id: str) -> dict:
        with self._lock:
            task = tasks.row(self.store, task_id)
            if task["status"] == "queued":
                self._set_status(task_id, "draft", queue_pos=None)
                self.publish_queue()
            elif task["status"] in tasks.RUNNING:
                runner = self._runners.get(task_id)
                if runner:
                    self._set_status(task_id, "stopping")
                    runner.request_stop()
                else:  # no runner: nothing can be following it any more
                    self._set_status(task_id, "interrupted", pid=None, finished_at=time.time())
        return tasks.row(self.store, task_id)

    def current(self, task_id: str) -> dict:
        """The task's row with the progress last published for it: never older than an event already sent."""
        return self.with_live(tasks.row(self.store, task_id))

    def with_live(self, task: dict) -> dict:
        # Read after the row: a snapshot published meanwhile is newer than the row's, never older.
        live = self._progress.get(task["id"])
        if live is not None and task["status"] in tasks.RUNNING:
            task["progress"] = live
        return task

    def wait(self, task_id: str, statuses=tasks.FINAL, timeout: float = 30) -> dict:
        """Block until the task reaches one of `statuses` (tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            task = tasks.row(self.store, task_id)
            if task["status"] in statuses:
                return task
            time.sleep(0.02)
        raise TimeoutError(f"task {task_id} still {tasks.row(self.store, task_id)['status']} after {timeout}s")

    # --- runner callbacks -----------------------------------------------------------------------

    def stage_started(self, runner: TaskRunner, index: int, stage: str, pid: int, create_time: float | None) -> None:
        runner.run_record["stage_index"] = index
        status = "stopping" if runner.stop_requested.is_set() else "running"
        self._set_status(runner.task_id, status, stage=stage, pid=pid, pid_create_time=create_time,
                         run=runner.run_record)

    def tree_changed(self, runner: TaskRunner, members: list[list]) -> None:
        """The stage's process tree grew (accelerate started the trainer): keep it for a restart."""
        runner.run_record["procs"] = members
        tasks.update_fields(self.store, runner.task_id, run=runner.run_record)

    def save_progress(self, runner: TaskRunner, snapshot: dict, losses: list) -> None:
        tasks.update_fields(self.store, runner.task_id, progress=snapshot)
        if runner.loss_floor is None:
            # A re-attached runner re-reads the log from the start: keep only steps not stored yet.
            runner.loss_floor = self.store.db.execute(
                "SELECT COALESCE(MAX(step), -1) FROM task_loss WHERE task_id = ? AND run_no = ?",
                [runner.task_id, runner.run_record["run_no"]]).fetchone()[0]
        losses = [point for point in losses if point[0] > runner.loss_floor]
        if losses:
            runner.loss_floor = max(point[0] for point in losses)
            now = time.time()
            self.store.db["task_loss"].insert_all(
                [{"task_id": runner.task_id, "run_no": runner.run_record["run_no"], "step": step, "epoch": epoch,
                  "loss": loss, "ts": now} for step, epoch, loss in losses])

    def finish(self, runner: TaskRunner, outcome: str, error: str | None, stop_mode: str | None) -> None:
        status = {StageOutcome.DONE: "done", StageOutcome.FAILED: "failed", StageOutcome.STOPPED: "stopped"}[outcome]
        with self._lock:
            if self._runners.get(runner.task_id) is runner:
                del self._runners[runner.task_id]
        runner.run_record["failure"] = runner.failure if outcome == StageOutcome.FAILED else None
        if outcome == StageOutcome.DONE:
            self._account(runner.task_id, runner.run_record)
        self._set_status(runner.task_id, status, error=error, stop_mode=stop_mode, pid=None, pid_create_time=None,
                         finished_at=time.time(), run=runner.run_record)
        self._wake.set()

    # --- events ---------------------------------------------------------------------------------

    def publish(self, task_id: str, type: str, data) -> None:
        if type == "progress":
            self._progress[task_id] = data   # before the event goes out: a read after it sees this snapshot
        self.bus.publish(f"task:{task_id}", type, data)

    def _account(self, task_id: str, run: dict) -> None:
        """How long the run took against its estimate, and what musubi trained on against the pre-flight
        numbers (estimate.py, accounting.py): kept in the run record for the task detail."""
        try:
            task = tasks.row(self.store, task_id)
            if not run.get("resume"):
                run["timing"] = estimate.record(task, run)
            run["accounting"] = accounting.account(run)
        except Exception:  # noqa: BLE001 - a report about a finished run never fails the run
            log.exception("accounting for task %s failed", task_id)

    def _set_status(self, task_id: str, status: str, **fields) -> None:
        tasks.update_fields(self.store, task_id, status=status, **fields)
        if status not in tasks.RUNNING or "progress" in fields:   # ended, or a new run: the row says it all
            self._progress.pop(task_id, None)
        task = tasks.public(self.current(task_id), self.layout)
        self.publish(task_id, "status", task)
        self.bus.publish("tasks", "task", task)
