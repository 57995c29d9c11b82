"""HiDream-O1 (full, text-to-image) against the REAL musubi-tuner, through the HTTP API only: no VAE, so the run
starts with `cache_pixels` (32x32 pixel patches of each image), then the text cache (the Qwen3-VL processor's token
ids, from the hub repo in the app's Hugging Face cache), then two training steps of the single Qwen3-VL checkpoint;
checkpoints and states listed and served, a loss point per step. No sample."""

from __future__ import annotations

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task


@pytest.fixture(scope="module")
def hidream_run(real_module):
    real = real_module
    raw = lean_task("hidream-o1-lora", real.image_dataset(1), {"dit": real.trainer["models"]["hidream_o1_dit"]},
                    variant="full-t2i", training={"save_every_n_steps": None}, samples={"prompts": []})
    return real.run(raw)


def test_hidream_o1_caches_pixels_and_trains(hidream_run):
    real, task, logs = hidream_run["real"], hidream_run["task"], hidream_run["logs"]
    assert list(logs) == ["cache_pixels", "cache_text_encoder", "train"], list(logs)
    cache = real.cache_after(hidream_run)
    argv = {s["name"]: s["argv"] for s in task["run"]["stages"]}
    pixels_argv = argv["cache_pixels"]
    assert pixels_argv[pixels_argv.index("--dataset_config") - 1].endswith("hidream_o1_cache_pixel.py"), pixels_argv
    names = real.assert_cached(cache, ["img0_0064x0064_ho1.safetensors", "img0_ho1_te.safetensors"])
    # pixels, not latents: a 2x2 grid of 32x32 RGB patches (3072 values each) for the 64x64 image
    pixels = read_header(cache / names[0]).tensors
    assert [list(t.shape) for k, t in pixels.items() if k.startswith("latents_")] == [[2, 2, 32 * 32 * 3]], pixels
    # t2i: the prompt's token ids alone (no control pixels; no embeddings: the app gives the text cache no --dit)
    text = read_header(cache / names[1]).tensors
    assert [k.rsplit("_", 1)[0] for k in text] == ["varlen_input_ids"], text
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_hidream_o1_checkpoints_listed_and_served(hidream_run):
    disk = hidream_run["real"].outputs_listed_and_served(hidream_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
