"""Datasets and sample prompts musubi would trip over are refused (or warned about) before any stage
starts, naming the files (dataset_checks.py mirrors musubi's dataset/datasources.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.errors import ValidationError
from server.training import task_types
from server.training.dataset_checks import match_controls

from .helpers import plan_for, raw_config, source


def dataset(root: Path, media: dict[str, str | None], controls: tuple[str, ...] = ()) -> Path:
    """media name -> caption (None: no caption file); control file names."""
    (root / "media").mkdir(parents=True)
    (root / "control").mkdir()
    for name, caption in media.items():
        (root / "media" / name).write_bytes(b"data")
        if caption is not None:
            (root / "media" / name).with_suffix(".txt").write_text(caption, encoding="utf-8")
    for name in controls:
        (root / "control" / name).write_bytes(b"data")
    return root


def caption_warnings(plan) -> list[str]:
    return [w for w in plan.warnings if "left out" in w]


def edit_plan(root: Path, task_type="qwen-image-edit-lora", variant="edit-2511", **kw):
    ttype = task_types.get(task_type)
    return plan_for(raw_config(ttype, variant, sampling=False), "image_control",
                    src=source("image_control", root), **kw)


@pytest.mark.parametrize("task_type, variant", [("qwen-image-edit-lora", "edit-2511"), ("kontext-lora", "dev")])
def test_target_without_control_is_refused_with_the_files(tmp_path, task_type, variant):
    several = ("c_0.png", "c_1.png") if task_type == "qwen-image-edit-lora" else ("c_0.png",)
    root = dataset(tmp_path, {"a.png": "x", "b.png": "y", "c.png": "z"}, ("a.png", *several))
    with pytest.raises(ValidationError) as err:
        edit_plan(root, task_type, variant)
    assert err.value.code == "control_missing" and err.value.details["files"] == ["b.png"]
    assert err.value.details["field"] == "dataset_id" and "b.png" in err.value.message
    (root / "control" / "b.webp").write_bytes(b"data")
    assert caption_warnings(edit_plan(root, task_type, variant)) == []


def test_several_controls_are_refused_where_the_model_takes_one(tmp_path):
    # FLUX.1 Kontext: "requires exactly one control content per item"; Qwen-Image-Edit-2511 takes several.
    root = dataset(tmp_path, {"a.png": "x", "b.png": "y"}, ("a.png", "b_0.png", "b_1.png"))
    with pytest.raises(ValidationError) as err:
        edit_plan(root, "kontext-lora", "dev")
    assert err.value.code == "control_too_many" and err.value.details["files"] == ["b.png"]
    edit_plan(root, "qwen-image-edit-lora", "edit-2511")


def test_control_named_like_a_mask_is_refused(tmp_path):
    root = dataset(tmp_path, {"x.png": "x"}, ("x.png", "x_mask.png"))
    with pytest.raises(ValidationError) as err:
        edit_plan(root)
    assert err.value.code == "control_bad_name" and err.value.details["files"] == ["x_mask.png"]


def test_control_matching_follows_musubi():
    # Longest target names first: "a_1.png" takes "a_1_0.png"; "a.png" takes "a.jpg" and "a_2.png".
    matches, missing, bad = match_controls(["a.png", "a_1.png", "b.png"], ["a.jpg", "a_1_0.png", "a_2.png"])
    assert matches == {"a_1.png": ["a_1_0.png"], "a.png": ["a.jpg", "a_2.png"]}
    assert missing == ["b.png"] and bad == []
    # "ab_x" belongs to target "ab" and is not a numbered control.
    assert match_controls(["ab.png"], ["ab_x.png"])[2] == ["ab_x.png"]


def test_uncaptioned_images_are_warned_and_need_no_control(tmp_path):
    root = dataset(tmp_path, {"a.png": "x", "draft.png": None}, ("a.png",))
    warned = caption_warnings(edit_plan(root))
    assert len(warned) == 1 and "draft.png" in warned[0]
    qwen = task_types.get("qwen-image-lora")
    plan = plan_for(raw_config(qwen, "original", sampling=False), src=source("image", root))
    assert any("draft.png" in w for w in plan.warnings)


def test_video_without_caption_is_refused(tmp_path):
    root = dataset(tmp_path, {"clip0.mp4": "a walk", "clip1.mp4": None})
    wan = task_types.get("wan2.1-lora")
    with pytest.raises(ValidationError) as err:
        plan_for(raw_config(wan, "t2v-1.3B", sampling=False), "video", src=source("video", root))
    assert err.value.code == "video_caption_missing" and err.value.details["files"] == ["clip1.mp4"]


def test_sample_images_must_exist_before_start(tmp_path):
    root = dataset(tmp_path, {"a.png": "x"}, ("a.png",))
    edit = task_types.get("qwen-image-edit-lora")
    models = tmp_path / "models"
    models.mkdir()
    raw = raw_config(edit, "edit-2511")
    for key in raw["models"]:
        raw["models"][key] = str(models / f"{key}.safetensors")
        Path(raw["models"][key]).write_bytes(b"w")
    raw["samples"]["prompts"] = [{"prompt": "a cat", "control_images": [str(tmp_path / "nope.png")]}]
    plan = plan_for(raw, "image_control", src=source("image_control", root))
    assert any("nope.png" in w for w in plan.warnings)  # the preview warns
    with pytest.raises(ValidationError) as err:
        plan_for(raw, "image_control", src=source("image_control", root), check_files=True)
    assert err.value.code == "sample_image_missing"
    assert err.value.details["field"] == "samples.prompts.0.control_images"
    assert err.value.details["files"] == [str(tmp_path / "nope.png")]
    (tmp_path / "nope.png").write_bytes(b"png")
    plan_for(raw, "image_control", src=source("image_control", root), check_files=True)
