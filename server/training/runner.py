"""Runs one task's stages in order, in its own thread, and follows their output.

Each stage writes stdout and stderr straight into `logs/run-NNN-<stage>.log` (not a pipe), and
this runner tails that file. That is what makes re-attaching possible: after an app restart the
training process still writes to the same file, and a new runner picks up the pid (checked with
its create_time), reads the log from the start to rebuild progress, and continues.

What is followed: the log text (`log` events on `task:<id>`), the parsed progress (a `progress` event
whenever it changes, stored on the task about once a second), the loss of every step (a `loss` event
as soon as the step is final, `task_loss` rows about once a second), and new checkpoints and samples
in output/ (`checkpoint` / `sample` events). The server sends every change; the UI coalesces them
for drawing. The log is looked at every POLL_S (a stat, and a read only when it grew): files give
no portable blocking wait, and this keeps a step's event well under 0.1 s behind the step.

Outcome of a stage: exit code 0 = done. For a re-attached process the exit code cannot be read
(it is not our child), so success is judged from what it left: the final checkpoint (written after
the stage started) for the train stage, no Python traceback in the log for a cache stage.

A stage is over only when no process of its tree is left (proctree.Tree): if the `accelerate`
launcher dies while the trainer it started still runs, the rest of the tree is stopped first, so
the task never reads "failed" while its trainer holds the GPU (and the queue cannot start the next
task on that GPU). A failure is described by exit_status (signals named, Windows status codes) plus
musubi's own error line, never accelerate's `CalledProcessError` wrapper around it.
"""

from __future__ import annotations

import codecs
import logging
import os
import subprocess
import threading
import time
from pathlib import Path

from ..system.children import popen_flags
from . import cache_state, exit_status, proctree, ranks, state_files
from .cache_total import expected_batches
from .musubi_env import full_env
from .outputs import OutputWatcher, Segment
from .progress import ProgressParser, last_error_line, launcher_wrapper

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024
TAIL_BYTES = 64 * 1024


class StageOutcome:
    DONE, FAILED, STOPPED, DETACHED = "done", "failed", "stopped", "detached"


def final_checkpoint_written(run: dict) -> bool:
    """The train stage's final `NAME.safetensors` exists and was written after that stage started
    (a restarted task still has the previous run's file under the same name)."""
    final = Path(run["output_dir"]) / f"{run['output_name']}.safetensors"
    try:
        return final.stat().st_mtime >= (run.get("stage_started_at") or 0) - 1
    except OSError:
        return False


class TaskRunner:
    """Executes the `run` record of a task (see supervisor.prepare_run) from `run["stage_index"]` on."""

    POLL_S = 0.04
    TREE_EVERY_S = 0.25
    SAVE_EVERY_S = 1.0
    OUTPUT_SCAN_EVERY_S = 0.5

    def __init__(self, supervisor, task_id: str, run: dict, *, attach: dict | None = None):
        self.sup = supervisor
        self.task_id = task_id
        self.run_record = run
        self.attach = attach            # {"pid", "create_time"} of a process found alive at start-up
        self.gpus: list[int] = list(run["gpus"])
        self.stop_requested = threading.Event()
        self.detach_requested = threading.Event()
        self._wake = threading.Event()          # set with either: the poll wait ends at once
        self._unsaved: list = []                # loss points published but not stored yet
        self.thread = threading.Thread(target=self._main, name=f"task-{task_id}", daemon=True)
        self.stop_mode: str | None = None
        self.loss_floor: int | None = None   # highest loss step already stored (see Supervisor.save_progress)
        self.failure: dict | None = None     # exit_status.describe() + stage + line, when a stage failed

    # --- control (called from other threads) ---------------------------------------------------

    def start(self) -> None:
        self.thread.start()

    def request_stop(self) -> None:
        self.stop_requested.set()
        self._wake.set()

    def detach(self) -> None:
        """Stop following, leave the process running (app shutdown)."""
        self.detach_requested.set()
        self._wake.set()

    # --- the run ---------------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            outcome, error = self._run_stages()
        except Exception as exc:  # noqa: BLE001 - a runner bug must end the task visibly, not silently
            log.exception("task %s runner crashed", self.task_id)
            outcome, error = StageOutcome.FAILED, f"{type(exc).__name__}: {exc}"
        if outcome != StageOutcome.DETACHED:
            self.sup.finish(self, outcome, error, self.stop_mode)

    def _run_stages(self) -> tuple[str, str | None]:
        run = self.run_record
        stages = run["stages"]
        for index in range(run["stage_index"], len(stages)):
            stage = stages[index]
            if self.stop_requested.is_set():
                return StageOutcome.STOPPED, None
            if self.detach_requested.is_set():
                return StageOutcome.DETACHED, None
            attached = self.attach if index == run["stage_index"] else None
            if not attached and self._skip_cache(stage):
                continue
            outcome, error = self._run_stage(index, stage, attached)
            if outcome != StageOutcome.DONE:
                return outcome, error
            if stage["name"] in run.get("fingerprints", {}):
                cache_state.record(Path(run["cache_dir"]), stage["name"], run["fingerprints"][stage["name"]])
        return StageOutcome.DONE, None

    def _skip_cache(self, stage: dict) -> bool:
        print_ = self.run_record.get("fingerprints", {}).get(stage["name"])
        if not print_ or not cache_state.is_fresh(Path(self.run_record["cache_dir"]), stage["name"], print_):
            return False
        self.sup.publish(self.task_id, "log", {"stage": stage["name"],
                                               "text": f"[{stage['name']}: caches are complete and unchanged, skipped]\n"})
        self.sup.publish(self.task_id, "stage", {"stage": stage["name"], "skipped": True})
        return True

    def _log_path(self, stage: dict) -> Path:
        return Path(self.run_record["log_dir"]) / f"run-{self.run_record['run_no']:03d}-{stage['name']}.log"

    def _spawn(self, index: int, stage: dict) -> tuple[subprocess.Popen, float | None]:
        path = self._log_path(stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        argv = stage["argv"]
        if ranks.is_multi(argv):   # several GPUs: every rank's own log files, a rendezvous port free now
            argv = ranks.launch_args(argv, ranks.ranks_dir(path), ranks.free_port())
        with open(path, "ab") as out:
            if stage["name"] == "train":
                for note in state_files.skipped_warnings(self.run_record.get("resume")):
                    out.write(f"[{note}]\n".encode("utf-8"))
            out.write(("$ " + subprocess.list2cmdline(argv) + "\n").encode("utf-8"))
            out.flush()
            self.run_record["stage_started_at"] = time.time()
            popen = subprocess.Popen(argv, cwd=self.run_record["cwd"], env=full_env(stage["env"]),
                                     stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                     **popen_flags())
        create_time = proctree.identity(popen.pid)
        self.run_record["procs"] = [[popen.pid, create_time]]
        self.sup.stage_started(self, index, stage["name"], popen.pid, create_time)
        return popen, create_time

    def _parser(self, stage: dict) -> ProgressParser:
        run = self.run_record
        is_train = stage["name"] == "train"
        return ProgressParser(stage["name"], step_offset=run.get("step_offset", 0) if is_train else 0,
                              epoch_offset=run.get("epoch_offset", 0) if is_train else 0,
                              expected_total=None if is_train else expected_batches(stage["name"], stage["argv"]),
                              ranked=ranks.is_multi(stage["argv"]))

    def catch_up(self) -> None:
        """Read a stage log that nobody followed to its end (the run finished while the app was
        closed): store its progress and the loss of the steps not stored yet."""
        stage = self.run_record["stages"][self.run_record.get("stage_index", 0)]
        parser = self._parser(stage)
        follower = _LogFollower(self._log_path(stage))
        while text := follower.read():
            parser.feed(text)
        parser.flush()
        self._save(parser)

    def _run_stage(self, index: int, stage: dict, attached: dict | None) -> tuple[str, str | None]:
        if attached:
            popen, pid, create_time = None, attached["pid"], attached["create_time"]
            tree = proctree.Tree(attached.get("procs") or [[pid, create_time]])
        else:
            popen, create_time = self._spawn(index, stage)
            pid = popen.pid
            tree = proctree.Tree(self.run_record["procs"])
        run = self.run_record
        is_train = stage["name"] == "train"
        parser = self._parser(stage)
        follower = _LogFollower(self._log_path(stage))
        watcher = OutputWatcher(Path(run["output_dir"]), [Segment.from_dict(s) for s in run["segments"]]) \
            if is_train else None
        self.sup.publish(self.task_id, "stage", {"stage": stage["name"], "skipped": False, "pid": pid})
        last_save = last_scan = last_tree = 0.0
        orphans_stopped = False   # the launcher ended and what it left running was stopped
        while True:
            now = time.monotonic()
            if now - last_tree >= self.TREE_EVERY_S:
                last_tree = now
                if tree.refresh():
                    self.sup.tree_changed(self, tree.as_list())
            exit_code = popen.poll() if popen else None
            root_gone = (exit_code is not None) if popen else proctree.find(pid, create_time) is None
            gone = root_gone and not tree.alive()
            if root_gone and not gone and not orphans_stopped:
                # The launcher is gone (killed, crashed) but the trainer it started still runs.
                log.warning("task %s: %s launcher ended, stopping the rest of its process tree",
                            self.task_id, stage["name"])
                orphans_stopped = True
                self.stop_mode = tree.stop(self.sup.STOP_TIMEOUT_S)
                continue
            self._pump(follower, parser, stage["name"])
            if now - last_save >= self.SAVE_EVERY_S:
                last_save = now
                self._save(parser)
            if watcher and now - last_scan >= self.OUTPUT_SCAN_EVERY_S:
                last_scan = now
                self._announce(watcher.poll())
            if gone:
                break
            if self.stop_requested.is_set():
                self.stop_mode = tree.stop(self.sup.STOP_TIMEOUT_S)
                if popen:
                    popen.wait(timeout=10)
                self._pump(follower, parser, stage["name"], final=True)
                self._save(parser)
                return StageOutcome.STOPPED, None
            if self.detach_requested.is_set():
                self._save(parser)
                return StageOutcome.DETACHED, None
            self._wake.wait(self.POLL_S)
        self._pump(follower, parser, stage["name"], final=True)
        self.sup.publish(self.task_id, "progress", parser.snapshot())
        self._save(parser)
        if watcher:
            self._announce(watcher.drain())
        if orphans_stopped:
            self.stop_mode = None   # not a stop the user asked for
        return self._judge(stage, exit_code, follower, popen is None, orphans_stopped)

    def _judge(self, stage: dict, exit_code: int | None, follower: "_LogFollower",
               attached: bool, orphans_stopped: bool = False) -> tuple[str, str | None]:
        tail = follower.tail()
        if ranks.is_multi(stage["argv"]):
            tail = ranks.unprefixed(tail)
        name = stage["name"]
        if attached:
            if name == "train":
                ok = final_checkpoint_written(self.run_record)
            else:
                ok = "Traceback (most recent call last)" not in tail
            if ok:   # leftovers stopped after a finished run do not undo it
                return StageOutcome.DONE, None
            info = {"code": "launcher_lost" if orphans_stopped else "unknown_exit"}
        elif exit_code == 0:
            return StageOutcome.DONE, None
        elif orphans_stopped:
            how = exit_status.describe(exit_code)
            info = {"code": "launcher_lost", **{k: how[k] for k in ("signal", "number", "exit_code") if k in how}}
        else:
            info = exit_status.describe(exit_code, wrapper=launcher_wrapper(tail))
        line = last_error_line(tail)
        self.failure = {**info, "stage": name, "line": line or None}
        return StageOutcome.FAILED, exit_status.english(name, info) + (f": {line}" if line else "")

    def _pump(self, follower: "_LogFollower", parser: ProgressParser, stage: str, final: bool = False) -> None:
        text = follower.read()
        if text:
            parser.feed(text)
            self.sup.publish(self.task_id, "log", {"stage": stage, "text": text})
        if final:
            parser.flush()
        losses = parser.take_losses()
        if losses:
            self._unsaved += losses
            self.sup.publish(self.task_id, "loss", {"points": [{"step": s, "epoch": e, "loss": v}
                                                               for s, e, v in losses]})
        if parser.changed:
            parser.changed = False
            self.sup.publish(self.task_id, "progress", parser.snapshot())
        for notice in parser.take_notices():
            if notice["type"] == "sample":
                self.sup.publish(self.task_id, "sampling", notice)

    def _save(self, parser: ProgressParser) -> None:
        losses, self._unsaved = self._unsaved + parser.take_losses(), []
        self.sup.save_progress(self, parser.snapshot(), losses)

    def _announce(self, found: list[tuple[str, dict]]) -> None:
        for kind, info in found:
            self.sup.publish(self.task_id, kind, info)


class _LogFollower:
    """Reads what was appended to a log file since the last call, decoding UTF-8 across chunk edges."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def read(self) -> str:
        try:
            if os.stat(self.path).st_size <= self.offset:   # the common case, every POLL_S: nothing new
                return ""
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read(READ_CHUNK * 8)
        except FileNotFoundError:
            return ""
        self.offset += len(data)
        return self._decoder.decode(data)

    def tail(self) -> str:
        try:
            size = os.path.getsize(self.path)
            with open(self.path, "rb") as f:
                f.seek(max(0, size - TAIL_BYTES))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
