"""From a resolved task config to files and argv lists: the plan of a training run.

`build_plan()` returns the type's stages (task_types.Stage: usually cache latents, cache text-encoder outputs,
train) as argv lists plus their environment, the generated files (`dataset.toml`, `sample_prompts.txt`),
warnings and the VRAM estimate. Every argv is checked against the pinned CLI contract (cli_spec) before it is
returned; a problem becomes a ValidationError naming the config field to change, so an invalid
command never reaches a process.

Nothing here touches the disk except reading the dataset folder (for warnings) and, when
`check_files` is set, checking that model files exist.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ValidationError
from ..models.safetensors_header import SafetensorsError, read_header
from . import cli_spec, dataset_checks, dataset_toml, lr_schedules, ranks, sample_prompts, task_types, vram
from .dataset_source import DatasetSource
from .fields import OPTIMIZER_CLASSES, flag_to_field, stage_flags
from .musubi_env import MusubiEnv, stage_env
from .task_types import TaskType


@dataclass
class Stage:
    name: str
    script: str
    argv: list[str]
    env: dict[str, str]

    def public(self) -> dict:
        return {"name": self.name, "script": self.script, "argv": list(self.argv), "env": dict(self.env)}


@dataclass
class Plan:
    stages: list[Stage]
    files: dict[str, str]
    warnings: list[str]
    vram_estimate_gb: float
    output_name: str
    dataset_type: str
    extra: dict = field(default_factory=dict)

    def public(self) -> dict:
        return {"stages": [s.public() for s in self.stages], "files": dict(self.files),
                "warnings": list(self.warnings), "vram_estimate_gb": self.vram_estimate_gb,
                "output_name": self.output_name}


@dataclass(frozen=True)
class TaskPaths:
    """The files of one task under `<data>/tasks/<id>/`."""

    root: Path

    @property
    def dataset_toml(self) -> Path:
        return self.root / "dataset.toml"

    @property
    def sample_prompts(self) -> Path:
        return self.root / "sample_prompts.txt"

    @property
    def output(self) -> Path:
        return self.root / "output"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def logs(self) -> Path:
        return self.root / "logs"


def output_name(task_name: str) -> str:
    """A file-name-safe stem for musubi's --output_name (checkpoints and samples start with it).

    Letters of any script are kept ("猫 LoRA" -> "猫_LoRA"): users name tasks in their language and
    a stem of only the Latin part would collide and lose its meaning. Everything that is not a
    letter, digit or underscore (path separators, characters Windows forbids, '-' which musubi
    puts before epoch numbers) becomes '_'.
    """
    slug = re.sub(r"\W+", "_", task_name).strip("_")[:60]
    return slug or "lora"


def _fail_for_problem(problem: cli_spec.Problem, stage: str, extra_map: dict[str, str]) -> None:
    where = extra_map.get(problem.flag) or flag_to_field().get(problem.flag) or problem.flag.lstrip("-")
    raise ValidationError(f"The {stage} command would be rejected by musubi-tuner: {problem.message}.",
                          field=where, code="invalid_command", details={"flag": problem.flag, "stage": stage})


def build_plan(resolved: dict, source: DatasetSource, env: MusubiEnv, paths: TaskPaths, *,
               resume: dict | None = None, check_files: bool = False) -> Plan:
    """The whole run for `resolved` (config.resolve output). See module docstring."""
    resolved = copy.deepcopy(resolved)  # options the model files decide (mixed precision) are set below
    ttype = task_types.get(resolved["task_type"])
    variant = ttype.variant(resolved["variant"])
    warnings: list[str] = []
    accepted = ttype.accepted_dataset_types(variant.key)
    if source.type not in accepted:
        raise ValidationError(f"{ttype.id} ({variant.key}) trains on {' or '.join(accepted)} datasets; "
                              f"'{source.name}' is {source.type}.", field="dataset_id", code="dataset_type")
    t = resolved["training"]
    ranks.check_platform(len(resolved["gpus"]))
    _check_training(ttype, resolved, warnings)
    sampling = _sampling_on(resolved, warnings)
    models = _models(ttype, resolved, sampling, check_files, warnings)
    _check_model_options(ttype, t, models, sampling)
    _match_dit_dtype(ttype, resolved, models, warnings)

    files = {"dataset.toml": dataset_toml.build(resolved, source, paths.cache)}
    if sampling:
        files["sample_prompts.txt"] = sample_prompts.build(resolved, ttype)
        dataset_checks.check_sample_images(resolved, strict=check_files, warnings=warnings)
    media = source.media_files()
    if not media:
        warnings.append(f"Dataset '{source.name}' has no {source.type} files yet.")
    dataset_checks.check(source, resolved["dataset"]["caption_extension"], warnings, ttype.max_controls)

    name = (resume or {}).get("output_name") or output_name(resolved["name"])
    stage_vars = stage_env(resolved["gpus"])
    extra_map = {**{flag: f"models.{m.key}" for m in ttype.models for flag in m.flags.values()},
                 "--sdpa": "training.attention", "--xformers": "training.attention",
                 "--flash_attn": "training.attention", "--flash3": "training.attention",
                 "--sample_prompts": "samples", "--dataset_config": "dataset_id",
                 "--timestep_boundary": "training.experts", "--resume": "resume",
                 "--network_weights": "resume"}
    if ttype.text_encoder_fp8_flag:
        extra_map[ttype.text_encoder_fp8_flag] = "training.fp8_text_encoder"

    stages = []
    *caches, train = ttype.stages
    for spec in caches:
        args = _cache_args(ttype, variant, spec, resolved, models, paths)
        for problem in cli_spec.check(spec.script, args):
            _fail_for_problem(problem, spec.name, extra_map)
        stages.append(Stage(spec.name, spec.script, [str(env.python), str(env.script(spec.script)), *args], stage_vars))

    script = train.script
    args = _train_args(ttype, variant, train, resolved, models, paths, name, sampling, resume)
    # The user's extra arguments go last; a problem with one of their tokens names that field.
    extra = list(resolved.get("extra_args") or [])
    args += extra
    train_map = {**extra_map, **{token.partition("=")[0]: "extra_args" for token in extra}}
    for problem in cli_spec.check(script, args):
        _fail_for_problem(problem, "train", train_map)
    prefix = env.launch_prefix(t["mixed_precision"], len(resolved["gpus"]))
    for problem in cli_spec.check_accelerate(prefix[3:]):
        _fail_for_problem(problem, "train", extra_map)
    stages.append(Stage("train", script, [*prefix, str(env.script(script)), *args], stage_vars))

    estimate = vram.estimate_gb(ttype, resolved, source.type)
    return Plan(stages=stages, files=files, warnings=warnings, vram_estimate_gb=estimate, output_name=name,
                dataset_type=source.type, extra={"media_count": len(media)})


# One-frame training: musubi's cache script indexes these for every item (fpack_cache_latents.py).
ONE_FRAME_REQUIRED = ("fp_1f_clean_indices", "fp_1f_target_index")


def _check_type_specific(ttype: TaskType, resolved: dict) -> None:
    """Fields only some types offer (fields.TYPE_SPECIFIC): left at their default elsewhere, set where needed."""
    from .fields import ALL_FIELDS, TYPE_SPECIFIC

    for (section, key), f in ALL_FIELDS.items():
        if key not in TYPE_SPECIFIC:
            continue
        value = resolved[section].get(key)
        if key not in ttype.extra_fields:
            if value != f.default:
                raise ValidationError(f"{ttype.id} has no setting '{key}'.", field=f"{section}.{key}")
        elif value is None and key in ONE_FRAME_REQUIRED:
            raise ValidationError(f"{ttype.id} needs '{key}'.", field=f"{section}.{key}")


def _check_training(ttype: TaskType, resolved: dict, warnings: list[str]) -> None:
    _check_type_specific(ttype, resolved)
    t = resolved["training"]
    variant = resolved["variant"]
    max_swap = ttype.max_swap(variant)
    if t["blocks_to_swap"] > max_swap:
        raise ValidationError(f"{ttype.id} ({variant}) can swap at most {max_swap} blocks.",
                              field="training.blocks_to_swap")
    limit = ttype.swap_ram_warning_above
    if limit is not None and t["blocks_to_swap"] > limit:
        warnings.append(f"Swapping more than {limit} blocks makes main-memory use climb steeply (64 GB RAM advised).")
    _check_network_type(ttype, t)
    if t["attention"] in ttype.unsupported_attention:
        raise ValidationError(f"{ttype.id} cannot train with --{t['attention']}: choose another attention.",
                              field="training.attention", code="attention_unsupported",
                              details={"attention": t["attention"]})
    if t["blocks_to_swap"] and resolved["dataset"]["batch_size"] > 1 and (
            ttype.variant(variant).swap_needs_batch_one or t["attention"] in ttype.swap_batch_one_attention):
        # hidream_o1_train_network.py raises this only at the first step, after the caches are built.
        raise ValidationError(f"{ttype.id} ({variant}) cannot swap blocks with a batch size above 1: set the batch "
                              "size to 1, or blocks to swap to 0.", field="dataset.batch_size",
                              code="swap_needs_batch_one")
    if ttype.fp8_needs_scaled and t["fp8_base"] and not t["fp8_scaled"]:
        raise ValidationError(f"{ttype.id} trains in fp8 only as scaled fp8: turn on 'fp8 scaled' too, or fp8 off.",
                              field="training.fp8_scaled", code="fp8_needs_scaled")
    if t["fp8_scaled"] and not ttype.fp8_scaled:
        raise ValidationError(f"{ttype.id} has no --fp8_scaled; turn it off.", field="training.fp8_scaled")
    if t["fp8_text_encoder"] and (not ttype.text_encoder_fp8_flag or not ttype.variant(variant).text_encoder_fp8):
        raise ValidationError(f"{ttype.id} ({variant}) has no fp8 text encoder option; turn it off.",
                              field="training.fp8_text_encoder")
    if t.get("offload_inactive_dit") and ("experts" not in ttype.extra_fields or t.get("experts") != "both"):
        raise ValidationError("Offloading the inactive DiT only applies to Wan 2.2 with both experts.",
                              field="training.offload_inactive_dit")
    if t.get("offload_inactive_dit"):
        # docs/wan.md: only without block swap; on Windows it goes through shared VRAM, ~42 GB for the
        # two experts even in fp8, so about 96 GB of main RAM.
        if t["blocks_to_swap"]:
            raise ValidationError("Offloading the inactive DiT works only without block swap: set blocks to swap "
                                  "to 0, or turn offloading off (block swap uses less main memory).",
                                  field="training.offload_inactive_dit", code="offload_with_block_swap")
        warnings.append("Offloading the inactive DiT keeps about 42 GB of weights in shared memory: on Windows "
                        "that needs about 96 GB of main RAM. With less, use block swap instead.")
    if t["max_train_epochs"] is None and t["max_train_steps"] is None:
        raise ValidationError("Set the number of epochs or steps to train.", field="training.max_train_epochs")
    if t["max_train_epochs"] is not None and t["max_train_steps"] is not None:
        warnings.append("Both epochs and steps are set: musubi trains for the epochs and ignores the steps.")
    if t["lr_scheduler"] == "constant" and t["lr_warmup_steps"]:
        raise ValidationError("The constant scheduler takes no warmup: choose constant_with_warmup or set "
                              "warmup to 0.", field="training.lr_warmup_steps")
    lr_schedules.check(t)
    if t["tensorboard"]:
        warnings.append("TensorBoard logging needs `tensorboard` installed in the musubi-tuner environment.")


def _check_network_type(ttype: TaskType, t: dict) -> None:
    kind = t["network_type"]
    if kind not in ttype.network_types:
        raise ValidationError(f"musubi-tuner trains {kind} only for {', '.join(ttype.network_types)} on {ttype.id}; "
                              "choose LoRA.", field="training.network_type", code="network_type_unsupported",
                              details={"network_type": kind})
    # docs/loha_lokr.md: LoRA+ splits the learning rate between LoRA's A and B matrices, which LoHa and
    # LoKr do not have, and the doc lists it as not supported with them.
    if kind != "lora" and any(a.split("=", 1)[0].strip() == "loraplus_lr_ratio" for a in t["network_args"]):
        raise ValidationError("LoRA+ (loraplus_lr_ratio) works only with LoRA, not LoHa or LoKr: remove it from "
                              "the network arguments.", field="training.network_args", code="loraplus_needs_lora")


def _check_model_options(ttype: TaskType, t: dict, models: dict, sampling: bool) -> None:
    for m in ttype.models:
        used = m.key in models and (sampling or not m.train_for_sampling_only)
        if used and m.excludes_block_swap and t["blocks_to_swap"]:
            raise ValidationError(f"musubi-tuner cannot use the {m.key} file together with block swap: set blocks to "
                                  f"swap to 0, or leave {m.key} empty.", field="training.blocks_to_swap",
                                  code="model_excludes_block_swap", details={"model": m.key})


def _sampling_on(resolved: dict, warnings: list[str]) -> bool:
    s = resolved["samples"]
    triggered = bool(s.get("every_n_epochs") or s.get("every_n_steps") or s.get("at_first"))
    if triggered and not s.get("prompts"):
        warnings.append("Sampling is switched on but there are no sample prompts: no samples will be made.")
        return False
    if s.get("prompts") and not triggered:
        warnings.append("There are sample prompts but no sampling schedule: no samples will be made.")
        return False
    return triggered


def _models(ttype: TaskType, resolved: dict, sampling: bool, check_files: bool,
            warnings: list[str]) -> dict[str, str]:
    """The model paths this run needs, refusing a missing required one."""
    experts = resolved["training"].get("experts") if "experts" in ttype.extra_fields else None
    given = resolved.get("models", {})
    out = {}
    for m in ttype.models:
        if not m.applies(resolved["variant"], experts):
            continue
        path = given.get(m.key)
        if not path:
            if m.required:
                raise ValidationError(f"Choose the {m.key} model file.", field=f"models.{m.key}",
                                      code="model_missing")
            continue
        present = Path(path).is_file() or (m.folder_ok and Path(path).is_dir())
        if not present:
            if check_files:
                raise ValidationError(f"Model file not found: {path}", field=f"models.{m.key}",
                                      code="model_not_found")
            warnings.append(f"Model file {m.key} not found: {path}")
        out[m.key] = path
    return out


def _variant_args(variant, stage: str) -> list[str]:
    return [*variant.args.get("*", ()), *variant.args.get(stage, ())]


def _cache_args(ttype: TaskType, variant, stage: task_types.Stage, resolved: dict, models: dict,
                paths: TaskPaths) -> list[str]:
    args = ["--dataset_config", str(paths.dataset_toml)]
    for m in ttype.models:
        flag = m.flags.get(stage.name)
        if flag and m.key in models:
            args += [flag, models[m.key]]
    if stage.cache == "text" and resolved["training"]["fp8_text_encoder"]:
        args.append(ttype.text_encoder_fp8_flag)
    args += [*stage.args, *_variant_args(variant, stage.name), *stage_flags(stage.name, resolved["training"])]
    # Finished items are skipped, so a re-run after a stop or a dataset edit only does new work.
    args.append("--skip_existing")
    return args


def _flag_values(t: dict) -> list[str]:
    """Options that map one to one from training fields (see fields.py `flag`)."""
    from .fields import TRAINING_FIELDS

    # Handled by _train_args: they depend on other options or on a resume.
    skip = {"--max_train_epochs", "--max_train_steps", "--offload_inactive_dit", "--split_attn",
            "--use_pinned_memory_for_block_swap"}
    if not t.get("max_data_loader_n_workers"):
        # torch's DataLoader raises on persistent workers without workers.
        skip.add("--persistent_data_loader_workers")
    args: list[str] = []
    for f in TRAINING_FIELDS:
        if not f.flag or f.flag in skip or f.stage != "train":
            continue
        value = t.get(f.key)
        if f.kind == "bool":
            if value:
                args.append(f.flag)
        elif f.kind == "str_list":
            if value:
                args += [f.flag, *value]
        elif value is not None:
            if f.key == "blocks_to_swap" and value == 0:
                continue
            if f.key == "optimizer_type":
                value = OPTIMIZER_CLASSES.get(value, value)
            args += [f.flag, _num(value)]
    return args


def _num(value) -> str:
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return str(int(value)) if value >= 1 else repr(value)
    return str(value)


def _train_args(ttype: TaskType, variant, stage: task_types.Stage, resolved: dict, models: dict, paths: TaskPaths,
                name: str, sampling: bool, resume: dict | None) -> list[str]:
    t = resolved["training"]
    args = ["--dataset_config", str(paths.dataset_toml), "--network_module",
            ttype.network_module_for(t["network_type"]), *stage.args]
    experts = t.get("experts") if "experts" in ttype.extra_fields else None
    for m in ttype.models:
        flag = m.flags.get("train")
        if not flag or m.key not in models or (m.train_for_sampling_only and not sampling):
            continue
        if experts == "high" and m.key == "dit_high_noise":
            flag = "--dit"  # training only the high-noise expert: it is "the" DiT
        args += [flag, models[m.key]]
    if experts:
        args += _expert_args(experts, variant.timestep_boundary, t)
    args.append(f"--{t['attention']}")
    if t["split_attn"] or t["attention"] in ("xformers", "flash_attn") or (
            resolved["dataset"]["batch_size"] > 1 and t["attention"] in ttype.batch_split_attn_attention):
        args.append("--split_attn")
    args += _flag_values(t)
    if t["blocks_to_swap"] and t["use_pinned_memory_for_block_swap"]:
        args.append("--use_pinned_memory_for_block_swap")
    if sampling and ttype.text_encoder_fp8_flag and t["fp8_text_encoder"]:
        args.append(ttype.text_encoder_fp8_flag)
    args += _variant_args(variant, "train")
    args += _duration_args(t, resume)
    if resume and resume.get("mode") == "state":
        args += ["--resume", resume["path"]]
        args += _resumed_schedule(t, resume, len(resolved["gpus"]))
    elif resume and resume.get("mode") == "weights":
        args += ["--network_weights", resume["path"]]
    if sampling:
        s = resolved["samples"]
        args += ["--sample_prompts", str(paths.sample_prompts)]
        if s.get("every_n_epochs"):
            args += ["--sample_every_n_epochs", str(s["every_n_epochs"])]
        if s.get("every_n_steps"):
            args += ["--sample_every_n_steps", str(s["every_n_steps"])]
        if s.get("at_first") and not resume:
            args.append("--sample_at_first")
    if t["tensorboard"]:
        args += ["--logging_dir", str(paths.logs / "tensorboard"), "--log_with", "tensorboard"]
    args += ["--output_dir", str(paths.output), "--output_name", name]
    return args


def _resumed_schedule(t: dict, resume: dict, num_processes: int) -> list[str]:
    """Keep the original LR schedule across --resume (lr_schedules.py says why and how)."""
    if not lr_schedules.follows_total(t):
        return []
    total = resume.get("schedule_total_steps")
    if not total:
        raise ValidationError(
            f"The total number of steps of the first run is not known, so a resumed {t['lr_scheduler']} schedule "
            "cannot continue where it was. Continue from the weights instead (new optimizer and schedule), or "
            "start again.", field="resume", code="resume_schedule_unknown")
    return lr_schedules.resume_args(t, total, num_processes)


def _dit_files(ttype: TaskType, resolved: dict, models: dict) -> list[tuple[str, str]]:
    """(model key, path) of the DiT files this run trains: `--dit` first, then Wan 2.2's high-noise expert."""
    keys = [m.key for m in ttype.models if m.key.startswith("dit") and m.key in models]
    return [(k, models[k]) for k in keys]


def _match_dit_dtype(ttype: TaskType, resolved: dict, models: dict, warnings: list[str]) -> None:
    """Set or refuse what musubi requires of the DiT's stored dtype (TaskType.dit_dtype_keys)."""
    if not ttype.dit_dtype_keys:
        return
    t = resolved["training"]
    for index, (key, path) in enumerate(_dit_files(ttype, resolved, models)):
        try:
            tensors = read_header(path).tensors
        except (SafetensorsError, OSError):
            continue  # a missing or broken file is reported by the model checks
        dtype = next((tensors[k].dtype for k in ttype.dit_dtype_keys if k in tensors), None)
        if dtype is None:
            continue
        if dtype.startswith("F8_") and t["fp8_scaled"]:
            raise ValidationError(
                f"The {key} file is already stored in fp8 ({dtype}); musubi-tuner cannot scale it to fp8 again. "
                "Use the fp16/bf16 file, or turn off 'fp8 scaled'.", field="training.fp8_scaled",
                code="dit_already_fp8", details={"model": key, "dtype": dtype})
        if index:
            continue  # musubi reads the precision from --dit only
        # wan_train_network.py: fp16 weights need --mixed_precision fp16 (or no), bf16 ones bf16 (or no).
        wanted = {"F16": "fp16", "BF16": "bf16"}.get(dtype)
        if wanted and t["mixed_precision"] not in (wanted, "no"):
            warnings.append(f"The DiT is stored in {wanted}: mixed precision set to {wanted} to match it.")
            t["mixed_precision"] = wanted


def _expert_args(experts: str, boundary: int | None, t: dict) -> list[str]:
    """Wan 2.2: both experts switch at the boundary; one expert trains only its timestep range."""
    boundary = boundary or 875
    if experts == "both":
        args = ["--timestep_boundary", str(boundary)]
        if t.get("offload_inactive_dit"):
            args.append("--offload_inactive_dit")
        return args
    low, high = (boundary, 1000) if experts == "high" else (0, boundary)
    return ["--min_timestep", str(low), "--max_timestep", str(high), "--preserve_distribution_shape"]


def _duration_args(t: dict, resume: dict | None) -> list[str]:
    # musubi restarts its counters on --resume, so a resumed run gets only what is left.
    if resume and resume.get("max_train_epochs") is not None:
        return ["--max_train_epochs", str(resume["max_train_epochs"])]
    if resume and resume.get("max_train_steps") is not None:
        return ["--max_train_steps", str(resume["max_train_steps"])]
    if t["max_train_epochs"] is not None:
        return ["--max_train_epochs", str(t["max_train_epochs"])]
    return ["--max_train_steps", str(t["max_train_steps"])]
