"""One task on two "GPUs" against the REAL musubi-tuner and the real accelerate/torchrun, on the CPU.

accelerate's `--multi_gpu --num_processes 2` on a machine without CUDA starts two CPU processes that talk
over gloo (accelerate picks gloo when there is no GPU), so the app's multi-GPU path runs for real: the
launch options (ranks.py), every rank's log, rank 0 alone driving progress, musubi's per-process
step count, one checkpoint written by rank 0, and a stop that ends both ranks. Only through the HTTP API.

On the CPU one thing differs from GPUs, and cpu_ranks/sitecustomize.py bridges it (it says how): accelerate
wraps musubi's frozen DiT in DistributedDataParallel, which refuses it. On a machine with two CUDA GPUs
(and a trainer environment whose torch sees them), `LW_TEST_GPUS=2` runs the same tests on the GPUs
(NCCL) without that bridge: that is the GPU check (one GPU is not enough: NCCL refuses two ranks on one card).
"""

from __future__ import annotations

import os
import re

import psutil
import pytest

from tests.live import wait_for

from .conftest import HERE, TINY_DIR, _close, _make_real
from .test_zimage import _tree, on_disk, zimage_task


ON_GPUS = os.environ.get("LW_TEST_GPUS") == "2"


def two_gpu_task(real, ds_id: str, name: str, *, epochs: int, **training) -> dict:
    raw = zimage_task(real, ds_id, name, epochs=epochs, save_every_n_epochs=None, save_every_n_steps=None,
                      save_state=False, **training)
    raw["gpus"] = [0, 1]
    return raw


@pytest.fixture(scope="module")
def real_module(trainer, tmp_path_factory):
    """The app of conftest.real_module, its trainer processes with cpu_ranks/sitecustomize.py first on their
    path: accelerate's CPU processes then treat musubi's frozen DiT as its GPU processes do (that file says why)."""
    with pytest.MonkeyPatch.context() as mp:
        app, r = _make_real(trainer, tmp_path_factory.mktemp("real"), mp)
        if not ON_GPUS:
            mp.setenv("PYTHONPATH", os.pathsep.join([str(HERE / "cpu_ranks"), str(TINY_DIR)]))
            mp.setenv("LW_CPU_RANKS", "1")
        yield r
        _close(app, r)


@pytest.fixture(scope="module")
def two_ranks(real_module):
    """4 images, 1 epoch on 2 processes: 2 batches each, 2 steps. Samples after the epoch with two prompts:
    musubi gives one to each rank, and both ranks log that they are sampling."""
    real = real_module
    ds = real.image_dataset(4, name="Four")
    raw = two_gpu_task(real, ds, "duo", epochs=1)
    raw["samples"] = {"every_n_epochs": 1, "width": 64, "height": 64, "steps": 2,
                      "prompts": [{"prompt": "a red square", "seed": 1}, {"prompt": "a blue square", "seed": 2}]}
    task = real.task(raw)
    sub = real.svc.bus.subscription()
    sub.subscribe(f"task:{task['id']}")
    events: list[dict] = []

    def finished():
        while (e := sub.get(timeout=0)) is not None:
            events.append(e)
        t = real.get_task(task["id"])
        return t["status"] in ("done", "failed", "stopped", "interrupted") and t

    preflight = real.call("POST", "/api/tasks/preflight", raw)
    real.call("POST", f"/api/tasks/{task['id']}/start")
    done = wait_for(finished, 900, "the two-process run")
    sub.close()
    log = real.call("GET", f"/api/tasks/{task['id']}/log?stage=train&tail=10000000")["text"]
    # what the tests read, taken now: test_stop_ends_both_ranks runs this task again
    points = real.call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    folder = real.data_dir / "tasks" / task["id"] / "output"
    return {"real": real, "task": done, "events": events, "log": log, "preflight": preflight, "raw": raw,
            "points": points, "disk": on_disk(folder), "logs": real.data_dir / "tasks" / task["id"] / "logs"}


def test_runs_as_two_processes_to_done(two_ranks):
    task, log = two_ranks["task"], two_ranks["log"]
    assert task["status"] == "done", (task["error"], log[-4000:])
    command = log.splitlines()[0]
    assert re.search(r"--multi_gpu --main_process_port \d+ --log_dir \S+ --num_processes 2 --tee 3 ", command), command
    # both ranks loaded the model: every rank's lines are in the stage log, each with its prefix
    assert "[default0]:" in log and "[default1]:" in log, log[-3000:]
    for rank in (0, 1):
        assert any(line.startswith(f"[default{rank}]:") and "Loaded DiT model" in line for line in log.splitlines())


def test_each_rank_keeps_its_own_log(two_ranks):
    ranks_dir = two_ranks["logs"] / "run-001-train-ranks"
    own = {int(p.parent.name): p for p in ranks_dir.glob("*/attempt_*/*/stderr.log")}
    assert sorted(own) == [0, 1], sorted(ranks_dir.rglob("*"))
    both = {r: p.read_text(encoding="utf-8", errors="replace") + (p.parent / "stdout.log").read_text(
        encoding="utf-8", errors="replace") for r, p in own.items()}
    assert "Loaded DiT model" in both[0] and "Loaded DiT model" in both[1]
    # only rank 0 draws the steps bar (musubi: tqdm(disable=not accelerator.is_local_main_process))
    if ON_GPUS:   # each rank on its own card (musubi logs `DiT dtype: ..., device: cuda:N`)
        assert "device: cuda:0" in both[0] and "device: cuda:1" in both[1], (both[0][-2000:], both[1][-2000:])
    bar = re.compile(r"steps:\s+\d+%\|")
    assert bar.search(both[0]) and not bar.search(both[1])


def test_steps_are_musubis_per_process_count(two_ranks):
    task, log, pre = two_ranks["task"], two_ranks["log"], two_ranks["preflight"]
    # 4 batches an epoch split between 2 processes: 2 steps an epoch, as the pre-flight report said
    assert "[default0]:  total optimization steps / 学習ステップ数: 2" in log, log[-3000:]
    assert pre["buckets"]["batches_per_epoch"] == 4 and pre["buckets"]["batches_per_process"] == 2
    assert pre["buckets"]["steps_per_epoch"] == 2 and pre["buckets"]["total_steps"] == 2
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert task["progress"]["epoch"] == task["progress"]["total_epochs"] == 1
    # musubi's own counts match the report: no accounting difference for the split data loader
    accounting = task["run"]["accounting"]
    assert accounting["actual"]["batches_per_epoch"] == 2 and accounting["differences"] == [], accounting


def test_progress_and_loss_come_from_rank_0_only(two_ranks):
    points, events = two_ranks["points"], two_ranks["events"]
    assert [p["step"] for p in points] == [1, 2], points
    # both ranks log `generating sample images at step`; the task saw the one sampling once
    sampling = [e["data"] for e in events if e["type"] == "sampling"]
    assert len(sampling) == 1, sampling
    log = two_ranks["log"]
    assert log.count("]:INFO:musubi_tuner.training.trainer_base:generating sample images at step") == 2, log[-3000:]
    steps = [e["data"]["step"] for e in events if e["type"] == "progress" and e["data"].get("stage") == "train"
             and e["data"].get("step") is not None]
    assert steps == sorted(steps) and steps[-1] == 2, steps


def test_one_checkpoint_and_each_prompt_rendered_once(two_ranks):
    disk = two_ranks["disk"]
    assert disk["checkpoints"] == ["duo.safetensors"], disk   # rank 0 saves; rank 1 never writes
    # two prompts, one rendered on each rank
    assert len(disk["samples"]) == 2, disk


def test_stop_ends_both_ranks(two_ranks):
    """The finished task again, for 200 epochs (its caches are kept, so it goes straight to training)."""
    real, task = two_ranks["real"], two_ranks["task"]
    real.call("PATCH", f"/api/tasks/{task['id']}", {"training": {**two_ranks["raw"]["training"],
                                                               "max_train_epochs": 200}})
    real.call("POST", f"/api/tasks/{task['id']}/start")

    def training_on_both():
        t = real.get_task(task["id"])
        assert t["status"] in ("queued", "running"), (t["status"], t["error"])
        procs = _tree(t["pid"]) if t.get("stage") == "train" and t.get("pid") else []
        workers = [p for p in procs if "zimage_train_network" in " ".join(_cmdline(p))]
        return step_now(t) >= 1 and len(workers) >= 3 and procs   # launcher + 2 ranks run the script

    procs = wait_for(training_on_both, 900, "both ranks training")
    real.call("POST", f"/api/tasks/{task['id']}/stop")
    stopped = real.wait_task(task["id"], ("stopped", "failed", "done"), timeout=120)
    _, alive = psutil.wait_procs(procs, timeout=10)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert stopped["status"] == "stopped", (stopped["status"], stopped["error"])
    assert not alive, alive


def step_now(task: dict) -> int:
    return (task.get("progress") or {}).get("step") or 0


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


@pytest.mark.skipif(ON_GPUS, reason="on GPUs accelerate leaves the frozen DiT unwrapped: nothing fails")
def test_a_failing_rank_is_reported_with_its_own_error(two_ranks, monkeypatch):
    """Without the CPU bridge musubi fails on the CPU ranks (accelerate wraps the frozen DiT in DDP): the task
    says so with the rank's own error line, read through both prefixes, not torchrun's ChildFailedError.
    The finished task runs again (its caches are kept), its trainer without cpu_ranks/ on the path."""
    real, task = two_ranks["real"], two_ranks["task"]
    monkeypatch.setenv("PYTHONPATH", str(TINY_DIR))
    real.call("POST", f"/api/tasks/{task['id']}/start")
    failed = real.wait_task(task["id"], ("failed", "done", "stopped", "interrupted"), timeout=600)
    assert failed["status"] == "failed", failed["status"]
    assert failed["error"].endswith("RuntimeError: DistributedDataParallel is not needed when a module doesn't "
                                    "have any parameter that requires a gradient."), failed["error"]
    assert failed["run"]["failure"]["stage"] == "train"
