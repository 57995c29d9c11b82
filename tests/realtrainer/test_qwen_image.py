"""Qwen-Image against the REAL musubi-tuner through the HTTP API: both cache stages (the tiny Qwen2.5-VL text
encoder and Qwen-Image VAE), training with saving by steps and epochs and sampling, outputs listed and served,
a loss point per step."""

from __future__ import annotations

import re

import pytest

from tests.live import wait_for

from .test_zimage import on_disk


def qwen_task(real, ds_id: str, name: str = "tiny") -> dict:
    m = real.trainer["models"]
    return {
        "name": name, "task_type": "qwen-image-lora", "dataset_id": ds_id, "vram_preset": "high", "gpus": [0],
        "models": {"dit": m["qwen_image_dit"], "vae": m["qwen_image_vae"], "text_encoder": m["qwen_image_vl"]},
        "dataset": {"resolution": [64, 64], "enable_bucket": False},
        "training": {"max_train_epochs": 2, "optimizer_type": "AdamW", "network_dim": 4, "network_alpha": 4,
                     "save_every_n_epochs": 1, "save_every_n_steps": 2, "save_state": True,
                     "max_data_loader_n_workers": 0, "persistent_data_loader_workers": False,
                     "gradient_checkpointing": False, "save_precision": "fp32"},
        "samples": {"every_n_epochs": 1, "every_n_steps": 2, "width": 64, "height": 64, "steps": 2,
                    "prompts": [{"prompt": "a red square", "seed": 42}]},
    }


@pytest.fixture(scope="module")
def qwen_run(real_module):
    real = real_module
    ds = real.image_dataset(2)
    task = real.task(qwen_task(real, ds))
    real.call("POST", f"/api/tasks/{task['id']}/start")
    done = wait_for(lambda: (t := real.get_task(task["id"]))["status"] in ("done", "failed", "stopped") and t, 900,
                    "the Qwen-Image run")
    logs = {stage: real.call("GET", f"/api/tasks/{task['id']}/log?stage={stage}&tail=10000000")["text"]
            for stage in ("cache_latents", "cache_text_encoder", "train")}
    return {"real": real, "task": done, "logs": logs, "folder": real.data_dir / "tasks" / task["id"] / "output"}


def test_qwen_image_runs_to_done(qwen_run):
    task, logs = qwen_run["task"], qwen_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    assert re.search(r"\d+it \[", logs["cache_latents"]) and re.search(r"\d+it \[", logs["cache_text_encoder"])
    assert "Loaded Qwen2.5-VL: <All keys matched successfully>" in logs["cache_text_encoder"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 4
    points = qwen_run["real"].call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    assert [p["step"] for p in points] == [1, 2, 3, 4]


def test_qwen_image_checkpoints_and_states_listed_and_served(qwen_run):
    real, task, folder = qwen_run["real"], qwen_run["task"], qwen_run["folder"]
    disk = on_disk(folder)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny-step00000002.safetensors",
                                   "tiny-step00000004.safetensors", "tiny.safetensors"], disk
    outs = real.call("GET", f"/api/tasks/{task['id']}/outputs")
    assert sorted(c["file"] for c in outs["checkpoints"]) == disk["checkpoints"]
    assert sorted(s["dir"] for s in outs["states"]) == disk["states"]
    for c in outs["checkpoints"]:
        assert real.api.get(f"/api/tasks/{task['id']}/files/{c['file']}").status_code == 200


def test_qwen_image_samples_listed(qwen_run):
    real, task, folder = qwen_run["real"], qwen_run["task"], qwen_run["folder"]
    disk = on_disk(folder)["samples"]
    assert disk and all(n.endswith("_000.png") for n in disk), disk
    listed = real.call("GET", f"/api/tasks/{task['id']}/outputs")["samples"]
    assert sorted(s["file"] for s in listed) == [f"sample/{n}" for n in disk]
