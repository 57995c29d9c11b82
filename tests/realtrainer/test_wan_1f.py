"""Wan 2.1 one-frame training (docs/wan_1f.md, i2v-14B) against the REAL musubi-tuner, through the HTTP API only:
an image_control dataset (each target with its start image in control/), the latent cache with --i2v --one_frame
(the VAE encodes the control image as the index-0 clean latent, Wan's CLIP its image features), the text cache,
two training steps, checkpoints and states listed and served, a loss point per step. No sample, to keep the run
lean (the one-frame sampling path is not run here)."""

from __future__ import annotations

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task


@pytest.fixture(scope="module")
def wan_1f_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("wan2.1-1f-lora", real.image_dataset(1, "Starts", controls=True),
                    {"dit": m["wan_i2v_dit"], "vae": m["wan_vae"], "t5": m["wan_t5"], "clip": m["wan_clip"]},
                    variant="i2v-14B", extra_args=["--vae_dtype", "float32"],
                    # without gradient checkpointing musubi leaves the DiT in eval mode, where the I2V cross-attention
                    # adds its image attention in place (`x += img_x`, wan/modules/model.py): on a CPU, SDPA's output
                    # is that x itself and backward fails ("modified by an inplace operation")
                    training={"save_every_n_steps": None, "gradient_checkpointing": True}, samples={"prompts": []},
                    dataset={"resolution": [64, 64], "enable_bucket": False, "fp_1f_clean_indices": [0],
                             "fp_1f_target_index": 1, "fp_1f_no_post": False})
    return real.run(raw)


def test_wan_1f_caches_the_control_as_clean_latent_and_trains(wan_1f_run):
    real, task = wan_1f_run["real"], wan_1f_run["task"]
    cache = real.cache_after(wan_1f_run)
    argv = {s["name"]: s["argv"] for s in task["run"]["stages"]}
    assert {"--i2v", "--one_frame", "--clip"} <= set(argv["cache_latents"]), argv["cache_latents"]
    assert "--one_frame" in argv["train"] and argv["train"][argv["train"].index("--task") + 1] == "i2v-14B"
    latents = sorted(p.name for p in cache.glob("*_wan.safetensors"))
    assert len(latents) == 1 and latents[0].startswith("img0_"), sorted(p.name for p in cache.iterdir())
    # musubi's one-frame cache: two latent frames (the control image's clean latent, index 0, and the target,
    # index 1) with their frame indices, the I2V conditioning and the CLIP features (257 tokens, 1280 wide)
    tensors = read_header(cache / latents[0]).tensors
    shapes = {k.rsplit("_", 1)[0]: list(t.shape) for k, t in tensors.items()}
    assert set(shapes) == {"latents_2x8x8", "latents_image_2x8x8", "clip", "f_indices"}, shapes
    assert shapes["f_indices"] == [2] and shapes["clip"][-2:] == [257, 1280], shapes
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_wan_1f_checkpoints_listed_and_served(wan_1f_run):
    disk = wan_1f_run["real"].outputs_listed_and_served(wan_1f_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
