"""The task-type table as JSON for `GET /api/task-types`: what the create-task form is built from.

Per type: its variants (with the dataset types they accept, largest blocks-to-swap, presets and a
VRAM estimate per preset at the type's default resolution), model files, the fields that apply
(with this type's defaults filled in, and `dataset_types` when a field only applies to some), the
sample-prompt options, and the VRAM model. The form's groups of fields (fields.FORM_GROUPS, the same for
every type) are served beside the table.
"""

from __future__ import annotations

from dataclasses import asdict

from . import config as task_config
from . import fields as F
from . import vram
from .task_types import PRESETS, TASK_TYPES, TaskType


def _fields(ttype: TaskType) -> list[dict]:
    out = []
    defaults = ttype.defaults
    for f in F.TRAINING_FIELDS + F.DATASET_FIELDS:
        if f.key in F.TYPE_SPECIFIC and f.key not in ttype.extra_fields:
            continue
        if f.key == "fp8_scaled" and not ttype.fp8_scaled:
            continue
        if f.key == "network_type" and len(ttype.network_types) < 2:
            continue
        if f.key == "fp8_text_encoder" and not ttype.text_encoder_fp8_flag:
            continue
        if f.key in F.VIDEO_ONLY and "video" not in ttype.dataset_types:
            continue
        if f.key in F.CONTROL_ONLY and "image_control" not in ttype.dataset_types:
            continue
        d = f.public()
        d["default"] = defaults.get(f.section, {}).get(f.key, f.default)
        if f.key == "blocks_to_swap":
            d["max"] = ttype.max_blocks_to_swap
        if f.key == "network_type":
            d["choices"] = list(ttype.network_types)
        if f.key == "attention":
            d["choices"] = [c for c in f.choices if c not in ttype.unsupported_attention]
        d["dataset_types"] = (["video"] if f.key in F.VIDEO_ONLY
                              else ["image_control"] if f.key in F.CONTROL_ONLY else None)
        out.append(d)
    return out


def _variant(ttype: TaskType, key: str) -> dict:
    v = ttype.variant(key)
    estimates = {}
    for preset in PRESETS:
        resolved = task_config.resolve({"task_type": ttype.id, "variant": key, "name": "x", "vram_preset": preset})
        estimates[preset] = vram.estimate_gb(ttype, resolved, vram.form_dataset_type(ttype, key, None))
    return {
        "key": key, "label_key": v.label_key,
        "dataset_types": list(ttype.accepted_dataset_types(key)),
        "max_blocks_to_swap": ttype.max_swap(key),
        "text_encoder_fp8": bool(ttype.text_encoder_fp8_flag and v.text_encoder_fp8),
        "timestep_boundary": v.timestep_boundary,
        "required_prompt_options": sorted(set(ttype.required_prompt_options) | set(v.required_prompt_options)),
        "sample_defaults": ttype.sample_defaults(key),
        "dataset_defaults": dict(v.dataset_defaults),
        "presets": {p: ttype.preset(p, key) for p in PRESETS},
        "vram_estimate_gb": estimates,
        "vram_model": asdict(ttype.vram_model(key)),
    }


def public_type(ttype: TaskType) -> dict:
    return {
        "id": ttype.id, "label_key": ttype.label_key, "help_key": ttype.help_key,
        "scripts": dict(ttype.scripts), "network_module": ttype.network_module,
        "network_types": list(ttype.network_types),
        "dataset_types": list(ttype.dataset_types),
        "variants": [_variant(ttype, v.key) for v in ttype.variants],
        "models": [m.public() for m in ttype.models],
        "max_blocks_to_swap": ttype.max_blocks_to_swap,
        "fp8_scaled": ttype.fp8_scaled, "text_encoder_fp8_flag": ttype.text_encoder_fp8_flag,
        "video": ttype.video, "comfy_conversion": ttype.comfy_conversion,
        "defaults": ttype.defaults,
        "fields": _fields(ttype),
        "sample_options": list(ttype.prompt_options),
        "guidance_option": ttype.guidance_option,
        "required_sample_options": list(ttype.required_prompt_options),
        "vram_model": asdict(ttype.vram),
    }


def public_table() -> list[dict]:
    return [public_type(t) for t in TASK_TYPES.values()]
