"""End-to-end runs through the supervisor and runner with the STAND-IN trainer.

tests/standin/fake_musubi replaces musubi-tuner (which needs a GPU and model weights): its scripts
parse their arguments with the pinned CLI spec and print and write what musubi does, so these tests
exercise the real process handling, output parsing, file discovery, queue, stop, crash, resume and
re-attach code paths.
"""

from __future__ import annotations

import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from server import create_app
from server.training import planning, tasks
from tests.live import wait_for

from .conftest import TOKEN_FREE, add_dataset, point_at_standin, qwen_task
from .test_parsing import REAL_SHAPES, parsed_shapes


def collect(svc, task_id):
    sub = svc.bus.subscription()
    sub.subscribe(f"task:{task_id}")
    return sub


def drain(sub) -> list[dict]:
    events = []
    while (event := sub.get(timeout=0)) is not None:
        events.append(event)
    return events


def train_step(svc, task_id) -> int:
    task = tasks.row(svc.store, task_id)
    progress = task.get("progress") or {}
    return (progress.get("step") or 0) if progress.get("stage") == "train" else 0


def test_full_run(trainer, models):
    svc = trainer
    task = tasks.create(svc.store, svc.layout, qwen_task(models))
    sub = collect(svc, task["id"])
    svc.supervisor.enqueue(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]
    events = drain(sub)
    types = {e["type"] for e in events}
    assert {"log", "progress", "status", "stage", "checkpoint", "sample", "sampling"} <= types

    # Cache stages count batches without a total in musubi's output; the app knows there are 3.
    for stage in ("cache_latents", "cache_text_encoder"):
        last = [e["data"] for e in events if e["type"] == "progress" and e["data"]["stage"] == stage][-1]
        assert (last["step"], last["total_steps"], last["percent"]) == (3, 3, 100.0) and last["rate"]
    progress = done["progress"]
    assert progress["step"] == progress["total_steps"] == 6
    assert progress["epoch"] == progress["total_epochs"] == 2
    assert progress["items"] == 3 and progress["phase"] == "saved"
    assert progress["rate_unit"] in ("it/s", "s/it") and progress["loss"] is not None
    points = tasks.loss_history(svc.store, task["id"])
    assert [p["step"] for p in points] == [1, 2, 3, 4, 5, 6]

    folder = tasks.paths(svc.layout, task["id"])
    segments = planning.segments_of(done)
    from server.training import outputs
    checkpoints = outputs.checkpoints(folder.output, segments)
    assert [(c["kind"], c["epoch"]) for c in checkpoints] == [("epoch", 1), ("final", None)]
    samples = outputs.samples(folder.output, segments)
    assert sorted((s["epoch"], s["prompt_index"]) for s in samples) == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert {s["seed"] for s in samples if s["prompt_index"] == 0} == {7}
    announced = [e["data"]["file"] for e in events if e["type"] == "checkpoint"]
    assert sorted(announced) == sorted(c["file"] for c in checkpoints)
    assert (folder.root / "dataset.toml").is_file() and (folder.root / "sample_prompts.txt").is_file()
    assert len(list(folder.cache.glob("*_qi.safetensors"))) == 3
    assert len(list(folder.cache.glob("*_qi_te.safetensors"))) == 3
    log_text = (folder.logs / "run-001-train.log").read_bytes().decode("utf-8")
    assert "running training / 学習開始" in log_text and "\r" in log_text
    assert "CUDA_VISIBLE_DEVICES=0" in log_text
    # Every line the parser acts on is printed by the stand-in exactly as the real musubi prints it.
    for stage in ("cache_latents", "cache_text_encoder", "train"):
        shapes = parsed_shapes((folder.logs / f"run-001-{stage}.log").read_text(encoding="utf-8"))
        assert shapes and shapes <= REAL_SHAPES, sorted(shapes - REAL_SHAPES)
    assert {s.split(":")[0] for s in shapes if s.startswith("bar ")} == {"bar steps"}

    # A second run finds the caches complete and unchanged and skips both cache stages.
    svc.supervisor.enqueue(task["id"])
    again = svc.supervisor.wait(task["id"], timeout=30)
    assert again["status"] == "done" and again["run_no"] == 2
    assert [p["step"] for p in tasks.loss_history(svc.store, task["id"])] == [1, 2, 3, 4, 5, 6]
    skipped = [e["data"]["stage"] for e in drain(sub) if e["type"] == "stage" and e["data"]["skipped"]]
    assert skipped == ["cache_latents", "cache_text_encoder"]
    assert not (folder.logs / "run-002-cache_latents.log").exists()
    # A changed caption invalidates the text-encoder cache only.
    (svc.layout.datasets / "ds_0000c0de" / "media" / "img0.txt").write_text("new caption", encoding="utf-8")
    svc.supervisor.enqueue(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=30)["status"] == "done"
    skipped = [e["data"]["stage"] for e in drain(sub) if e["type"] == "stage" and e["data"]["skipped"]]
    assert skipped == ["cache_latents"]
    sub.close()


def _tree_pids(svc, task_id) -> list[int]:
    root = psutil.Process(tasks.row(svc.store, task_id)["pid"])
    return [root.pid] + [c.pid for c in root.children(recursive=True)]


def _alive(pids) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.parametrize("ignore_sigterm, mode", [(False, "terminated"), (True, "killed")])
def test_stop_in_the_middle_ends_the_process_tree(trainer, models, monkeypatch, tmp_path, ignore_sigterm, mode):
    svc = trainer
    step_log = tmp_path / "steps.log"
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    monkeypatch.setenv("FAKE_MUSUBI_STEP_LOG", str(step_log))
    if ignore_sigterm:
        monkeypatch.setenv("FAKE_MUSUBI_IGNORE_SIGTERM", "1")
        monkeypatch.setattr(type(svc.supervisor), "STOP_TIMEOUT_S", 0.5)
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=20))
    svc.supervisor.enqueue(task["id"])
    wait_for(lambda: train_step(svc, task["id"]) >= 2, what="training steps")
    pids = _tree_pids(svc, task["id"])
    assert len(pids) >= 2, "accelerate launch should have a child trainer"
    svc.supervisor.stop(task["id"])
    stopped = svc.supervisor.wait(task["id"], timeout=15)
    assert stopped["status"] == "stopped" and stopped["stop_mode"] == mode
    assert stopped["pid"] is None
    assert _alive(pids) == []
    steps_at_stop = step_log.read_text().count("\n")
    time.sleep(0.4)
    assert step_log.read_text().count("\n") == steps_at_stop
    assert steps_at_stop < 60


def test_crash_marks_failed_with_the_error_line(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_CRASH_AT_STEP", "3")
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=4, samples=False))
    svc.supervisor.enqueue(task["id"])
    failed = svc.supervisor.wait(task["id"], timeout=30)
    assert failed["status"] == "failed"
    assert "exited with code 1" in failed["error"]
    assert "torch.OutOfMemoryError: CUDA out of memory" in failed["error"]
    assert failed["stage"] == "train"
    # The log ends with the launcher's own traceback; the task shows musubi's line, not that wrapper.
    log = (tasks.paths(svc.layout, task["id"]).logs / "run-001-train.log").read_text(encoding="utf-8")
    assert log.rstrip().splitlines()[-1].startswith("subprocess.CalledProcessError: Command ")
    assert "CalledProcessError" not in failed["error"]
    assert failed["run"]["failure"] == {"code": "exit_code", "exit_code": 1, "stage": "train",
                                        "line": failed["error"].split(": ", 1)[1]}


def test_each_step_keeps_its_own_loss_through_the_runner(trainer, models, monkeypatch):
    """Steps slower than tqdm's 0.1 s redraw interval: every step is drawn first with the previous
    step's avr_loss (update), then with its own (set_postfix), as the real musubi does."""
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.11")
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=2))
    svc.supervisor.enqueue(task["id"])
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]
    log = (tasks.paths(svc.layout, task["id"]).logs / "run-001-train.log").read_text(encoding="utf-8")
    assert "| 2/6 [" in log and log.count("| 3/6 [") >= 2, "the stand-in should redraw each step twice"
    # The stand-in's avr_loss after step n is the mean of 0.5/k for k <= n, shown as tqdm shows floats.
    own = [float(f"{sum(0.5 / k for k in range(1, n + 1)) / n:2.3g}") for n in range(1, 7)]
    assert [(p["step"], p["loss"]) for p in tasks.loss_history(svc.store, task["id"])] == list(enumerate(own, 1))
    assert [p["epoch"] for p in tasks.loss_history(svc.store, task["id"])] == [1, 1, 1, 2, 2, 2]


def _trainer_started(svc, task_id) -> list[int]:
    """Launcher and trainer pids once the runner has recorded both (it keeps them in the run record)."""
    def recorded():
        procs = (tasks.row(svc.store, task_id).get("run") or {}).get("procs") or []
        return [pid for pid, _ in procs] if len(procs) >= 2 else None
    return wait_for(recorded, what="the trainer child recorded")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_trainer_killed_by_a_signal_names_the_signal(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=20, samples=False))
    svc.supervisor.enqueue(task["id"])
    wait_for(lambda: train_step(svc, task["id"]) >= 2, what="training steps")
    launcher, child = _trainer_started(svc, task["id"])[:2]
    psutil.Process(child).send_signal(signal.SIGKILL)   # what the OOM killer does
    failed = svc.supervisor.wait(task["id"], timeout=15)
    assert failed["status"] == "failed"
    assert "killed by signal SIGKILL (9)" in failed["error"], failed["error"]
    assert "epoch" not in failed["error"] and "247" not in failed["error"]
    assert failed["run"]["failure"]["code"] == "trainer_signal" and failed["run"]["failure"]["line"] is None


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_killing_the_launcher_stops_the_trainer_before_the_task_fails(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    a = tasks.create(svc.store, svc.layout, qwen_task(models, name="A", epochs=20, samples=False))
    b = tasks.create(svc.store, svc.layout, qwen_task(models, name="B", epochs=1, samples=False))   # same GPU
    svc.supervisor.enqueue(a["id"])
    svc.supervisor.enqueue(b["id"])
    wait_for(lambda: train_step(svc, a["id"]) >= 2, what="training steps")
    pids = _trainer_started(svc, a["id"])
    psutil.Process(pids[0]).kill()   # the launcher only: its trainer child is re-parented and goes on
    failed = svc.supervisor.wait(a["id"], timeout=20)
    assert _alive(pids) == [], "the task was failed while a process of it was still running"
    assert failed["status"] == "failed" and failed["run"]["failure"]["code"] == "launcher_lost"
    assert "launcher (accelerate) was killed by signal SIGKILL (9)" in failed["error"]
    assert tasks.row(svc.store, a["id"])["pid"] is None
    done = svc.supervisor.wait(b["id"], timeout=30)
    assert done["status"] == "done" and done["started_at"] >= failed["finished_at"]


def test_a_run_that_finished_while_the_app_was_closed_is_done(data_dir, models, monkeypatch):
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.05")
    first = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc1 = first.extensions["workbench"]
    point_at_standin(svc1.store)
    add_dataset(svc1)
    task = tasks.create(svc1.store, svc1.layout, qwen_task(models, epochs=4, samples=False))
    svc1.supervisor.enqueue(task["id"])
    wait_for(lambda: train_step(svc1, task["id"]) >= 1, what="training steps")
    pids = _tree_pids(svc1, task["id"])
    svc1.shutdown()   # the app closes; the training finishes on its own
    wait_for(lambda: not _alive(pids), timeout=30, what="the training to finish")

    second = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc2 = second.extensions["workbench"]
    try:
        row = tasks.row(svc2.store, task["id"])
        assert row["status"] == "done", row["error"]
        assert row["error"] is None and row["pid"] is None
        # What happened while nobody watched is read from the log: every step's loss, the end.
        assert [p["step"] for p in tasks.loss_history(svc2.store, task["id"])] == list(range(1, 13))
        assert (row["progress"]["step"], row["progress"]["phase"]) == (12, "saved")
    finally:
        svc2.shutdown()


def test_failed_start_is_refused_with_the_field(trainer, models):
    svc = trainer
    raw = qwen_task(models)
    raw["models"] = {**models, "dit": "/nowhere/dit.safetensors"}
    task = tasks.create(svc.store, svc.layout, raw)
    from server.errors import ValidationError
    with pytest.raises(ValidationError) as err:
        svc.supervisor.enqueue(task["id"])
    assert err.value.details["field"] == "models.dit"
    svc.store.set_setting("musubi_dir", "/no/musubi")
    with pytest.raises(ValidationError) as err:
        svc.supervisor.enqueue(tasks.create(svc.store, svc.layout, qwen_task(models))["id"])
    assert err.value.details["field"] == "musubi_dir"


def test_app_restart_reattaches_a_live_run(data_dir, models, monkeypatch):
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.08")
    first = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc1 = first.extensions["workbench"]
    point_at_standin(svc1.store)
    add_dataset(svc1)
    task = tasks.create(svc1.store, svc1.layout, qwen_task(models, epochs=8))
    svc1.supervisor.enqueue(task["id"])
    wait_for(lambda: train_step(svc1, task["id"]) >= 2, what="training steps")
    pid = tasks.row(svc1.store, task["id"])["pid"]
    svc1.shutdown()   # the app goes away; training goes on
    assert psutil.pid_exists(pid)

    second = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc2 = second.extensions["workbench"]
    try:
        row = tasks.row(svc2.store, task["id"])
        assert row["status"] == "running" and row["pid"] == pid
        done = svc2.supervisor.wait(task["id"], timeout=30)
        assert done["status"] == "done", done["error"]
        assert done["progress"]["step"] == done["progress"]["total_steps"] == 24
        assert [p["step"] for p in tasks.loss_history(svc2.store, task["id"])] == list(range(1, 25))
    finally:
        svc2.shutdown()


def test_app_restart_marks_a_gone_run_interrupted(data_dir, models, monkeypatch):
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    first = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc1 = first.extensions["workbench"]
    point_at_standin(svc1.store)
    add_dataset(svc1)
    task = tasks.create(svc1.store, svc1.layout, qwen_task(models, epochs=20))
    svc1.supervisor.enqueue(task["id"])
    wait_for(lambda: train_step(svc1, task["id"]) >= 1, what="training steps")
    pids = _tree_pids(svc1, task["id"])
    svc1.shutdown()
    for pid in pids:   # the machine rebooted, or the user killed it
        psutil.Process(pid).kill()
    psutil.wait_procs([psutil.Process(p) for p in _alive(pids)], timeout=5)

    second = create_app(data_dir=data_dir, token=TOKEN_FREE, testing=True, gpu_provider="none")
    svc2 = second.extensions["workbench"]
    try:
        row = tasks.row(svc2.store, task["id"])
        assert row["status"] == "interrupted" and row["pid"] is None
        assert "process is gone" in row["error"]
        assert row["run"]["failure"] == {"code": "interrupted", "stage": "train", "line": None}
    finally:
        svc2.shutdown()


def test_resume_from_state_and_weights(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.12")
    task = tasks.create(svc.store, svc.layout, qwen_task(models, epochs=4))
    folder = tasks.paths(svc.layout, task["id"]).output
    svc.supervisor.enqueue(task["id"])
    wait_for(lambda: (folder / "Cat_LoRA-000002-state").is_dir(), what="epoch 2 state")
    svc.supervisor.stop(task["id"])
    assert svc.supervisor.wait(task["id"], timeout=15)["status"] == "stopped"
    stopped = tasks.row(svc.store, task["id"])
    done_epochs = max(int(p.name.split("-")[1]) for p in folder.glob("Cat_LoRA-0*-state"))

    weights_run = planning.prepare_run(svc.store, svc.layout, stopped, "weights", write=False)
    argv = weights_run["stages"][-1]["argv"]
    assert argv[argv.index("--network_weights") + 1].endswith(f"Cat_LoRA-{done_epochs:06d}.safetensors")

    svc.supervisor.enqueue(task["id"], resume="state")
    done = svc.supervisor.wait(task["id"], timeout=30)
    assert done["status"] == "done", done["error"]
    argv = done["run"]["stages"][-1]["argv"]
    assert argv[argv.index("--resume") + 1].endswith(f"Cat_LoRA-{done_epochs:06d}-state")
    assert argv[argv.index("--max_train_epochs") + 1] == str(4 - done_epochs)
    assert argv[argv.index("--output_name") + 1] == "Cat_LoRA-r1"
    # The task's numbering continues across the resume.
    assert done["progress"]["epoch"] == done["progress"]["total_epochs"] == 4
    assert done["progress"]["step"] == done["progress"]["total_steps"] == 12
    steps = [p["step"] for p in tasks.loss_history(svc.store, task["id"])]
    assert steps[-1] == 12 and steps == sorted(steps) and 3 * done_epochs in steps
    from server.training import outputs
    checkpoints = outputs.checkpoints(folder, planning.segments_of(done))
    epochs = sorted(c["epoch"] for c in checkpoints if c["kind"] == "epoch")
    assert epochs == [1, 2, 3] and any(c["kind"] == "final" and c["segment"] == "Cat_LoRA-r1" for c in checkpoints)
    # Finished: nothing left to resume.
    from server.errors import ValidationError
    with pytest.raises(ValidationError):
        svc.supervisor.enqueue(task["id"], resume="state")


def test_two_gpus_in_parallel_with_a_queue(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    a = tasks.create(svc.store, svc.layout, qwen_task(models, name="A", epochs=2, gpus=[0], samples=False))
    b = tasks.create(svc.store, svc.layout, qwen_task(models, name="B", epochs=2, gpus=[1], samples=False))
    c = tasks.create(svc.store, svc.layout, qwen_task(models, name="C", epochs=1, gpus=[0], samples=False))
    d = tasks.create(svc.store, svc.layout, qwen_task(models, name="D", epochs=1, gpus=[0], samples=False))
    for t in (a, b, c, d):
        svc.supervisor.enqueue(t["id"])
    wait_for(lambda: all(tasks.row(svc.store, t["id"])["status"] == "running" for t in (a, b)), what="A and B")
    assert tasks.row(svc.store, c["id"])["status"] == "queued"
    assert [e["id"] for e in svc.supervisor.queue()] == [c["id"], d["id"]]
    svc.supervisor.reorder([d["id"]])
    assert [e["id"] for e in svc.supervisor.queue()] == [d["id"], c["id"]]
    finished = {t["id"]: svc.supervisor.wait(t["id"], timeout=40) for t in (a, b, c, d)}
    assert all(f["status"] == "done" for f in finished.values()), [f["error"] for f in finished.values()]
    fa, fb, fc, fd = (finished[t["id"]] for t in (a, b, c, d))
    # A and B overlapped; D (moved up) started after A ended, C after D.
    assert fb["started_at"] < fa["finished_at"] and fa["started_at"] < fb["finished_at"]
    assert fd["started_at"] >= fa["finished_at"] - 0.05
    assert fc["started_at"] >= fd["finished_at"] - 0.05
    b_log = (tasks.paths(svc.layout, b["id"]).logs / "run-001-train.log").read_text(encoding="utf-8")
    assert "CUDA_VISIBLE_DEVICES=1" in b_log


def test_stop_a_queued_task_returns_it_to_draft(trainer, models, monkeypatch):
    svc = trainer
    monkeypatch.setenv("FAKE_MUSUBI_STEP_S", "0.1")
    a = tasks.create(svc.store, svc.layout, qwen_task(models, name="A", epochs=20, samples=False))
    b = tasks.create(svc.store, svc.layout, qwen_task(models, name="B", epochs=1, samples=False))
    svc.supervisor.enqueue(a["id"])
    svc.supervisor.enqueue(b["id"])
    wait_for(lambda: tasks.row(svc.store, a["id"])["status"] == "running", what="A running")
    assert tasks.row(svc.store, b["id"])["status"] == "queued"
    assert svc.supervisor.stop(b["id"])["status"] == "draft"
    svc.supervisor.stop(a["id"])
    assert svc.supervisor.wait(a["id"], timeout=15)["status"] == "stopped"
    assert tasks.row(svc.store, b["id"])["status"] == "draft"
    assert Path(tasks.paths(svc.layout, a["id"]).root).is_dir()
