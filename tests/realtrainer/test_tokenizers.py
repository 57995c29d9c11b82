"""Issue 11 §3 with the real trainer's environment: a task whose tokenizer is not in the app's Hugging Face
cache, with the hub offline, is refused before any stage starts, naming the tokenizer; the types whose
tokenizers are there (the other tests) run from that cache alone."""

from __future__ import annotations


def test_a_tokenizer_neither_cached_nor_reachable_fails_before_caching(real):
    ds = real.image_dataset(1)
    m = real.trainer["models"]
    # FLUX.2 klein-9b loads its tokenizer from Qwen/Qwen3-8B, which the fake cache does not hold (klein-4b's
    # Qwen/Qwen3-4B is there: test_flux2_klein.py)
    task = real.task({"name": "klein", "task_type": "flux2-lora", "variant": "klein-9b", "dataset_id": ds,
                      "vram_preset": "high", "gpus": [0],
                      "models": {"dit": m["zimage_dit"], "vae": m["zimage_vae"], "text_encoder": m["zimage_qwen3"]},
                      "training": {"max_train_epochs": 1}})
    r = real.api.post(f"/api/tasks/{task['id']}/start")
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "tokenizer_unavailable" and err["details"]["tokenizer"] == "Qwen/Qwen3-8B", err
    assert str(real.data_dir / "huggingface") in err["message"]
    after = real.get_task(task["id"])
    assert after["status"] == "draft" and not after.get("pid")
    assert not list((real.data_dir / "tasks" / task["id"]).rglob("*.log"))     # no stage ever started
