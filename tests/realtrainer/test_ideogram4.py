"""Ideogram 4 against the REAL musubi-tuner, through the HTTP API only, with the files as a user has them: the
conditional DiT and the Qwen3-VL text encoder pre-quantized in Comfy-Org's fp8_scaled layout (the DiT exists only
so; the model check passes it), the FLUX.2 VAE. The VAE caches the latents, the text encoder the tapped hidden
states, the fp8 DiT trains two steps; checkpoints and states listed and served, a loss point per step. No sample."""

from __future__ import annotations

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task


@pytest.fixture(scope="module")
def ideogram4_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("ideogram4-lora", real.image_dataset(1),
                    {"dit": m["ideogram4_dit"], "vae": m["klein_ae"], "text_encoder": m["ideogram4_qwen3vl"]},
                    training={"save_every_n_steps": None}, samples={"prompts": []})
    return real.run(raw)


def test_ideogram4_fp8_dit_is_what_the_model_check_accepts(real_module):
    """The tiny DiT is laid out as the published ideogram4_fp8_scaled.safetensors: fp8 block weights with a scale and
    Comfy's marker each, metadata model_type ideogram4_cond; the app's check (POST /api/models/check) passes it."""
    path = real_module.trainer["models"]["ideogram4_dit"]
    header = read_header(path)
    assert header.metadata.get("model_type") == "ideogram4_cond", header.metadata
    fp8 = [k for k, t in header.tensors.items() if t.dtype == "F8_E4M3"]
    assert fp8 and all(f"{k.removesuffix('.weight')}.weight_scale" in header.tensors and
                       f"{k.removesuffix('.weight')}.comfy_quant" in header.tensors for k in fp8), fp8
    verdict = real_module.call("POST", "/api/models/check",
                               {"path": path, "task_type": "ideogram4-lora", "role": "dit"})
    assert verdict["status"] == "ok", verdict


def test_ideogram4_caches_and_trains_on_the_fp8_dit(ideogram4_run):
    real, task = ideogram4_run["real"], ideogram4_run["task"]
    cache = real.cache_after(ideogram4_run)
    names = real.assert_cached(cache, ["img0_0064x0064_i4.safetensors", "img0_i4_te.safetensors"])
    # FLUX.2 AE latents patchified 2x2: 128 channels, 4x4 for 64x64
    latents = read_header(cache / names[0]).tensors
    assert [list(t.shape)[-3:] for k, t in latents.items() if k.startswith("latents_")] == [[128, 4, 4]], latents
    # the tapped hidden states, concatenated (2 taps x 64 wide), one row per token, kept in bf16 (--text_cache_dtype)
    text = read_header(cache / names[1]).tensors
    assert [(list(t.shape)[-1], t.dtype) for k, t in text.items() if k.startswith("varlen_i4_llm_features_")] == [
        (128, "BF16")], text
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_ideogram4_checkpoints_listed_and_served(ideogram4_run):
    disk = ideogram4_run["real"].outputs_listed_and_served(ideogram4_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
