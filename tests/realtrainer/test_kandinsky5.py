"""Kandinsky 5 (Lite T2V 5 s) against the REAL musubi-tuner, through the HTTP API only: an image dataset, HunyuanVideo's
VAE caching latents (with musubi's first+last-frame image latents), the text cache from the two text encoders given as
Hugging Face model folders (Qwen2.5-VL with its processor, CLIP-L), two training steps on the task config's DiT, one
sample at the end (musubi names it by step alone), checkpoints, states and the sample listed and served, a loss point
per step."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.models.safetensors_header import read_header

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task


@pytest.fixture(scope="module")
def k5_run(real_module):
    real = real_module
    m = real.trainer["models"]
    folders = Path(m["k5_dit"]).parent.parent / "k5"   # make_tiny.kandinsky5: the model folders beside models/
    models = {"dit": m["k5_dit"], "vae": m["k5_vae"], "text_encoder_qwen": str(folders / "text_encoder"),
              "text_encoder_clip": str(folders / "text_encoder2")}
    raw = lean_task("kandinsky5-lora", real.image_dataset(1), models, variant="k5-lite-t2v-5s-sd",
                    training=ONE_SAMPLE_AT_THE_END["training"], samples={**ONE_SAMPLE_AT_THE_END["samples"], "frames": 1})
    return real.run(raw)


def test_kandinsky5_caches_and_trains_its_task_config(k5_run):
    real, task, logs = k5_run["real"], k5_run["task"], k5_run["logs"]
    cache = real.cache_after(k5_run)
    # musubi loads the DiT with strict=False: the log says whether every key matched
    assert "Loaded DiT weights: <All keys matched successfully>" in logs["train"], logs["train"][-3000:]
    real.assert_cached(cache, ["img0_0064x0064_k5.safetensors", "img0_k5_te.safetensors"])
    # HunyuanVideo's VAE: 16 channels, 8x8 for 64x64; the first and last frames kept for I2V whatever the task
    latents = {k.rsplit("_", 1)[0]: list(t.shape)
               for k, t in read_header(cache / "img0_0064x0064_k5.safetensors").tensors.items()}
    assert latents == {"latents_1x8x8": [16, 1, 8, 8], "latents_image_2x8x8": [16, 2, 8, 8]}, latents
    # Qwen2.5-VL's tokens (64 wide, the tiny one) with their mask, and CLIP's pooled embedding
    text = {k.rsplit("_", 1)[0] if k != "attention_mask" else k: list(t.shape)
            for k, t in read_header(cache / "img0_k5_te.safetensors").tensors.items()}
    assert set(text) == {"text_embeds", "pooled_embed", "attention_mask"}, text
    assert text["text_embeds"][1] == 64 and text["pooled_embed"] == [64], text
    assert text["attention_mask"] == text["text_embeds"][:1], text
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_kandinsky5_checkpoints_and_sample_listed_and_served(k5_run):
    disk = k5_run["real"].outputs_listed_and_served(k5_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # one sample at step 2, as its frame and as a video
    assert disk["samples"] == ["sample_000002_00.mp4", "sample_000002_00.png"], disk
