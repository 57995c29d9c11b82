"""FramePack one-frame training (docs/framepack_1f.md) against the REAL musubi-tuner, through the HTTP API only: an
image_control dataset (each target with its start image in control/), the latent cache with --one_frame and the
table's one-frame options (the control image as the index-0 clean latent, a zero `post` latent after the window, the
target at index 9; the 2x history left out with --one_frame_no_2x, the 4x history indices kept), the text cache, two
training steps with --one_frame over batches of both items (--sdpa with a batch of 2 needs --split_attn, which the
command adds), one one-frame sample at the end (the prompt line's --i, --ci and --of read by musubi's one-frame
sampler: FramePack's only sampling run here, the cheapest one), checkpoints, states and the sample listed and served,
a loss point per step."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from server.models.safetensors_header import read_header

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task
from .test_framepack import framepack_models, shapes


def int64_values(path, name: str) -> list[int]:
    """An int64 tensor's values, read at its offsets after the header (the app's venv has no safetensors)."""
    header = read_header(path)
    t = header.tensors[name]
    with open(path, "rb") as f:
        f.seek(8 + header.header_size + t.start)
        data = f.read(t.end - t.start)
    return list(struct.unpack(f"<{len(data) // 8}q", data))


@pytest.fixture(scope="module")
def fpack_1f_run(real_module):
    real = real_module
    start = real.tmp / "sample-start.png"
    Image.new("RGB", (64, 64), "purple").save(start)
    raw = lean_task("framepack-1f-lora", real.image_dataset(2, "Starts", controls=True), framepack_models(real),
                    variant="original", training={**ONE_SAMPLE_AT_THE_END["training"], "one_frame_no_2x": True},
                    samples={**ONE_SAMPLE_AT_THE_END["samples"], "prompts": [
                        {"prompt": "a red square", "seed": 42, "image": str(start), "control_images": [str(start)]}]},
                    dataset={"resolution": [64, 64], "enable_bucket": False, "batch_size": 2,
                             "fp_1f_clean_indices": [0], "fp_1f_target_index": 9, "fp_1f_no_post": False})
    return real.run(raw)


def test_framepack_1f_caches_the_control_as_clean_latent_and_trains(fpack_1f_run):
    real, task = fpack_1f_run["real"], fpack_1f_run["task"]
    cache = real.cache_after(fpack_1f_run)
    argv = {s["name"]: s["argv"] for s in task["run"]["stages"]}
    assert {"--one_frame", "--one_frame_no_2x", "--image_encoder"} <= set(argv["cache_latents"]), argv
    assert "--one_frame_no_4x" not in argv["cache_latents"] and {"--one_frame", "--split_attn"} <= set(argv["train"])
    real.assert_cached(cache, [
        "img0_0064x0064_fp.safetensors", "img0_fp_te.safetensors", "img1_0064x0064_fp.safetensors",
        "img1_fp_te.safetensors"])
    # musubi's one-frame cache: the target's latent (one frame) at index 9; the clean latents are the control
    # image's and the zero `post` latent (fp_1f_no_post false) at 0 and 1 + latent_window_size; no 2x indices
    # (--one_frame_no_2x), the 4x ones after the post and 2x slots; the control image's SigLIP features
    path = cache / "img0_0064x0064_fp.safetensors"
    latents = shapes(path)
    assert latents == {"latents_1x8x8": [16, 1, 8, 8], "latent_indices": [1],
                       "latents_clean_1x8x8": [16, 2, 8, 8], "clean_latent_indices": [2],
                       "clean_latent_4x_indices": [16], "image_embeddings": [729, 64]}, latents
    assert int64_values(path, "latent_indices_int64") == [9]
    assert int64_values(path, "clean_latent_indices_int64") == [0, 10]
    assert int64_values(path, "clean_latent_4x_indices_int64") == list(range(13, 29))
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_framepack_1f_checkpoints_and_sample_listed_and_served(fpack_1f_run):
    disk = fpack_1f_run["real"].outputs_listed_and_served(fpack_1f_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # the one sample, at the end of epoch 2: one frame from the start image at the --of indices
    assert len(disk["samples"]) == 1 and disk["samples"][0].startswith("tiny_e000002_00_"), disk
    assert disk["samples"][0].endswith("_000.png"), disk
    train = fpack_1f_run["logs"]["train"]
    assert "Encoding image to image encoder context: " + str(fpack_1f_run["real"].tmp / "sample-start.png") in train
    assert "latent_indices: tensor([[9]]), clean_latent_indices: tensor([[ 0, 10]])" in train, train[-3000:]
