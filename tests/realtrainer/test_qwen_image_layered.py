"""Qwen-Image-Layered against the REAL musubi-tuner, through the HTTP API only: an image dataset imported from a
folder where the captioned RGBA image (img0.png) has its layer images (img0_1.png, img0_2.png) beside it, read by
musubi with multiple_target; the RGBA Layered VAE caches the image and its layers, the text encoder the caption;
two training steps, checkpoints and states listed and served, a loss point per step. No sample: a layered sample
is the image and all its layers, the slowest kind, and sampling itself is covered by the other Qwen-Image runs."""

from __future__ import annotations

import pytest
from PIL import Image

from server.models.safetensors_header import read_header

from .conftest import lean_task


def layered_dataset(real, layers: int = 2) -> str:
    ds = real.call("POST", "/api/datasets", {"name": "Layers", "type": "image"}, expect=201)["dataset"]
    folder = real.tmp / f"layers-{ds['id']}"
    folder.mkdir()
    Image.new("RGBA", (64, 64), (200, 40, 40, 255)).save(folder / "img0.png")
    (folder / "img0.txt").write_text("a red square with a blue dot", encoding="utf-8")
    for i in range(1, layers + 1):
        layer = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
        layer.paste((40, 40, 200, 255), (8 * i, 8 * i, 8 * i + 16, 8 * i + 16))
        layer.save(folder / f"img0_{i}.png")
    job = real.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)},
                    expect=202)["job"]
    assert real.wait_job(job["id"])["status"] == "done"
    return ds["id"]


@pytest.fixture(scope="module")
def layered_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("qwen-image-layered-lora", layered_dataset(real),
                    {"dit": m["qwen_layered_dit"], "vae": m["qwen_layered_vae"], "text_encoder": m["qwen_image_vl"]},
                    variant="layered", training={"save_every_n_steps": None}, samples={"prompts": []})
    return real.run(raw)


def test_qwen_image_layered_caches_the_layers_and_trains(layered_run):
    real, task, logs = layered_run["real"], layered_run["task"], layered_run["logs"]
    cache = real.cache_after(layered_run)
    # musubi found the caption's image and its two layers as one item of three targets
    found = "found multiple-target images, max targets per image: 2"
    assert found in logs["cache_latents"], logs["cache_latents"][-3000:]
    real.assert_cached(cache, ["img0_0064x0064_qil.safetensors", "img0_qil_te.safetensors"])
    # the RGBA VAE encoded the image and both layers: three latent frames (16 channels, 8x8 for 64x64)
    latents = read_header(cache / "img0_0064x0064_qil.safetensors").tensors
    assert [list(t.shape) for k, t in latents.items() if k.startswith("latents_")] == [[16, 3, 8, 8]], latents
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_qwen_image_layered_checkpoints_listed_and_served(layered_run):
    disk = layered_run["real"].outputs_listed_and_served(layered_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
