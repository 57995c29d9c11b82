"""The task's `sample_prompts.txt`: one prompt a line, options after ` --` (FACTS.md).

Each prompt takes the task-wide sample defaults (size, frames, steps, guidance) unless it sets
its own. The task-wide guidance goes to the option the type's sampler reads it from
(`TaskType.guidance_option`: `--g`, or `--l` for the types that take CFG there). Options a task type does not support are refused rather than silently dropped, and the
ones it needs (a control image for edit models, a start image for I2V) must be there.
"""

from __future__ import annotations

from ..errors import ValidationError
from .task_types import PROMPT_OPTIONS, TaskType

# Task-wide sample settings a prompt takes unless it sets its own; one_frame is the `--of` options of
# FramePack / Wan one-frame sampling (docs/framepack_1f.md), which every prompt of those types needs.
DEFAULTED = ("width", "height", "frames", "steps", "guidance", "one_frame")


def _defaulted_option(key: str, ttype: TaskType) -> str:
    return ttype.guidance_option if key == "guidance" else key


def _fmt(value) -> str:
    if isinstance(value, float):
        return repr(value) if value != int(value) else f"{value:.1f}"
    return str(value)


def build(resolved: dict, ttype: TaskType) -> str:
    samples = resolved["samples"]
    variant = ttype.variant(resolved.get("variant"))
    allowed = set(ttype.prompt_options)
    required = set(ttype.required_prompt_options) | set(variant.required_prompt_options)
    lines = ["# Written by LoRA Workbench for one training task; edits are overwritten."]
    for i, prompt in enumerate(samples.get("prompts", [])):
        where = f"samples.prompts.{i}"
        values = {_defaulted_option(k, ttype): samples[k] for k in DEFAULTED
                  if _defaulted_option(k, ttype) in allowed and samples.get(k) is not None}
        values.update({k: v for k, v in prompt.items() if k != "prompt"})
        for key in values:
            if key not in allowed:
                raise ValidationError(f"{ttype.id} samples do not take '{key}'.", field=f"{where}.{key}")
        most = ttype.prompt_control_images_max
        if most is not None and len(values.get("control_images") or []) > most:
            raise ValidationError(f"Each {ttype.id} sample prompt takes {most} control image(s).",
                                  field=f"{where}.control_images")
        for key in sorted(required):
            if not values.get(key):
                raise ValidationError(f"Each {ttype.id} sample prompt needs '{key}'.", field=f"{where}.{key}")
        parts = [prompt["prompt"]]
        for key, flag in PROMPT_OPTIONS.items():
            value = values.get(key)
            if value is None or value == "" or value == []:
                continue
            for item in (value if isinstance(value, list) else [value]):
                parts.append(f"{flag} {_fmt(item)}")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"
