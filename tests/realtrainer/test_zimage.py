"""Z-Image against the REAL musubi-tuner, only through the app's HTTP API: dataset, task, start, both cache
stages, training with sampling and saving by steps and by epochs, outputs and the media route, loss, logs,
convert, stop, resume (also from states a stop cut short), and a configuration musubi itself rejects.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psutil
import pytest

from server.training import state_files
from tests.live import wait_for

from .conftest import lean_task, on_disk



def zimage_task(real, ds_id: str, name: str = "tiny", *, epochs: int = 2, **training) -> dict:
    m = real.trainer["models"]
    return lean_task("zimage-lora", ds_id, {"dit": m["zimage_dit"], "vae": m["zimage_vae"],
                                            "text_encoder": m["zimage_qwen3"]}, name, epochs=epochs, training=training)


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
    return real.run(zimage_task(real, real.image_dataset(2)), timeout=600)


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
    full_run["real"].cache_stages_showed_progress(full_run)


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
STOPPER_SAVE_EVERY = 5   # epochs: rare saves, so the stop rarely lands in the middle of writing a state


@pytest.fixture(scope="module")
def stop_resume(real_module):
    """A 30-epoch (60-step) run with a linear LR schedule, stopped mid-run once its second state is saved whole.
    Then, on those real state folders (each step needs the one before, so one sequence):
    1. every state made incomplete (each one's last file, random_states_0.pkl, moved away: what a stop between
       accelerate's writes leaves): resume is refused, nothing starts; the files are put back;
    2. the newest whole state cut short (its optimizer.bin truncated, as a stop mid-write leaves it): resume
       passes over it to the state before, and trains from there to the end."""
    real = real_module
    ds = real.image_dataset(2)
    raw = zimage_task(real, ds, "stopper", epochs=STOPPER_STEPS // 2, save_every_n_steps=None,
                      save_every_n_epochs=STOPPER_SAVE_EVERY, lr_scheduler="linear")
    del raw["samples"]
    task = real.task(raw)
    real.call("POST", f"/api/tasks/{task['id']}/start")
    folder = real.data_dir / "tasks" / task["id"] / "output"
    second = folder / f"stopper-{2 * STOPPER_SAVE_EVERY:06d}-state"
    wait_for(lambda: second.is_dir() and not state_files.state_problems(second), 600, "the second saved state")
    procs = _tree(real.get_task(task["id"])["pid"])
    real.call("POST", f"/api/tasks/{task['id']}/stop")
    stopped = real.wait_task(task["id"], ("stopped", "failed", "done"), timeout=120)
    _, alive = psutil.wait_procs(procs, timeout=10)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    states = sorted(p for p in folder.glob("stopper-0*-state") if p.is_dir())
    assert stopped["status"] == "stopped", (stopped["status"], stopped["progress"], states)
    # the stop may itself have cut a later state short: the whole ones are those before it
    whole = [p for p in states if not state_files.state_problems(p)]
    assert len(whole) >= 2 and whole == states[:len(whole)], [(p.name, state_files.state_problems(p)) for p in states]

    aside, moved = real.tmp / "aside", []
    for state in states:
        if (rng := state / "random_states_0.pkl").is_file():
            (aside / state.name).mkdir(parents=True)
            moved.append((rng, aside / state.name / rng.name))
            shutil.move(rng, moved[-1][1])
    r = real.api.post(f"/api/tasks/{task['id']}/resume", json={"from": "state"})
    refused = {"status": r.status_code, "body": r.get_json(), "task": real.get_task(task["id"])}
    if r.status_code != 422:   # it was accepted (the check is broken): let that run end, the test says why
        real.wait_task(task["id"], timeout=600)
    for original, kept in moved:
        shutil.move(kept, original)

    optimizer = whole[-1] / "optimizer.bin"
    optimizer.write_bytes(optimizer.read_bytes()[: optimizer.stat().st_size // 2])
    resumed = real.call("POST", f"/api/tasks/{task['id']}/resume", {"from": "state"})["task"]
    done = real.wait_task(task["id"], timeout=600)
    log = real.log(task["id"], "train")
    return {"real": real, "task": done, "procs": procs, "alive": alive, "stopped": stopped, "states": states,
            "whole": whole, "refused": refused, "resumed": resumed, "folder": folder, "log": log}


def test_stop_mid_run_leaves_no_process(stop_resume):
    assert stop_resume["stopped"]["status"] == "stopped", stop_resume["stopped"]
    assert len(stop_resume["procs"]) >= 2, "accelerate launch and its training child"
    assert not stop_resume["alive"], stop_resume["alive"]


def test_resume_with_every_state_incomplete_is_refused(stop_resume):
    refused = stop_resume["refused"]
    assert refused["status"] == 422, refused["body"]
    err = refused["body"]["error"]
    assert err["code"] == "resume_incomplete", err
    assert "random_states_0.pkl missing" in err["details"]["files"]
    assert {s["name"] for s in err["details"]["skipped"]} == {p.name for p in stop_resume["states"]}
    # nothing started: still the stopped first run
    assert refused["task"]["status"] == "stopped" and refused["task"]["run_no"] == stop_resume["stopped"]["run_no"]


def test_resume_passes_over_a_cut_newest_state_and_trains_to_the_end(stop_resume):
    real, task, log = stop_resume["real"], stop_resume["task"], stop_resume["log"]
    cut, previous = stop_resume["whole"][-1], stop_resume["whole"][-2]
    raised = [ln for ln in re.split(r"[\r\n]+", log) if re.match(r"^[\w.]*(Error|Exception): ", ln)]
    assert task["status"] == "done", (raised, log[-1500:])
    argv = task["run"]["stages"][-1]["argv"]
    assert argv[argv.index("--resume") + 1] == str(previous)
    assert cut.name in [s["name"] for s in task["run"]["resume"]["skipped"]]
    note = [w for w in task["run"]["warnings"] if w.startswith(f"{cut.name} is incomplete (optimizer.bin cut short")]
    assert note and note[0].endswith(f"resuming from {previous.name} instead."), task["run"]["warnings"]
    assert f"[{note[0]}]" in log        # at the top of the training log, which the task's page shows
    # musubi loaded that state (on a CPU accelerate then logs "Could not load random states" even for a whole
    # one: without CUDA it still reads the CUDA generators' states, which a CPU run never saved)
    assert f"resume training from local state: {previous}" in log
    assert "All optimizer states loaded successfully" in log and "All scheduler states loaded successfully" in log
    assert task["progress"]["step"] == task["progress"]["total_steps"] == STOPPER_STEPS
    steps = real.loss_steps(task["id"])
    assert steps == sorted(steps) and steps[-1] == STOPPER_STEPS, steps


def test_state_files_tell_whole_from_cut_states(stop_resume):
    """state_files' verdicts on copies of a real state folder, damaged the ways a cut write leaves one."""
    src, base = stop_resume["whole"][0], stop_resume["real"].tmp / "verdicts"
    assert state_files.state_problems(src) == {}

    def variant(name, damage):
        shutil.copytree(src, base / name)
        damage(base / name)
        return state_files.state_problems(base / name)

    def truncate(path, keep):
        path.write_bytes(path.read_bytes()[:int(path.stat().st_size * keep)])

    assert variant("no-rng", lambda d: (d / "random_states_0.pkl").unlink()) == {"random_states_0.pkl": "missing"}
    assert list(variant("cut-opt", lambda d: truncate(d / "optimizer.bin", 0.5))) == ["optimizer.bin"]
    assert list(variant("cut-sched", lambda d: truncate(d / "scheduler.bin", 0.9))) == ["scheduler.bin"]
    assert list(variant("cut-model", lambda d: truncate(d / "model.safetensors", 0.95))) == ["model.safetensors"]
    assert set(variant("empty", lambda d: [p.unlink() for p in d.iterdir()])) == {
        "model.safetensors", "optimizer.bin", "scheduler.bin", "random_states_0.pkl"}


def test_resume_continues_the_learning_rate_schedule(stop_resume):
    """musubi's own scheduler state in the first state the resumed run saved: a linear schedule over the task's
    steps must be where the uninterrupted run would be."""
    import json
    import subprocess

    folder = stop_resume["folder"]
    resumed_epoch = int(stop_resume["whole"][-2].name.split("-")[1])
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
