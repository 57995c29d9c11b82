"""FramePack (docs/framepack.md) video I2V training against the REAL musubi-tuner, through the HTTP API only: a
37-frame clip (the shortest FramePack trains on: one section of latent_window_size 9 latent frames after the start
frame), the latent cache with the SigLIP image encoder (one section file: the section's latents, its clean latents
and their indices, the start frame's image features), the LLaMA + CLIP-L text cache, two training steps of the packed
DiT, checkpoints and states listed and served, a loss point per step. No sample (a FramePack sample needs a start
image and renders a whole section; sampling is covered by other runs)."""

from __future__ import annotations

import re

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task
from .test_wan import write_clip

def shapes(path) -> dict:
    """The cache file's tensors by name less musubi's dtype suffix, with their shapes."""
    return {re.sub(r"_(?:b?float\d+|int\d+)$", "", k): list(t.shape) for k, t in read_header(path).tensors.items()}


FRAMES = 37   # (37 - 1) / 4 + 1 = 10 latent frames: the start frame and one 9-frame section


def framepack_models(real) -> dict:
    m = real.trainer["models"]
    return {"dit": m["fpack_dit"], "vae": m["fpack_vae"], "text_encoder1": m["fpack_llama"],
            "text_encoder2": m["fpack_clip_l"], "image_encoder": m["fpack_siglip"]}


@pytest.fixture(scope="module")
def fpack_run(real_module):
    real = real_module
    ds = real.call("POST", "/api/datasets", {"name": "Clips", "type": "video"}, expect=201)["dataset"]
    folder = real.tmp / "clips"
    folder.mkdir()
    write_clip(folder / "clip0.mp4", (220, 30, 30), frames=FRAMES)
    (folder / "clip0.txt").write_text("a red square moving right", encoding="utf-8")
    job = real.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)},
                    expect=202)["job"]
    assert real.wait_job(job["id"])["status"] == "done"
    raw = lean_task("framepack-lora", ds["id"], framepack_models(real), variant="original",
                    training={"save_every_n_steps": None}, samples={"prompts": []},
                    dataset={"resolution": [64, 64], "enable_bucket": False, "frame_extraction": "full",
                             "max_frames": FRAMES})
    return real.run(raw)


def test_framepack_caches_a_section_and_trains(fpack_run):
    real, task = fpack_run["real"], fpack_run["task"]
    cache = real.cache_after(fpack_run)
    argv = {s["name"]: s["argv"] for s in task["run"]["stages"]}
    assert "--image_encoder" in argv["cache_latents"], argv["cache_latents"]
    assert {"--text_encoder1", "--text_encoder2"} <= set(argv["cache_text_encoder"]), argv["cache_text_encoder"]
    # musubi names each section's cache after the clip's frames, with the section index appended
    real.assert_cached(cache, [f"clip0_00000-{FRAMES:03d}-0000_0064x0064_fp.safetensors", "clip0_fp_te.safetensors"])
    # the section (musubi names every latent tensor by the target's frames, 9x8x8): 9 latent frames (16 channels,
    # 8x8 for 64x64) and their indices; the clean latents (the start frame and one history frame) and the 2x and
    # 4x history, each with its indices; the start frame's SigLIP features (729 patches of 384px / 14, 64 wide)
    latents = shapes(cache / f"clip0_00000-{FRAMES:03d}-0000_0064x0064_fp.safetensors")
    assert latents == {"latents_9x8x8": [16, 9, 8, 8], "latent_indices": [9],
                       "latents_clean_9x8x8": [16, 2, 8, 8], "clean_latent_indices": [2],
                       "latents_clean_2x_9x8x8": [16, 2, 8, 8], "clean_latent_2x_indices": [2],
                       "latents_clean_4x_9x8x8": [16, 16, 8, 8], "clean_latent_4x_indices": [16],
                       "image_embeddings": [729, 64]}, latents
    # the LLaMA features padded to 512 tokens with their mask, CLIP-L's pooled output
    te = shapes(cache / "clip0_fp_te.safetensors")
    assert te == {"llama_vec": [512, 64], "llama_attention_mask": [512], "clip_l_pooler": [64]}, te
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_framepack_checkpoints_listed_and_served(fpack_run):
    disk = fpack_run["real"].outputs_listed_and_served(fpack_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
