"""Wan 2.1 t2v-1.3B against the REAL musubi-tuner on a real (tiny) video dataset, through the HTTP API only:
both cache stages, training with video sampling and saving by steps and by epochs, every checkpoint, state
and .mp4 sample musubi wrote listed and served, a loss point per step."""

from __future__ import annotations

import re

import av
import numpy as np
import pytest

from tests.live import wait_for

from .test_zimage import on_disk


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
    return {
        "name": name, "task_type": "wan2.1-lora", "variant": "t2v-1.3B", "dataset_id": ds_id, "vram_preset": "high",
        "gpus": [0], "models": {"dit": m["wan_dit"], "vae": m["wan_vae"], "t5": m["wan_t5"]},
        "dataset": {"resolution": [64, 64], "enable_bucket": False, "target_frames": [5], "frame_extraction": "head"},
        "training": {"max_train_epochs": 2, "optimizer_type": "AdamW", "network_dim": 4, "network_alpha": 4,
                     "save_every_n_epochs": 1, "save_every_n_steps": 2, "save_state": True,
                     "max_data_loader_n_workers": 0, "persistent_data_loader_workers": False,
                     "gradient_checkpointing": False, "save_precision": "fp32"},
        # bf16 3D convolutions are several times slower than fp32 on a CPU (REAL-RUN.md)
        "extra_args": ["--vae_dtype", "float32"],
        "samples": {"every_n_epochs": 1, "every_n_steps": 2, "width": 64, "height": 64, "frames": 5, "steps": 2,
                    "prompts": [{"prompt": "a square moving right", "seed": 42}]},
    }


@pytest.fixture(scope="module")
def wan_run(real_module):
    real = real_module
    ds = video_dataset(real)
    task = real.task(wan_task(real, ds))
    real.call("POST", f"/api/tasks/{task['id']}/start")
    done = wait_for(lambda: (t := real.get_task(task["id"]))["status"] in ("done", "failed", "stopped") and t, 900,
                    "the Wan run")
    logs = {stage: real.call("GET", f"/api/tasks/{task['id']}/log?stage={stage}&tail=10000000")["text"]
            for stage in ("cache_latents", "cache_text_encoder", "train")}
    return {"real": real, "task": done, "logs": logs, "folder": real.data_dir / "tasks" / task["id"] / "output"}


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
    real, task, folder = wan_run["real"], wan_run["task"], wan_run["folder"]
    disk = on_disk(folder)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny-step00000002.safetensors",
                                   "tiny-step00000004.safetensors", "tiny.safetensors"], disk
    assert disk["samples"] and all(n.endswith(".mp4") for n in disk["samples"]), disk
    outs = real.call("GET", f"/api/tasks/{task['id']}/outputs")
    assert sorted(c["file"] for c in outs["checkpoints"]) == disk["checkpoints"]
    assert sorted(s["dir"] for s in outs["states"]) == disk["states"]
    assert sorted(s["file"] for s in outs["samples"]) == [f"sample/{n}" for n in disk["samples"]]
    for s in outs["samples"]:
        r = real.api.get(f"/api/tasks/{task['id']}/files/{s['file']}")
        assert r.status_code == 200 and r.data == (folder / s["file"]).read_bytes()
    points = real.call("GET", f"/api/tasks/{task['id']}/loss")["points"]
    assert [p["step"] for p in points] == [1, 2, 3, 4]
