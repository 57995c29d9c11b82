"""POST /api/tasks/vram: the create form's VRAM figures, computed on the server only (training/vram.py)."""

from __future__ import annotations

import pytest

from server.training import config, task_types, vram
from server.training.task_types import PRESETS

from .conftest import add_dataset


def ask(api, raw: dict, status: int = 200) -> dict:
    r = api.post("/api/tasks/vram", json=raw)
    assert r.status_code == status, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("type_id", sorted(task_types.TASK_TYPES))
def test_every_preset_button_shows_the_figure_that_choosing_it_gives(api, type_id):
    ttype = task_types.get(type_id)
    for v in ttype.variants:
        base = {"task_type": type_id, "variant": v.key, "name": "x", "training": {"gradient_checkpointing": True}}
        figures = ask(api, {**base, "vram_preset": "custom"})
        kind = "video" if ttype.video and "video" in ttype.accepted_dataset_types(v.key) else "image"
        assert figures["dataset_type"] == kind
        for preset in PRESETS:
            chosen = ask(api, {**base, "vram_preset": preset})
            assert chosen["estimate_gb"] == figures["presets"][preset] == chosen["presets"][preset]
            assert chosen["estimate_gb"] == vram.estimate_gb(ttype, config.resolve(config.check(
                {**base, "vram_preset": preset})), kind)


def test_the_chosen_dataset_decides_image_or_video(api, svc):
    add_dataset(svc, "ds_00000001", type_="image")
    add_dataset(svc, "ds_00000002", type_="video")
    raw = {"task_type": "wan2.1-lora", "name": "x", "vram_preset": "low",
           "dataset": {"resolution": [960, 544], "target_frames": [81]}}
    still = ask(api, {**raw, "dataset_id": "ds_00000001"})
    clip = ask(api, {**raw, "dataset_id": "ds_00000002"})
    assert (still["dataset_type"], clip["dataset_type"]) == ("image", "video")
    assert clip["estimate_gb"] > still["estimate_gb"]          # 21 latent frames, not one picture
    assert ask(api, {**raw, "dataset_id": "ds_gone0000"}) == clip   # no such dataset: the type's default


def test_wan22_both_experts_count_twice_unless_the_inactive_one_is_offloaded(api):
    raw = {"task_type": "wan2.2-lora", "variant": "t2v-A14B", "name": "x", "vram_preset": "custom",
           "training": {"fp8_base": True, "fp8_scaled": True, "blocks_to_swap": 0}}
    one = ask(api, {**raw, "training": {**raw["training"], "experts": "low"}})["estimate_gb"]
    both = ask(api, {**raw, "training": {**raw["training"], "experts": "both"}})["estimate_gb"]
    offloaded = ask(api, {**raw, "training": {**raw["training"], "experts": "both", "offload_inactive_dit": True}})
    assert both > one and offloaded["estimate_gb"] == one


def test_a_config_that_is_not_valid_is_refused_with_a_code(api):
    body = ask(api, {"task_type": "qwen-image-lora", "name": "x", "training": {"blocks_to_swap": "many"}}, 422)
    assert body["error"]["code"] and body["error"]["details"]["field"] == "training.blocks_to_swap"
