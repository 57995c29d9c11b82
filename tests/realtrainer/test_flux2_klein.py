"""FLUX.2 klein-4b against the REAL musubi-tuner, through the HTTP API only: both cache stages (the FLUX.2 AE;
the Qwen3 text encoder with its tokenizer from the app's HF_HOME), two training steps with a sample, the
checkpoints listed and served, a loss point per step."""

from __future__ import annotations

import pytest

from .conftest import ONE_SAMPLE_AT_THE_END, lean_task


@pytest.fixture(scope="module")
def klein_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("flux2-lora", real.image_dataset(1, "Klein"),
                    {"dit": m["klein_dit"], "vae": m["klein_ae"], "text_encoder": m["zimage_qwen3"]},
                    variant="klein-4b", **ONE_SAMPLE_AT_THE_END)
    return real.run(raw)


def test_flux2_klein_runs_both_cache_stages_and_trains(klein_run):
    real, task, logs = klein_run["real"], klein_run["task"], klein_run["logs"]
    assert task["status"] == "done", (task["error"], logs["train"][-3000:])
    real.cache_stages_showed_progress(klein_run)
    assert "Loading tokenizer from Qwen/Qwen3-4B" in logs["cache_text_encoder"]
    assert "Loaded Flux 2: <All keys matched successfully>" in logs["train"]
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_flux2_klein_outputs_listed_and_served(klein_run):
    disk = klein_run["real"].outputs_listed_and_served(klein_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    # the one sample, at the end of epoch 2
    assert len(disk["samples"]) == 1 and disk["samples"][0].startswith("tiny_e000002_00_"), disk
    assert disk["samples"][0].endswith("_000.png"), disk
