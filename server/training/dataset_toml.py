"""The task's `dataset.toml`, the dataset config musubi's ConfigSanitizer accepts.

musubi rejects any key it does not know, so only the keys listed in FACTS.md are written:
`[general]` holds the shared options (caption_extension, batch_size, num_repeats, resolution,
enable_bucket, bucket_no_upscale) and one `[[datasets]]` entry names the folders. The
`cache_directory` is per dataset (in `[general]` it is an error) and lives in the task folder, so
two tasks over one dataset never share or clobber caches. `source_fps` must be a TOML float
(`30.0`; `30` fails) and every `target_frames` value must be 4N+1.

Paths are written with forward slashes: valid on Windows too, and no escaping surprises.
"""

from __future__ import annotations

from pathlib import Path

import tomlkit

from ..errors import ValidationError
from . import task_types
from .dataset_source import DatasetSource


def _path(p: Path) -> str:
    return Path(p).as_posix()


def build(resolved: dict, source: DatasetSource, cache_dir: Path) -> str:
    """dataset.toml text for a resolved task config (see config.resolve)."""
    d = resolved["dataset"]
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Written by LoRA Workbench for one training task; edits are overwritten."))
    general = tomlkit.table()
    general["caption_extension"] = d["caption_extension"]
    general["batch_size"] = d["batch_size"]
    general["num_repeats"] = d["num_repeats"]
    general["resolution"] = list(d["resolution"])
    general["enable_bucket"] = d["enable_bucket"]
    general["bucket_no_upscale"] = d["bucket_no_upscale"]
    doc["general"] = general

    entry = tomlkit.table()
    if source.type == "video":
        entry["video_directory"] = _path(source.media_dir)
        entry["cache_directory"] = _path(cache_dir)
        frames = list(d["target_frames"])
        bad = [f for f in frames if (f - 1) % 4 != 0]
        if bad:
            raise ValidationError(f"target_frames must all be 4N+1 (1, 5, 9, ... 81); {bad[0]} is not.",
                                  field="dataset.target_frames")
        entry["target_frames"] = frames
        if d["frame_extraction"] == "uniform" and (d.get("frame_sample") or 1) < 2:
            # musubi turns uniform with frame_sample 1 (its default) into head, with only a log line.
            raise ValidationError("Uniform frame extraction needs the number of clips to take per video "
                                  "(frame sample, 2 or more).", field="dataset.frame_sample",
                                  code="frame_sample_required")
        entry["frame_extraction"] = d["frame_extraction"]
        for key in ("frame_stride", "frame_sample", "max_frames"):
            if d.get(key) is not None:
                entry[key] = int(d[key])
        if d.get("source_fps") is not None:
            entry["source_fps"] = float(d["source_fps"])  # tomlkit writes a float as 30.0
    else:
        entry["image_directory"] = _path(source.media_dir)
        entry["cache_directory"] = _path(cache_dir)
        if source.type == "image_control":
            entry["control_directory"] = _path(source.control_dir)
            if d.get("control_resolution"):
                entry["control_resolution"] = list(d["control_resolution"])
            if d.get("no_resize_control"):
                entry["no_resize_control"] = True
            # One-frame training: set only by the types that offer these fields (FramePack / Wan one-frame).
            if d.get("fp_1f_clean_indices") is not None:
                entry["fp_1f_clean_indices"] = list(d["fp_1f_clean_indices"])
                entry["fp_1f_target_index"] = int(d["fp_1f_target_index"])
                entry["fp_1f_no_post"] = bool(d.get("fp_1f_no_post"))
    # What the type always needs in its entry (TaskType.dataset_options: Qwen-Image-Layered's multiple_target).
    for key, value in task_types.get(resolved["task_type"]).dataset_options.items():
        entry[key] = value
    datasets = tomlkit.aot()
    datasets.append(entry)
    doc["datasets"] = datasets
    return tomlkit.dumps(doc)
