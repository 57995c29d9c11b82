"""Generated dataset.toml against musubi's dataset schema (ConfigSanitizer, as listed in FACTS.md) and
sample_prompts.txt against musubi's prompt-line format, for every task type."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tomllib

from server.errors import ValidationError
from server.training import commands, config, task_types
from server.training.dataset_source import DatasetSource
from server.training.musubi_env import MusubiEnv

from .helpers import all_combinations, combo_id, raw_config

# --- musubi's schema, mirrored from FACTS.md ("extra keys are rejected") -------------------------
RESOLUTION = "resolution"
GENERAL = {"caption_extension": str, "batch_size": int, "num_repeats": int, "resolution": RESOLUTION,
           "enable_bucket": bool, "bucket_no_upscale": bool}
IMAGE = {**GENERAL, "image_directory": str, "image_jsonl_file": str, "cache_directory": str,
         "control_directory": str, "multiple_target": bool, "no_resize_control": bool,
         "control_resolution": RESOLUTION, "fp_latent_window_size": int, "fp_1f_clean_indices": "indices",
         "fp_1f_target_index": int, "fp_1f_no_post": bool}
VIDEO = {**GENERAL, "video_directory": str, "video_jsonl_file": str, "control_directory": str,
         "cache_directory": str, "target_frames": "frames", "frame_extraction": ("head", "chunk", "slide",
                                                                                 "uniform", "full"),
         "frame_stride": int, "frame_sample": int, "max_frames": int, "source_fps": float}


def _check_value(kind, value, where):
    if kind == RESOLUTION:
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value))
    elif kind == "indices":
        ok = isinstance(value, list) and all(type(v) is int for v in value)
    elif kind == "frames":
        ok = isinstance(value, list) and value and all(type(v) is int and (v - 1) % 4 == 0 for v in value)
    elif isinstance(kind, tuple):
        ok = value in kind
    elif kind is int:
        ok = type(value) is int
    else:
        ok = type(value) is kind  # float must be a float: `30` is refused by musubi
    assert ok, f"{where}: {value!r} does not match {kind}"


def validate_dataset_config(doc: dict) -> None:
    assert set(doc) <= {"general", "datasets"}, set(doc)
    for key, value in doc.get("general", {}).items():
        assert key in GENERAL, f"[general] may not contain {key}"
        _check_value(GENERAL[key], value, f"general.{key}")
    caches = []
    for i, entry in enumerate(doc["datasets"]):
        schema = VIDEO if ("video_directory" in entry or "video_jsonl_file" in entry) else IMAGE
        for key, value in entry.items():
            assert key in schema, f"datasets[{i}] may not contain {key}"
            _check_value(schema[key], value, f"datasets[{i}].{key}")
        assert ("image_directory" in entry) or ("video_directory" in entry)
        caches.append(entry.get("cache_directory"))
    assert len(caches) == len(set(caches)), "cache_directory must differ between datasets"


ENV = MusubiEnv(Path("/opt/musubi"), Path("/opt/musubi/.venv/bin/python"))
COMBOS = [c for c in all_combinations() if c[2] == "medium"]


@pytest.mark.parametrize("combo", COMBOS, ids=[combo_id(c) for c in COMBOS])
def test_dataset_toml_matches_musubi_schema(combo, tmp_path):
    ttype, variant, _, dataset_type = combo
    raw = raw_config(ttype, variant, dataset={"control_resolution": [512, 512], "source_fps": 30,
                                              "frame_stride": 2} if dataset_type != "image" else {})
    src = DatasetSource("ds_00000001", "D", dataset_type, tmp_path / "media", tmp_path / "control")
    paths = commands.TaskPaths(tmp_path / "task")
    plan = commands.build_plan(config.resolve(config.check(raw)), src, ENV, paths)
    text = plan.files["dataset.toml"]
    doc = tomllib.loads(text)
    validate_dataset_config(doc)
    entry = doc["datasets"][0]
    assert entry["cache_directory"] == paths.cache.as_posix()
    if dataset_type == "video":
        assert entry["video_directory"] == src.media_dir.as_posix()
        assert re.search(r"source_fps = 30\.0", text)
    else:
        assert entry["image_directory"] == src.media_dir.as_posix()
        assert ("control_directory" in entry) == (dataset_type == "image_control")
    prompts = plan.files["sample_prompts.txt"].splitlines()
    lines = [line for line in prompts if line and not line.startswith("#")]
    assert len(lines) == 1
    options = lines[0].split(" --")[1:]
    assert all(re.match(r"^(w|h|f|d|s|g|fs|l|n|i|ei|ci|of) \S", o) for o in options), options


def test_target_frames_must_be_4n_plus_1(tmp_path):
    wan = task_types.get("wan2.1-lora")
    raw = raw_config(wan, "t2v-14B", dataset={"target_frames": [1, 24]})
    src = DatasetSource("ds_00000001", "D", "video", tmp_path / "m", tmp_path / "c")
    with pytest.raises(ValidationError) as err:
        commands.build_plan(config.resolve(config.check(raw)), src, ENV, commands.TaskPaths(tmp_path / "t"))
    assert err.value.details["field"] == "dataset.target_frames"


def test_validator_catches_schema_errors():
    good = {"general": {"resolution": [1024, 1024]}, "datasets": [{"image_directory": "a", "cache_directory": "c"}]}
    validate_dataset_config(good)
    for bad in ({"general": {"cache_directory": "c"}, "datasets": good["datasets"]},
                {"datasets": [{"video_directory": "v", "source_fps": 30}]},
                {"datasets": [{"video_directory": "v", "target_frames": [24]}]},
                {"datasets": [{"image_directory": "a", "target_frames": [1]}]},
                {"datasets": [{"image_directory": "a", "cache_directory": "c"},
                              {"image_directory": "b", "cache_directory": "c"}]}):
        with pytest.raises(AssertionError):
            validate_dataset_config(bad)
