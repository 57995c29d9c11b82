"""Wan 2.1 t2v-1.3B against the REAL musubi-tuner on a real (tiny) video dataset, through the HTTP API only:
both cache stages, training with video sampling and saving by steps and by epochs, every checkpoint, state
and .mp4 sample musubi wrote listed and served, a loss point per step."""

from __future__ import annotations

import re

import av
import numpy as np
import pytest

from .conftest import lean_task


def write_clip(path, colour: tuple[int, int, int], frames: int = 8, size: int = 64) -> None:
    """A real H.264 .mp4 (PyAV), a square of `colour` moving across a dark background."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(frames):
            img = np.full((size, size, 3), 20, dtype=np.uint8)
            img[16:48, 4 * i:4 * i + 24] = colour
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def video_dataset(real, count: int = 2) -> str:
    ds = real.call("POST", "/api/datasets", {"name": "Clips", "type": "video"}, expect=201)["dataset"]
    folder = real.tmp / f"clips-{ds['id']}"
    folder.mkdir()
    for i, colour in enumerate([(220, 30, 30), (30, 30, 220)][:count]):
        write_clip(folder / f"clip{i}.mp4", colour)
        (folder / f"clip{i}.txt").write_text(f"a square moving right, {i}", encoding="utf-8")
    job = real.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)},
                    expect=202)["job"]
    assert real.wait_job(job["id"])["status"] == "done"
    return ds["id"]


def wan_task(real, ds_id: str, name: str = "tiny") -> dict:
    m = real.trainer["models"]
    return lean_task("wan2.1-lora", ds_id, {"dit": m["wan_dit"], "vae": m["wan_vae"], "t5": m["wan_t5"]}, name,
                     variant="t2v-1.3B",
                     # bf16 3D convolutions are several times slower than fp32 on a CPU (REAL-RUN.md)
                     extra_args=["--vae_dtype", "float32"],
                     samples={"frames": 5, "prompts": [{"prompt": "a square moving right", "seed": 42}]},
                     dataset={"resolution": [64, 64], "enable_bucket": False, "target_frames": [5],
                              "frame_extraction": "head"})


@pytest.fixture(scope="module")
def wan_run(real_module):
    real = real_module
    return real.run(wan_task(real, video_dataset(real)))


def test_wan_runs_to_done_on_a_video_dataset(wan_run):
    task, logs = wan_run["task"], wan_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    assert re.search(r"\d+it \[", logs["cache_latents"]) and re.search(r"\d+it \[", logs["cache_text_encoder"])
    assert "total optimization steps / 学習ステップ数: 4" in logs["train"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 4
    # the latent cache holds the clips' start frames, named as musubi names them
    cache = wan_run["folder"].parent / "cache"
    assert sorted(p.name for p in cache.glob("*_wan.safetensors")) == [
        "clip0_00000-005_0064x0064_wan.safetensors", "clip1_00000-005_0064x0064_wan.safetensors"]


def test_wan_outputs_and_mp4_samples_are_listed_and_served(wan_run):
    real, task = wan_run["real"], wan_run["task"]
    disk = real.outputs_listed_and_served(wan_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny-step00000002.safetensors",
                                   "tiny-step00000004.safetensors", "tiny.safetensors"], disk
    assert disk["samples"] and all(n.endswith(".mp4") for n in disk["samples"]), disk
    assert real.loss_steps(task["id"]) == [1, 2, 3, 4]
