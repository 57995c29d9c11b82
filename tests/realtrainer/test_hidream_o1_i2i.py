"""HiDream-O1 image-to-image (full-i2i) against the REAL musubi-tuner, through the HTTP API only: an image_control
dataset; the pixel cache holds each target's and its control image's 32x32 patches, the text cache the Qwen3-VL
processor's output for the prompt with its control image (token ids, the image processor's patches and grid: the
processor files of the hub repo in the app's Hugging Face cache), then two training steps that run the vision tower;
checkpoints and states listed and served, a loss point per step. No sample."""

from __future__ import annotations

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task


@pytest.fixture(scope="module")
def i2i_run(real_module):
    real = real_module
    raw = lean_task("hidream-o1-lora", real.image_dataset(1, "Edits", controls=True),
                    {"dit": real.trainer["models"]["hidream_o1_dit"]}, variant="full-i2i",
                    training={"save_every_n_steps": None}, samples={"prompts": []})
    return real.run(raw)


def test_hidream_o1_i2i_caches_the_control_image_and_trains(i2i_run):
    real, task = i2i_run["real"], i2i_run["task"]
    cache = real.cache_after(i2i_run)
    names = real.assert_cached(cache, ["img0_0064x0064_ho1.safetensors", "img0_ho1_te.safetensors"])
    # the target's and the control image's pixel patches (2x2 of 32x32 RGB each, for 64x64 images)
    pixels = {k.rsplit("_", 1)[0]: list(t.shape) for k, t in read_header(cache / names[0]).tensors.items()}
    assert pixels == {"latents_1x2x2": [2, 2, 3072], "latents_control_0_2x2": [2, 2, 3072]}, pixels
    # the processor's view of the control image, resized to musubi's 384x384 condition size: 24x24 patches of
    # 16x16 pixels x 3 channels x 2 frames (the tiny preprocessor_config's patch sizes, as Qwen3-VL's)
    text = {k.rsplit("_", 1)[0]: list(t.shape) for k, t in read_header(cache / names[1]).tensors.items()}
    assert text.pop("varlen_pixel_values") == [24 * 24, 3 * 2 * 16 * 16], text
    assert text.pop("varlen_image_grid_thw") == [1, 3] and list(text) == ["varlen_input_ids"], text
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_hidream_o1_i2i_checkpoints_listed_and_served(i2i_run):
    disk = i2i_run["real"].outputs_listed_and_served(i2i_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
