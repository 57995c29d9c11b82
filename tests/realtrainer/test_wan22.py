"""Wan 2.2 t2v-A14B with both experts (a low-noise and a high-noise DiT) against the REAL musubi-tuner on a real
(tiny) video dataset, through the HTTP API only: both cache stages, two training steps switching between the
experts at the timestep boundary, an .mp4 sample, checkpoints listed and served, a loss point per step."""

from __future__ import annotations

import pytest

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task
from .test_wan import video_dataset


@pytest.fixture(scope="module")
def wan22_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("wan2.2-lora", video_dataset(real, 1),
                    {"dit": m["wan22_dit_low"], "dit_high_noise": m["wan22_dit_high"], "vae": m["wan_vae"],
                     "t5": m["wan_t5"]},
                    variant="t2v-A14B", extra_args=["--vae_dtype", "float32"],
                    training={**ONE_SAMPLE_AT_THE_END["training"], "experts": "both"},
                    samples={**ONE_SAMPLE_AT_THE_END["samples"], "frames": 5,
                             "prompts": [{"prompt": "a square moving right", "seed": 42}]},
                    dataset={"resolution": [64, 64], "enable_bucket": False, "target_frames": [5],
                             "frame_extraction": "head"})
    return real.run(raw)


def test_wan22_trains_both_experts(wan22_run):
    real, task, logs = wan22_run["real"], wan22_run["task"], wan22_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    real.cache_stages_showed_progress(wan22_run)
    argv = task["run"]["stages"][-1]["argv"]
    assert argv[argv.index("--dit_high_noise") + 1] == real.trainer["models"]["wan22_dit_high"]
    assert "--timestep_boundary" in argv
    # musubi loaded both experts from their files
    for expert in ("low", "high"):
        assert f"wan22_dit_{expert}.safetensors" in logs["train"], expert
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_wan22_outputs_listed_and_served(wan22_run):
    disk = wan22_run["real"].outputs_listed_and_served(wan22_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # the one sample, at the end of epoch 2
    assert len(disk["samples"]) == 1 and disk["samples"][0].startswith("tiny_e000002_00_"), disk
    assert disk["samples"][0].endswith(".mp4"), disk
