"""HunyuanVideo 1.5 I2V against the REAL musubi-tuner, through the HTTP API only: a one-clip video dataset, the latent
cache with --i2v (the VAE encodes the clip and its start frame as the conditioning latent, SigLIP the start frame's
features), the text cache, two training steps with --task i2v, checkpoints and states listed and served, a loss point
per step. No sample: the T2V module samples, and an I2V sample differs only by its start image."""

from __future__ import annotations

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task
from .test_hunyuan_video_1_5 import CPU_DIT, hv15_models
from .test_wan import video_dataset


@pytest.fixture(scope="module")
def hv15_i2v_run(real_module):
    real = real_module
    models = {**hv15_models(real), "image_encoder": real.trainer["models"]["hv15_siglip"]}
    raw = lean_task("hunyuan-video-1.5-lora", video_dataset(real, 1), models, variant="i2v", extra_args=CPU_DIT,
                    training={"save_every_n_steps": None}, samples={"prompts": []},
                    dataset={"resolution": [64, 64], "enable_bucket": False, "target_frames": [5],
                             "frame_extraction": "head"})
    return real.run(raw)


def test_hunyuan_video_1_5_i2v_caches_the_start_frame_and_trains(hv15_i2v_run):
    real, task = hv15_i2v_run["real"], hv15_i2v_run["task"]
    cache = real.cache_after(hv15_i2v_run)
    argv = {s["name"]: s["argv"] for s in task["run"]["stages"]}
    assert {"--i2v", "--image_encoder"} <= set(argv["cache_latents"]), argv["cache_latents"]
    assert argv["train"][argv["train"].index("--task") + 1] == "i2v"
    real.assert_cached(cache, ["clip0_00000-005_0064x0064_hv15.safetensors", "clip0_hv15_te.safetensors"])
    # musubi's I2V cache: the clip's two latent frames (5 frames, 4x in time), the conditioning latent (the start
    # frame's latent in frame 0 plus the mask channel: 33 channels) and SigLIP's 729 patch features of the start frame
    tensors = read_header(cache / "clip0_00000-005_0064x0064_hv15.safetensors").tensors
    shapes = {k.rsplit("_", 1)[0]: list(t.shape) for k, t in tensors.items()}
    assert shapes == {"latents_2x4x4": [32, 2, 4, 4], "latents_image_2x4x4": [33, 2, 4, 4], "siglip": [729, 64]}, shapes
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_hunyuan_video_1_5_i2v_checkpoints_listed_and_served(hv15_i2v_run):
    disk = hv15_i2v_run["real"].outputs_listed_and_served(hv15_i2v_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
