"""A task's configuration: what the user sends, checked, and resolved against the task type.

The stored config is what the user chose (so a later change of a type's defaults or presets
reaches tasks that did not override them). `resolve()` layers, lowest first:
field defaults < task type defaults < VRAM preset (memory fields) < the user's values.

Shape:
    {"name", "task_type", "variant", "dataset_id", "gpus": [0], "vram_preset": "high|medium|low|custom",
     "models": {key: path}, "training": {field: value}, "dataset": {field: value},
     "samples": {"every_n_epochs", "every_n_steps", "at_first", "width", "height", "frames", "steps",
                 "guidance", "prompts": [{"prompt", "width", ..., "control_images": [...]}]},
     "extra_args": ["--flag", "value", ...]}   (appended to the train command, checked against the
                                                CLI spec like every other option)

Every problem raises ValidationError naming the field as a dotted path ("training.learning_rate").
"""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from ..errors import ValidationError
from . import fields as F
from . import task_types
from .task_types import PRESETS, PROMPT_OPTIONS

TOP_KEYS = {"name", "task_type", "variant", "dataset_id", "gpus", "vram_preset", "models", "training",
            "dataset", "samples", "extra_args"}
SAMPLE_KEYS = {"every_n_epochs", "every_n_steps", "at_first", "prompts", "width", "height", "frames", "steps",
               "guidance", "one_frame"}
PROMPT_KEYS = {"prompt", *PROMPT_OPTIONS}
NAME_MAX = 120
EXTRA_ARGS_MAX = 200


def _fail(message: str, where: str) -> None:
    raise ValidationError(message, field=where)


def _check_value(f: F.Field, value: Any, where: str) -> Any:
    """One field's value, converted to its kind or refused."""
    if value is None:
        if f.nullable:
            return None
        _fail(f"{where} cannot be empty.", where)
    kind = f.kind
    if kind == "bool":
        if not isinstance(value, bool):
            _fail(f"{where} must be true or false.", where)
        return value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(f"{where} must be a number.", where)
        if kind == "int":
            if float(value) != int(value):
                _fail(f"{where} must be a whole number.", where)
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                _fail(f"{where} must be a finite number.", where)
        if f.min is not None and value < f.min:
            _fail(f"{where} must be at least {f.min}.", where)
        if f.max is not None and value > f.max:
            _fail(f"{where} must be at most {f.max}.", where)
        return value
    if kind == "choice":
        if value not in f.choices:
            _fail(f"{where} must be one of {', '.join(map(str, f.choices))}.", where)
        return value
    if kind == "str":
        if not isinstance(value, str):
            _fail(f"{where} must be text.", where)
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not all(isinstance(x, str) and x.strip() for x in value):
            _fail(f"{where} must be a list of non-empty strings.", where)
        if any(x.strip().startswith("--") for x in value):
            _fail(f"{where} entries are values, not flags.", where)
        return [x.strip() for x in value]
    if kind == "int_list":
        least = 1 if f.min is None else f.min
        if (not isinstance(value, list) or not value
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= least for x in value)):
            _fail(f"{where} must be a list of whole numbers from {least:g} up.", where)
        return list(value)
    if kind == "resolution":
        if isinstance(value, int) and not isinstance(value, bool):
            value = [value, value]
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and 64 <= x <= 8192 for x in value)):
            _fail(f"{where} must be [width, height] between 64 and 8192.", where)
        return list(value)
    raise AssertionError(kind)


def _section(raw: dict, section: str, where: str) -> dict:
    value = raw.get(section, {})
    if value is None:
        return {}
    if not isinstance(value, dict):
        _fail(f"{where} must be an object.", where)
    return value


def check(raw: Any) -> dict:
    """Validate what the user sent (no resolution); returns a clean copy to store."""
    if not isinstance(raw, dict):
        raise ValidationError("The task config must be an object.")
    unknown = set(raw) - TOP_KEYS
    if unknown:
        key = sorted(unknown)[0]
        _fail(f"Unknown task setting '{key}'.", key)
    out: dict[str, Any] = {}
    ttype_id = raw.get("task_type")
    if not isinstance(ttype_id, str) or ttype_id not in task_types.TASK_TYPES:
        _fail("Choose a task type.", "task_type")
    ttype = task_types.TASK_TYPES[ttype_id]
    out["task_type"] = ttype_id
    variant = raw.get("variant") or ttype.variants[0].key
    try:
        ttype.variant(variant)
    except KeyError:
        _fail(f"variant must be one of {', '.join(v.key for v in ttype.variants)}.", "variant")
    out["variant"] = variant
    name = raw.get("name", "")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        _fail(f"Give the task a name (1-{NAME_MAX} characters).", "name")
    out["name"] = name.strip()
    dataset_id = raw.get("dataset_id")
    if dataset_id is not None and not isinstance(dataset_id, str):
        _fail("dataset_id must be a dataset id.", "dataset_id")
    out["dataset_id"] = dataset_id
    gpus = raw.get("gpus", [0])
    # Types first: set() of a list holding a list raises TypeError.
    if (not isinstance(gpus, list) or not gpus
            or not all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g < 64 for g in gpus)
            or len(set(gpus)) != len(gpus)):
        _fail("gpus must be a list of GPU indices, e.g. [0].", "gpus")
    out["gpus"] = sorted(gpus)
    preset = raw.get("vram_preset", "medium")
    if preset not in (*PRESETS, "custom"):
        _fail("vram_preset must be high, medium, low or custom.", "vram_preset")
    out["vram_preset"] = preset
    out["models"] = _check_models(ttype, _section(raw, "models", "models"))
    for section, table in (("training", F.TRAINING_FIELDS), ("dataset", F.DATASET_FIELDS)):
        given = _section(raw, section, section)
        known = {f.key: f for f in table}
        clean = {}
        for key, value in given.items():
            if key not in known:
                _fail(f"Unknown setting '{section}.{key}'.", f"{section}.{key}")
            clean[key] = _check_value(known[key], value, f"{section}.{key}")
        out[section] = clean
    out["samples"] = _check_samples(_section(raw, "samples", "samples"))
    out["extra_args"] = _check_extra_args(raw.get("extra_args"))
    return out


def _check_extra_args(value: Any) -> list[str]:
    """Free extra arguments for the train script: tokens, the first of them a flag."""
    if value is None or value == "" or value == []:
        return []
    if (not isinstance(value, list) or len(value) > EXTRA_ARGS_MAX
            or not all(isinstance(x, str) and x.strip() and "\n" not in x and "\r" not in x for x in value)):
        _fail("extra_args must be a list of arguments, e.g. [\"--max_timestep\", \"900\"].", "extra_args")
    tokens = [x.strip() for x in value]
    if not tokens[0].startswith("--"):
        _fail(f"Extra arguments start with an option (--name), not '{tokens[0]}'.", "extra_args")
    return tokens


def _check_models(ttype, given: dict) -> dict:
    known = {m.key for m in ttype.models}
    out = {}
    for key, value in given.items():
        where = f"models.{key}"
        if key not in known:
            _fail(f"{ttype.id} has no model file '{key}'.", where)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            _fail(f"{where} must be a file path.", where)
        out[key] = value.strip()
    return out


def _check_samples(given: dict) -> dict:
    unknown = set(given) - SAMPLE_KEYS
    if unknown:
        key = sorted(unknown)[0]
        _fail(f"Unknown setting 'samples.{key}'.", f"samples.{key}")
    out: dict[str, Any] = {}
    for key in ("every_n_epochs", "every_n_steps", "width", "height", "frames", "steps"):
        if given.get(key) is not None:
            out[key] = _check_value(F.Field(key, "samples", "int", None, min=1, nullable=True),
                                    given[key], f"samples.{key}")
    if given.get("guidance") is not None:
        out["guidance"] = _check_value(F.Field("guidance", "samples", "float", None, min=0), given["guidance"],
                                       "samples.guidance")
    if given.get("one_frame") is not None:
        out["one_frame"] = _one_line(given["one_frame"], "samples.one_frame")
    if "at_first" in given:
        out["at_first"] = _check_value(F.Field("at_first", "samples", "bool", False), given["at_first"],
                                       "samples.at_first")
    prompts = given.get("prompts", [])
    if not isinstance(prompts, list):
        _fail("samples.prompts must be a list.", "samples.prompts")
    out["prompts"] = [_check_prompt(p, f"samples.prompts.{i}") for i, p in enumerate(prompts)]
    return out


def _one_line(value: Any, where: str) -> str:
    if not isinstance(value, str) or "\n" in value or "\r" in value or " --" in value:
        _fail(f"{where} must be one line of text.", where)
    return value.strip()


def _check_prompt(p: Any, where: str) -> dict:
    if isinstance(p, str):
        p = {"prompt": p}
    if not isinstance(p, dict):
        _fail(f"{where} must be an object with a prompt.", where)
    unknown = set(p) - PROMPT_KEYS
    if unknown:
        _fail(f"Unknown prompt option '{sorted(unknown)[0]}'.", f"{where}.{sorted(unknown)[0]}")
    text = p.get("prompt")
    if not isinstance(text, str) or not text.strip():
        _fail("A sample prompt cannot be empty.", f"{where}.prompt")
    # The prompt file is one prompt a line with options after " --": both would corrupt it.
    if "\n" in text or "\r" in text or re.search(r"(^|\s)--", text):
        _fail("A sample prompt must be one line and cannot contain ' --'.", f"{where}.prompt")
    out = {"prompt": text.strip()}
    for key in ("width", "height", "frames", "seed", "steps"):
        if p.get(key) is not None:
            out[key] = _check_value(F.Field(key, "p", "int", None, min=0), p[key], f"{where}.{key}")
    for key in ("guidance", "flow_shift", "cfg_scale"):
        if p.get(key) is not None:
            out[key] = _check_value(F.Field(key, "p", "float", None, min=0), p[key], f"{where}.{key}")
    for key in ("negative", "image", "end_image", "one_frame"):
        if p.get(key):
            out[key] = _one_line(p[key], f"{where}.{key}")
    if p.get("control_images"):
        ci = p["control_images"]
        if isinstance(ci, str):
            ci = [ci]
        if not isinstance(ci, list) or not all(isinstance(x, str) and x.strip() for x in ci):
            _fail(f"{where}.control_images must be a list of image paths.", f"{where}.control_images")
        out["control_images"] = [x.strip() for x in ci]
    return out


def resolve(config: dict) -> dict:
    """The full config the builder uses: every field present, layered as described above."""
    ttype = task_types.get(config["task_type"])
    variant = config.get("variant") or ttype.variants[0].key
    out = copy.deepcopy(config)
    out["variant"] = variant
    for section, table in (("training", F.TRAINING_FIELDS), ("dataset", F.DATASET_FIELDS)):
        values = {f.key: copy.deepcopy(f.default) for f in table}
        values.update(copy.deepcopy(ttype.defaults.get(section, {})))
        if section == "dataset":
            values.update(copy.deepcopy(ttype.variant(variant).dataset_defaults))
        if section == "training" and config.get("vram_preset", "medium") in PRESETS:
            values.update(ttype.preset(config.get("vram_preset", "medium"), variant))
        values.update(copy.deepcopy(config.get(section, {})))
        out[section] = values
    samples = {"every_n_epochs": None, "every_n_steps": None, "at_first": False, "prompts": []}
    samples.update(ttype.sample_defaults(variant))
    samples.update(copy.deepcopy(config.get("samples", {})))
    out["samples"] = samples
    out.setdefault("gpus", [0])
    out.setdefault("models", {})
    out["extra_args"] = list(config.get("extra_args") or [])
    return out
