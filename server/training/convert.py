"""Convert a checkpoint with musubi's `convert_lora.py --target other|default`, as a job.

`--target other` writes the Diffusers / ComfyUI key format, `--target default` musubi-tuner's own
format (the choices of the pinned CLI spec). The result goes to
`output/converted/<stem>-<suffix>.safetensors` - suffix `comfyui` or `musubi`, so the file name says
which format it is - outside the names the output scanner reads as checkpoints. The command is
checked against the CLI contract like any other.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ..errors import NotFound, ValidationError
from ..jobs import JobError
from ..paths import safe_join
from ..system.children import popen_flags
from . import cli_spec, musubi_env, proctree, task_types, tasks
from .progress import last_error_line

# convert_lora.py --target value -> the suffix of the converted file (outputs.converted() reads it back).
TARGETS = {"other": "comfyui", "default": "musubi"}


def convert_argv(env: musubi_env.MusubiEnv, source: Path, target_file: Path, target: str,
                 converter: str | None = None) -> list[str]:
    if converter:  # the type's own converter (TaskType.comfy_converter): positional paths, --reverse to musubi's
        return [str(env.python), str(env.script(converter)), str(source), str(target_file),
                *(["--reverse"] if target == "default" else [])]
    args = ["--input", str(source), "--output", str(target_file), "--target", target]
    problems = cli_spec.check("convert_lora", args)
    if problems:
        raise ValidationError(problems[0].message, field="target")
    return [str(env.python), str(env.script("convert_lora")), *args]


def submit(svc, task_id: str, file: str, target: str = "other") -> dict:
    task = tasks.row(svc.store, task_id)
    if not isinstance(target, str) or target not in TARGETS:
        raise ValidationError("target must be 'other' (ComfyUI/Diffusers) or 'default' (musubi).", field="target")
    task_paths = tasks.paths(svc.layout, task_id)
    try:
        source = safe_join(task_paths.output, file)
    except ValueError:
        raise ValidationError("That file is not in the task's output folder.", field="file") from None
    if not source.is_file() or source.suffix != ".safetensors":
        raise NotFound(f"No checkpoint {file} in this task.", code="checkpoint_not_found")
    ttype = task_types.TASK_TYPES.get(task["config"].get("task_type"))
    if ttype and not ttype.comfy_conversion:
        raise ValidationError(f"musubi-tuner has no ComfyUI conversion for {ttype.id} LoRAs: use the checkpoint as "
                              "it is.", field="file", code="convert_unsupported", details={"task_type": ttype.id})
    converter = ttype.comfy_converter if ttype else None
    if converter and task["config"].get("training", {}).get("network_type", "lora") != "lora":
        raise ValidationError(f"musubi-tuner's ComfyUI converter for {ttype.id} handles LoRA weights only, not "
                              "LoHa or LoKr.", field="file", code="convert_lycoris_unsupported")
    env = musubi_env.from_store(svc.store)
    env.refuse_start()
    out = task_paths.output / "converted" / f"{source.stem}-{TARGETS[target]}.safetensors"
    argv = convert_argv(env, source, out, target, converter)
    log_path = task_paths.logs / f"convert-{source.stem}.log"

    def work(ctx):
        out.parent.mkdir(parents=True, exist_ok=True)
        ctx.progress(0, 1, message_code="convert_start", params={"file": source.name})
        with open(log_path, "wb") as logf:
            proc = subprocess.Popen(argv, cwd=str(env.musubi_dir), stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, env=musubi_env.full_env(musubi_env.stage_env([])),
                                    **popen_flags())
            while proc.poll() is None:
                if ctx.cancelled:
                    found = proctree.find(proc.pid, None)
                    if found:
                        proctree.stop_tree(found, 5)
                    proc.wait()
                    ctx.check()
                time.sleep(0.1)
        if proc.returncode != 0:
            last = last_error_line(log_path.read_text(encoding="utf-8", errors="replace"))
            raise JobError("convert_failed", {"exit_code": proc.returncode,
                                              "error": last or f"convert_lora exited with code {proc.returncode}"})
        ctx.progress(1, 1, message_code="convert_done")
        result = {"file": str(out.relative_to(task_paths.output).as_posix()), "size": out.stat().st_size}
        svc.bus.publish(f"task:{task_id}", "converted", result)
        return result

    return svc.jobs.submit("convert_lora", f"Convert {source.name}", work, owner=f"task:{task['id']}",
                           params={"file": file, "target": target})
