"""FLUX.1 Kontext with control images against the REAL musubi-tuner, through the HTTP API only: an image_control
dataset, both cache stages (latents of targets and controls; T5-XXL + CLIP-L text encoders with their tokenizers
from the app's HF_HOME), two training steps with a sample edited from a control image, the checkpoints listed
and served, a loss point per step."""

from __future__ import annotations

import pytest
from PIL import Image

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task


@pytest.fixture(scope="module")
def kontext_run(real_module):
    real = real_module
    control = real.tmp / "kontext-control.png"
    Image.new("RGB", (64, 64), "purple").save(control)
    m = real.trainer["models"]
    raw = lean_task("kontext-lora", real.image_dataset(1, "Kontext", controls=True),
                    {"dit": m["kontext_dit"], "vae": m["kontext_ae"], "text_encoder1": m["kontext_t5"],
                     "text_encoder2": m["kontext_clip_l"]},
                    training=ONE_SAMPLE_AT_THE_END["training"], samples={**ONE_SAMPLE_AT_THE_END["samples"],
                             "prompts": [{"prompt": "make it red", "seed": 42, "control_images": [str(control)]}]})
    return real.run(raw)


def test_kontext_runs_both_cache_stages_and_trains(kontext_run):
    real, task, logs = kontext_run["real"], kontext_run["task"], kontext_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    real.cache_stages_showed_progress(kontext_run)
    assert "Loaded T5xxl: <All keys matched successfully>" in logs["cache_text_encoder"]
    assert "Loaded CLIP-L: <All keys matched successfully>" in logs["cache_text_encoder"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_kontext_checkpoints_and_control_sample_listed_and_served(kontext_run):
    disk = kontext_run["real"].outputs_listed_and_served(kontext_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # the one sample, at the end of epoch 2
    assert len(disk["samples"]) == 1 and disk["samples"][0].startswith("tiny_e000002_00_"), disk
    assert disk["samples"][0].endswith("_000.png"), disk
    # the sample prompt carried its control image to musubi
    prompts = (kontext_run["folder"].parent / "sample_prompts.txt").read_text(encoding="utf-8")
    assert f"--ci {kontext_run['real'].tmp / 'kontext-control.png'}" in prompts
