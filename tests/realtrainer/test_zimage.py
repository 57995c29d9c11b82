"""Z-Image against the REAL musubi-tuner, only through the app's HTTP API: dataset, task, start, both cache
stages, training with sampling and saving by steps and by epochs, outputs and the media route, loss, logs,
convert, stop, resume, and a configuration musubi itself rejects.
"""

from __future__ import annotations

import re
from pathlib import Path

import psutil
import pytest

from tests.live import wait_for



def zimage_task(real, ds_id: str, name: str = "tiny", *, epochs: int = 2, **training) -> dict:
    m = real.trainer["models"]
    return {
        "name": name, "task_type": "zimage-lora", "dataset_id": ds_id, "vram_preset": "high", "gpus": [0],
        "models": {"dit": m["zimage_dit"], "vae": m["zimage_vae"], "text_encoder": m["zimage_qwen3"]},
        "dataset": {"resolution": [64, 64], "enable_bucket": False},
        "training": {"max_train_epochs": epochs, "optimizer_type": "AdamW", "network_dim": 4, "network_alpha": 4,
                     "save_every_n_epochs": 1, "save_every_n_steps": 2, "save_state": True,
                     "max_data_loader_n_workers": 0, "persistent_data_loader_workers": False,
                     "gradient_checkpointing": False, "save_precision": "fp32", **training},
        "samples": {"every_n_epochs": 1, "every_n_steps": 2, "width": 64, "height": 64, "steps": 2,
                    "prompts": [{"prompt": "a red square", "seed": 42}]},
    }


def on_disk(folder: Path) -> dict:
    return {"checkpoints": sorted(p.name for p in folder.glob("*.safetensors")),
            "states": sorted(p.name for p in folder.glob("*-state") if p.is_dir()),
            "samples": sorted(p.name for p in (folder / "sample").glob("*") if p.is_file())}


def musubi_losses(train_log: str) -> dict[int, float]:
    """Step -> loss as musubi logged it: the LAST redraw of `n/N [...avr_loss=X]` (the first redraw of a step
    still carries the previous step's value, REAL-RUN.md)."""
    out = {}
    for m in re.finditer(r"steps:[^\r\n]*?\|\s*(\d+)/\d+ \[[^\]]*avr_loss=([0-9.eE+-]+)\]", train_log):
        out[int(m.group(1))] = float(m.group(2))
    return out


@pytest.fixture(scope="module")
def full_run(real_module):
    """One complete Z-Image run shared by the checks below (it takes a minute of CPU)."""
    real = real_module
    ds = real.image_dataset(2)
    task = real.task(zimage_task(real, ds))
    real.call("POST", f"/api/tasks/{task['id']}/start")
    seen = []   # every progress the task showed while it ran, as the UI polls it

    def finished():
        t = real.get_task(task["id"])
        if t["progress"] and (not seen or seen[-1] != t["progress"]):
            seen.append(t["progress"])
        return t["status"] in ("done", "failed", "stopped", "interrupted") and t

    done = wait_for(finished, 600, "the Z-Image run")
    folder = real.data_dir / "tasks" / task["id"] / "output"
    logs = {stage: real.call("GET", f"/api/tasks/{task['id']}/log?stage={stage}&tail=10000000")["text"]
            for stage in ("cache_latents", "cache_text_encoder", "train")}
    return {"real": real, "task": done, "folder": folder, "logs": logs, "progress": seen}


def test_runs_to_done_with_every_stage(full_run):
    task, logs = full_run["task"], full_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    # the real scripts ran, with the tiny models loaded completely
    assert re.search(r"\d+it \[", logs["cache_latents"]), logs["cache_latents"][-2000:]
    assert re.search(r"\d+it \[", logs["cache_text_encoder"]), logs["cache_text_encoder"][-2000:]
    assert "Loaded DiT model" in logs["train"] and "<All keys matched successfully>" in logs["train"]
    assert "total optimization steps / 学習ステップ数: 4" in logs["train"]
    # the tokenizer came from the app's HF_HOME (the test process has none set, and HF is offline)
    assert "Loading tokenizer from Tongyi-MAI/Z-Image" in logs["cache_text_encoder"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 4
    assert task["progress"]["epoch"] == task["progress"]["total_epochs"] == 2


def test_both_cache_stages_show_progress(full_run):
    for stage in ("cache_latents", "cache_text_encoder"):
        counts = [p.get("step") for p in full_run["progress"] if p.get("stage") == stage]
        assert any(c for c in counts), (stage, counts)


def test_checkpoints_and_states_are_listed_and_served(full_run):
    real, task, folder = full_run["real"], full_run["task"], full_run["folder"]
    disk = on_disk(folder)
    # by steps (2, 4), by epochs (1, 2) and the final one, each with its state
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny-step00000002.safetensors",
                                   "tiny-step00000004.safetensors", "tiny.safetensors"], disk
    assert {"tiny-step00000002-state", "tiny-step00000004-state", "tiny-state"} <= set(disk["states"]), disk
    outs = real.call("GET", f"/api/tasks/{task['id']}/outputs")
    assert sorted(c["file"] for c in outs["checkpoints"]) == disk["checkpoints"]
    assert sorted(s["dir"] for s in outs["states"]) == disk["states"]
    for c in outs["checkpoints"]:
        r = real.api.get(f"/api/tasks/{task['id']}/files/{c['file']}")
        assert r.status_code == 200 and r.data == (folder / c["file"]).read_bytes()


def test_every_sample_is_listed_and_served(full_run):
    real, task, folder = full_run["real"], full_run["task"], full_run["folder"]
    disk = on_disk(folder)["samples"]
    # steps 2 and 4, epochs 1 and 2 (musubi skips the epoch sample that falls on the last step: it samples at 4)
    assert len(disk) >= 3 and all(name.endswith("_000.png") for name in disk), disk
    listed = real.call("GET", f"/api/tasks/{task['id']}/outputs")["samples"]
    assert sorted(Path(s["file"]).name for s in listed) == disk
    for s in listed:
        assert real.api.get(f"/api/tasks/{task['id']}/files/{s['file']}").status_code == 200


def test_a_loss_point_for_every_step(full_run):
    real, task = full_run["real"], full_run["task"]
    points = real.call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    assert [p["step"] for p in points] == [1, 2, 3, 4]


def test_each_loss_point_carries_that_steps_value(full_run):
    real, task = full_run["real"], full_run["task"]
    logged = musubi_losses(full_run["logs"]["train"])
    assert sorted(logged) == [1, 2, 3, 4], logged
    points = real.call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    assert {p["step"]: round(p["loss"], 4) for p in points} == {k: round(v, 4) for k, v in logged.items()}


def test_convert_runs_musubis_convert_lora(full_run):
    real, task, folder = full_run["real"], full_run["task"], full_run["folder"]
    job = real.call("POST", f"/api/tasks/{task['id']}/convert", {"file": "tiny.safetensors", "target": "other"},
                    expect=202)["job"]
    job = real.wait_job(job["id"], timeout=300)
    assert job["status"] == "done", job
    converted = real.call("GET", f"/api/tasks/{task['id']}/outputs")["converted"]
    assert [c["source"] for c in converted] == ["tiny.safetensors"], converted
    r = real.api.get(f"/api/tasks/{task['id']}/files/{converted[0]['file']}")
    assert r.status_code == 200
    keys, original = safetensors_keys(r.data), safetensors_keys((folder / "tiny.safetensors").read_bytes())
    # the same LoRA weights under the other naming (musubi's own: lora_unet_..., lora_down/up, alpha per module;
    # the other: diffusion_model....lora_A/B, alpha folded into the weights)
    assert all(k.startswith("lora_unet_") for k in original)
    weights = [k for k in original if not k.endswith(".alpha")]
    assert len(keys) == len(weights) and all(k.startswith("diffusion_model.") for k in keys), sorted(keys)[:4]


def safetensors_keys(data: bytes) -> set[str]:
    """Tensor names from a .safetensors file's header (8-byte length, then JSON)."""
    import json
    import struct

    (n,) = struct.unpack("<Q", data[:8])
    return {k for k in json.loads(data[8:8 + n]) if k != "__metadata__"}


def step_of(task: dict) -> int:
    return ((task.get("progress") or {}).get("step") or 0) if task.get("stage") in (None, "train") else 0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


STOPPER_STEPS = 60   # 2 an epoch; long enough that the stop lands mid-run on a busy machine
STOPPER_SAVE_EVERY = 5   # epochs: rare saves, so the stop does not land in the middle of writing a state


@pytest.fixture(scope="module")
def stop_resume(real_module):
    """A 30-epoch (60-step) run with a linear LR schedule, stopped mid-run right after its first saved state,
    then resumed from the newest state to the end."""
    real = real_module
    ds = real.image_dataset(2)
    raw = zimage_task(real, ds, "stopper", epochs=STOPPER_STEPS // 2, save_every_n_steps=None,
                      save_every_n_epochs=STOPPER_SAVE_EVERY, lr_scheduler="linear")
    del raw["samples"]
    task = real.task(raw)
    real.call("POST", f"/api/tasks/{task['id']}/start")
    folder = real.data_dir / "tasks" / task["id"] / "output"
    first = folder / f"stopper-{STOPPER_SAVE_EVERY:06d}-state"
    wait_for(lambda: (first / "random_states_0.pkl").is_file() and (first / "scheduler.bin").is_file(), 600,
             "the first saved state")
    procs = _tree(real.get_task(task["id"])["pid"])
    real.call("POST", f"/api/tasks/{task['id']}/stop")
    stopped = real.wait_task(task["id"], ("stopped", "failed", "done"), timeout=120)
    _, alive = psutil.wait_procs(procs, timeout=10)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    states = sorted(p.name for p in folder.glob("stopper-0*-state"))
    assert stopped["status"] == "stopped", (stopped["status"], stopped["progress"], states)
    resumed = real.call("POST", f"/api/tasks/{task['id']}/resume", {"from": "state"})["task"]
    done = real.wait_task(task["id"], timeout=600)
    log = real.call("GET", f"/api/tasks/{task['id']}/log?stage=train&tail=10000000")["text"]
    return {"real": real, "task": done, "procs": procs, "alive": alive, "stopped": stopped, "states": states,
            "resumed": resumed, "folder": folder, "log": log}


def test_stop_mid_run_leaves_no_process(stop_resume):
    assert stop_resume["stopped"]["status"] == "stopped", stop_resume["stopped"]
    assert len(stop_resume["procs"]) >= 2, "accelerate launch and its training child"
    assert not stop_resume["alive"], stop_resume["alive"]


def test_resume_from_the_saved_state_trains_to_the_end(stop_resume):
    real, task, states = stop_resume["real"], stop_resume["task"], stop_resume["states"]
    raised = [ln for ln in re.split(r"[\r\n]+", stop_resume["log"]) if re.match(r"^[\w.]*(Error|Exception): ", ln)]
    assert task["status"] == "done", (raised, stop_resume["log"][-1500:])
    argv = task["run"]["stages"][-1]["argv"]
    assert argv[argv.index("--resume") + 1].endswith(states[-1])
    assert states[-1] in stop_resume["log"]               # musubi loaded that state
    assert task["progress"]["step"] == task["progress"]["total_steps"] == STOPPER_STEPS
    steps = [p["step"] for p in real.call("GET", f"/api/tasks/{task['id']}/loss")["points"]]
    assert steps == sorted(steps) and steps[-1] == STOPPER_STEPS, steps


def test_resume_continues_the_learning_rate_schedule(stop_resume):
    """musubi's own scheduler state in the first state the resumed run saved: a linear schedule over the task's
    steps must be where the uninterrupted run would be."""
    import json
    import subprocess

    states, folder = stop_resume["states"], stop_resume["folder"]
    resumed_epoch = int(states[-1].split("-")[1])
    saved = sorted(folder.glob("stopper-r1-0*-state"))
    assert saved, sorted(p.name for p in folder.iterdir())
    first = saved[0] / "scheduler.bin"
    res = subprocess.run([stop_resume["real"].trainer["python"], "-c",
                          "import json, sys, torch; s = torch.load(sys.argv[1], weights_only=False); "
                          "print(json.dumps(s['_last_lr']))", str(first)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    lr = json.loads(res.stdout.strip().splitlines()[-1])[0]
    # 2 steps an epoch; the resumed run numbers its epochs from 1 again
    step = 2 * (resumed_epoch + int(saved[0].name.split("-")[2]))
    assert lr == pytest.approx(1e-4 * (STOPPER_STEPS - step) / STOPPER_STEPS, rel=1e-3), (lr, step)


def test_a_config_musubi_rejects_reports_musubis_own_error(real):
    ds = real.image_dataset(1)
    raw = zimage_task(real, ds, "bad", epochs=1)
    # parses, but musubi raises when it builds the optimizer from these arguments
    raw["training"]["optimizer_args"] = ["betas=not_a_tuple"]
    task = real.task(raw)
    real.call("POST", f"/api/tasks/{task['id']}/start")
    failed = real.wait_task(task["id"])
    assert failed["status"] == "failed"
    log = real.call("GET", f"/api/tasks/{task['id']}/log?stage=train&tail=10000000")["text"]
    raised = [ln.strip() for ln in re.split(r"[\r\n]+", log)
              if re.match(r"^[\w.]*(Error|Exception): ", ln.strip()) and "CalledProcessError" not in ln]
    assert raised, log[-3000:]          # musubi's own exception line, earlier in the log than accelerate's
    assert raised[0] in failed["error"] and "CalledProcessError" not in failed["error"], failed["error"]
