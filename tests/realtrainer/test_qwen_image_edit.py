"""Qwen-Image-Edit (edit-2511, the default variant) with control images against the REAL musubi-tuner, through
the HTTP API only: an image_control dataset imported from a folder with control/, both cache stages (the
latent cache holds the control latents; the text-encoder cache runs Qwen2.5-VL's vision tower on the control
image through Qwen2VLProcessor), two training steps with a sample that edits a control image, checkpoints and
states listed and served, a loss point per step."""

from __future__ import annotations

import pytest
from PIL import Image

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task
from .test_qwen_image import qwen_models


@pytest.fixture(scope="module")
def edit_run(real_module):
    real = real_module
    ds = real.image_dataset(1, "Edits", controls=True)
    control = real.tmp / "sample-control.png"
    Image.new("RGB", (64, 64), "purple").save(control)
    raw = lean_task("qwen-image-edit-lora", ds, qwen_models(real),
                    training=ONE_SAMPLE_AT_THE_END["training"], samples={**ONE_SAMPLE_AT_THE_END["samples"],
                             "prompts": [{"prompt": "make it red", "seed": 42, "control_images": [str(control)]}]})
    return real.run(raw)


def test_qwen_image_edit_runs_both_cache_stages_and_trains(edit_run):
    real, task, logs = edit_run["real"], edit_run["task"], edit_run["logs"]
    cache = real.cache_after(edit_run)
    # the control image went through the processor (its <|image_pad|> tokens met the vision tower's features)
    assert "Loading VL processor from Qwen/Qwen-Image-Edit" in logs["cache_text_encoder"]
    real.assert_cached(cache, ["img0_0064x0064_qie.safetensors", "img0_qie_te.safetensors"])
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_qwen_image_edit_checkpoints_and_control_sample_listed_and_served(edit_run):
    real, task = edit_run["real"], edit_run["task"]
    disk = real.outputs_listed_and_served(edit_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # the one sample, at the end of epoch 2, edited from the control image the prompt names
    assert len(disk["samples"]) == 1 and disk["samples"][0].startswith("tiny_e000002_00_"), disk
    assert disk["samples"][0].endswith("_000.png"), disk
    # musubi encoded the sample prompt together with that control image
    control = str(edit_run["real"].tmp / "sample-control.png")
    assert f"cache Text Encoder outputs for prompt: make it red with image: ['{control}']" in edit_run["logs"]["train"]
