"""Qwen-Image against the REAL musubi-tuner through the HTTP API: both cache stages (the tiny Qwen2.5-VL text
encoder and Qwen-Image VAE), training with saving by steps and epochs and sampling, outputs listed and served,
a loss point per step."""

from __future__ import annotations

import re

import pytest

from .conftest import lean_task


def qwen_models(real) -> dict:
    m = real.trainer["models"]
    return {"dit": m["qwen_image_dit"], "vae": m["qwen_image_vae"], "text_encoder": m["qwen_image_vl"]}


@pytest.fixture(scope="module")
def qwen_run(real_module):
    real = real_module
    return real.run(lean_task("qwen-image-lora", real.image_dataset(2), qwen_models(real)))


def test_qwen_image_runs_to_done(qwen_run):
    task, logs = qwen_run["task"], qwen_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    assert re.search(r"\d+it \[", logs["cache_latents"]) and re.search(r"\d+it \[", logs["cache_text_encoder"])
    assert "Loaded Qwen2.5-VL: <All keys matched successfully>" in logs["cache_text_encoder"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 4
    points = qwen_run["real"].call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    assert [p["step"] for p in points] == [1, 2, 3, 4]


def test_qwen_image_checkpoints_states_and_samples_listed_and_served(qwen_run):
    disk = qwen_run["real"].outputs_listed_and_served(qwen_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny-step00000002.safetensors",
                                   "tiny-step00000004.safetensors", "tiny.safetensors"], disk
    assert disk["samples"] and all(n.endswith("_000.png") for n in disk["samples"]), disk
