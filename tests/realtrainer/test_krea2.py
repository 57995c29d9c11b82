"""Krea 2 against the REAL musubi-tuner, through the HTTP API only: the Qwen-Image VAE caches the latents, the
Qwen3-VL text encoder (Comfy-Org's single-file layout) the caption's selected hidden states, the RAW DiT trains two
steps; checkpoints and states listed and served, a loss point per step. No sample (the text encoder is what
sampling would add, and the text cache runs it already)."""

from __future__ import annotations

import json
import subprocess

import pytest

from server.models.safetensors_header import read_header

from .conftest import lean_task

CAPTION = "a red square"     # real.image_dataset's caption of img0


@pytest.fixture(scope="module")
def krea2_run(real_module):
    real = real_module
    m = real.trainer["models"]
    raw = lean_task("krea2-lora", real.image_dataset(1),
                    {"dit": m["krea2_dit"], "vae": m["qwen_image_vae"], "text_encoder": m["krea2_qwen3vl"]},
                    training={"save_every_n_steps": None}, samples={"prompts": []})
    return real.run(raw)


def caption_tokens(real, text: str) -> int:
    """How many tokens the tiny Qwen3-VL tokenizer (the one musubi loads) makes of `text`, asked of the trainer's
    own transformers."""
    code = ("import json, sys; from transformers import AutoTokenizer; "
            "t = AutoTokenizer.from_pretrained('Qwen/Qwen3-VL-4B-Instruct'); "
            "print(json.dumps(len(t(sys.argv[1])['input_ids'])))")
    res = subprocess.run([real.trainer["python"], "-c", code, text], capture_output=True, text=True, timeout=120,
                         env={"HF_HOME": str(real.data_dir / "huggingface"), "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_krea2_caches_and_trains(krea2_run):
    real, task = krea2_run["real"], krea2_run["task"]
    cache = real.cache_after(krea2_run)
    real.assert_cached(cache, ["img0_0064x0064_kr2.safetensors", "img0_kr2_te.safetensors"])
    # Qwen-Image VAE latents: 16 channels, one frame, 8x8 for 64x64
    latents = read_header(cache / "img0_0064x0064_kr2.safetensors").tensors
    assert [list(t.shape) for k, t in latents.items() if k.startswith("latents_")] == [[16, 1, 8, 8]], latents
    # the text cache: the selected hidden states (2 layers of the tiny encoder, 64 wide) of the caption's tokens and
    # the 5-token assistant suffix, no padding and nothing of the system prompt: musubi cut its 34 tokens off exactly
    text = read_header(cache / "img0_kr2_te.safetensors").tensors
    shapes = {k: list(t.shape) for k, t in text.items() if k.startswith("varlen_krea2_vl_embed_")}
    assert list(shapes.values()) == [[caption_tokens(real, CAPTION) + 5, 2, 64]], text
    assert task["progress"]["step"] == task["progress"]["total_steps"] == 2
    assert real.loss_steps(task["id"]) == [1, 2]


def test_krea2_checkpoints_listed_and_served(krea2_run):
    disk = krea2_run["real"].outputs_listed_and_served(krea2_run)
    assert disk["checkpoints"] == ["tiny-000001.safetensors", "tiny.safetensors"], disk
    assert disk["states"] == ["tiny-000001-state", "tiny-state"], disk
    assert disk["samples"] == [], disk
