"""HunyuanVideo 1.5 T2V against the REAL musubi-tuner, through the HTTP API only: an image dataset whose caption quotes
text (so ByT5, the glyph encoder, encodes it beside Qwen2.5-VL), the 16x VAE's latent cache (32 channels), the text
cache with both encoders' outputs, two training steps, one sample at the end (a quoted prompt: both encoders again, the
sampler's CFG and the VAE's decoder), checkpoints, states and the sample listed and served, a loss point per step."""

from __future__ import annotations

import pytest
from PIL import Image

from server.models.safetensors_header import read_header

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task

# On a CPU the DiT trains in fp32: musubi casts it to bf16 by default, and CPU autocast then hands its LayerNorms fp32
# inputs with bf16 weights ("mixed dtype (CPU): expect parameter to have scalar type of Float"); CUDA's autocast
# takes them.
CPU_DIT = ["--dit_dtype", "float32"]


def sign_dataset(real) -> str:
    ds = real.call("POST", "/api/datasets", {"name": "Signs", "type": "image"}, expect=201)["dataset"]
    folder = real.tmp / f"signs-{ds['id']}"
    folder.mkdir()
    Image.new("RGB", (64, 64), "red").save(folder / "img0.png")
    (folder / "img0.txt").write_text('a red sign that reads "HELLO"', encoding="utf-8")
    job = real.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)},
                    expect=202)["job"]
    assert real.wait_job(job["id"])["status"] == "done"
    return ds["id"]


def hv15_models(real) -> dict:
    m = real.trainer["models"]
    return {"dit": m["hv15_dit"], "vae": m["hv15_vae"], "text_encoder": m["qwen_image_vl"], "byt5": m["hv15_byt5"]}


@pytest.fixture(scope="module")
def hv15_run(real_module):
    real = real_module
    raw = lean_task("hunyuan-video-1.5-lora", sign_dataset(real), hv15_models(real), variant="t2v",
                    extra_args=CPU_DIT, training=ONE_SAMPLE_AT_THE_END["training"],
                    samples={**ONE_SAMPLE_AT_THE_END["samples"], "frames": 1,
                             "prompts": [{"prompt": 'a sign that reads "HI"', "seed": 42}]})
    return real.run(raw)


def test_hunyuan_video_1_5_caches_both_encoders_and_trains(hv15_run):
    real, task, logs = hv15_run["real"], hv15_run["task"], hv15_run["logs"]
    cache = real.cache_after(hv15_run)
    assert "<All keys matched successfully>" in logs["cache_latents"]
    assert "BYT5 text encoder loaded with info: <All keys matched successfully>" in logs["cache_text_encoder"]
    real.assert_cached(cache, ["img0_0064x0064_hv15.safetensors", "img0_hv15_te.safetensors"])
    # the 16x VAE: 32 latent channels, 4x4 for 64x64, one frame
    latents = read_header(cache / "img0_0064x0064_hv15.safetensors").tensors
    assert {k: list(t.shape) for k, t in latents.items()} == {"latents_1x4x4_float16": [32, 1, 4, 4]}, latents
    # both encoders' outputs, by token: Qwen2.5-VL's (the tiny one is 64 wide) and ByT5's glyph embedding of the
    # quoted text (1472 wide; an empty one for a caption without quotes)
    text = {k.rsplit("_", 1)[0]: list(t.shape) for k, t in read_header(cache / "img0_hv15_te.safetensors").tensors.items()}
    assert set(text) == {"varlen_vl_embed", "varlen_byt5_embed"}, text
    assert text["varlen_vl_embed"][1] == 64 and text["varlen_byt5_embed"][0] > 0, text
    assert text["varlen_byt5_embed"][1] == 1472, text
    assert "Glyph text formatted" in logs["train"]   # the sample prompt's quoted text went to ByT5 too
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_hunyuan_video_1_5_checkpoints_and_sample_listed_and_served(hv15_run):
    disk = hv15_run["real"].outputs_listed_and_served(hv15_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert len(disk["samples"]) == 1 and disk["samples"][0].endswith(".png"), disk
