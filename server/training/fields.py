"""The editable settings of a training task, described as data.

Every field names its section in the task config (`training` or `dataset`), its value kind, its
default, the musubi flag it feeds (if it maps one to one) and the i18n keys of its label and help
text, so the create-task form can be generated from `GET /api/task-types` and the builder can say
which field to fix when a command would be invalid. Task types override defaults and choices
(`TaskType.defaults`), they never redefine fields.

Kinds: int, float, bool, str, choice, str_list (several strings), int_list, resolution ([W, H]).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .task_types import NETWORK_TYPES

OPTIMIZERS = ("AdamW8bit", "AdamW", "AdaFactor", "Prodigy", "CAME")
# musubi builds AdamW, AdamW8bit and AdaFactor itself and looks any other name without a dot up in
# torch.optim (trainer_base.get_optimizer), where Prodigy and CAME are not: they go by import path.
# The trainer environment installs prodigyopt and came-pytorch (server/runtime).
OPTIMIZER_CLASSES = {"Prodigy": "prodigyopt.Prodigy", "CAME": "came_pytorch.CAME"}
# piecewise_constant is not offered: it needs diffusers' step_rules through --lr_scheduler_args and
# crashes without them. What the others need is checked in lr_schedules.py.
SCHEDULERS = ("constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial",
              "inverse_sqrt", "cosine_with_min_lr", "warmup_stable_decay", "rex", "adafactor")
ATTENTION = ("sdpa", "xformers", "flash_attn", "flash3")
TIMESTEP_SAMPLING = ("sigma", "uniform", "sigmoid", "shift", "flux_shift", "flux2_shift", "qwen_shift",
                     "krea2_shift", "logsnr", "qinglong_flux", "qinglong_qwen", "ideogram4_shift")
WEIGHTING = ("none", "logit_normal", "mode", "cosmap", "sigma_sqrt")
PRECISION = ("bf16", "fp16", "no")
SAVE_PRECISION = ("bf16", "fp16", "fp32")
FRAME_EXTRACTION = ("head", "chunk", "slide", "uniform", "full")


@dataclass(frozen=True)
class Field:
    key: str
    section: str
    kind: str
    default: Any
    flag: str | None = None
    choices: tuple | None = None
    min: float | None = None
    max: float | None = None
    group: str = "basic"          # form grouping: basic / memory / schedule / saving / advanced
    nullable: bool = False        # None means "leave musubi's default / not used"
    stage: str = "train"          # the stage whose command takes `flag` (task_types.STAGES)

    @property
    def label_key(self) -> str:
        return f"training.fields.{self.key}.label"

    @property
    def help_key(self) -> str:
        return f"training.fields.{self.key}.help"

    def public(self) -> dict:
        d = asdict(self)
        d["choices"] = list(self.choices) if self.choices else None
        d["label_key"], d["help_key"] = self.label_key, self.help_key
        return d


def F(key, section, kind, default, flag=None, **kw) -> Field:
    return Field(key, section, kind, default, flag, **kw)


TRAINING_FIELDS: tuple[Field, ...] = (
    # What is learned. Which network types a task type offers is TaskType.network_types.
    F("network_type", "training", "choice", "lora", None, choices=NETWORK_TYPES),
    F("network_dim", "training", "int", 32, "--network_dim", min=1, max=1024),
    F("network_alpha", "training", "float", 16.0, "--network_alpha", min=0),
    F("network_args", "training", "str_list", [], "--network_args", group="advanced"),
    F("network_dropout", "training", "float", None, "--network_dropout", min=0, max=1, nullable=True,
      group="advanced"),
    # How long.
    F("max_train_epochs", "training", "int", 16, "--max_train_epochs", min=1, nullable=True),
    F("max_train_steps", "training", "int", None, "--max_train_steps", min=1, nullable=True),
    F("seed", "training", "int", 42, "--seed", min=0, nullable=True),
    F("gradient_accumulation_steps", "training", "int", 1, "--gradient_accumulation_steps", min=1,
      group="advanced"),
    # Optimiser and schedule.
    F("optimizer_type", "training", "choice", "AdamW8bit", "--optimizer_type", choices=OPTIMIZERS,
      group="schedule"),
    F("optimizer_args", "training", "str_list", [], "--optimizer_args", group="advanced"),
    F("learning_rate", "training", "float", 1e-4, "--learning_rate", min=0, group="schedule"),
    F("max_grad_norm", "training", "float", 1.0, "--max_grad_norm", min=0, group="advanced"),
    F("lr_scheduler", "training", "choice", "constant", "--lr_scheduler", choices=SCHEDULERS, group="schedule"),
    F("lr_warmup_steps", "training", "int", 0, "--lr_warmup_steps", min=0, group="schedule"),
    F("lr_scheduler_num_cycles", "training", "int", 1, "--lr_scheduler_num_cycles", min=1, group="advanced"),
    F("lr_scheduler_min_lr_ratio", "training", "float", None, "--lr_scheduler_min_lr_ratio", min=0, max=1,
      nullable=True, group="advanced"),
    # Timesteps.
    F("timestep_sampling", "training", "choice", "shift", "--timestep_sampling", choices=TIMESTEP_SAMPLING,
      group="advanced"),
    F("discrete_flow_shift", "training", "float", 3.0, "--discrete_flow_shift", min=0, group="advanced"),
    F("weighting_scheme", "training", "choice", "none", "--weighting_scheme", choices=WEIGHTING, group="advanced"),
    F("guidance_scale", "training", "float", None, "--guidance_scale", nullable=True, group="advanced"),
    # Precision and memory (the VRAM presets set these).
    F("mixed_precision", "training", "choice", "bf16", "--mixed_precision", choices=PRECISION, group="memory"),
    F("attention", "training", "choice", "sdpa", None, choices=ATTENTION, group="memory"),
    F("split_attn", "training", "bool", False, "--split_attn", group="memory"),
    F("fp8_base", "training", "bool", False, "--fp8_base", group="memory"),
    F("fp8_scaled", "training", "bool", False, "--fp8_scaled", group="memory"),
    F("fp8_text_encoder", "training", "bool", False, None, group="memory"),
    F("gradient_checkpointing", "training", "bool", True, "--gradient_checkpointing", group="memory"),
    F("gradient_checkpointing_cpu_offload", "training", "bool", False, "--gradient_checkpointing_cpu_offload",
      group="memory"),
    F("blocks_to_swap", "training", "int", 0, "--blocks_to_swap", min=0, group="memory"),
    F("use_pinned_memory_for_block_swap", "training", "bool", False, "--use_pinned_memory_for_block_swap",
      group="memory"),
    F("max_data_loader_n_workers", "training", "int", 2, "--max_data_loader_n_workers", min=0, group="advanced"),
    F("persistent_data_loader_workers", "training", "bool", True, "--persistent_data_loader_workers",
      group="advanced"),
    # Saving.
    F("save_every_n_epochs", "training", "int", 1, "--save_every_n_epochs", min=1, nullable=True, group="saving"),
    F("save_every_n_steps", "training", "int", None, "--save_every_n_steps", min=1, nullable=True,
      group="saving"),
    F("save_last_n_epochs", "training", "int", None, "--save_last_n_epochs", min=1, nullable=True,
      group="saving"),
    F("save_last_n_steps", "training", "int", None, "--save_last_n_steps", min=1, nullable=True, group="saving"),
    F("save_state", "training", "bool", True, "--save_state", group="saving"),
    F("save_precision", "training", "choice", "bf16", "--save_precision", choices=SAVE_PRECISION, group="saving"),
    F("tensorboard", "training", "bool", False, None, group="saving"),
    # Wan 2.2 only (TaskType.extra_fields lists which types show these).
    F("experts", "training", "choice", "both", None, choices=("both", "high", "low")),
    F("offload_inactive_dit", "training", "bool", False, "--offload_inactive_dit", group="memory"),
    # Qwen-Image-Layered only: train on the layer images, not the first (original) one.
    F("remove_first_image_from_target", "training", "bool", False, "--remove_first_image_from_target"),
    # FramePack one-frame only: cache without the zero "clean latents 2x / 4x", as no_2x / no_4x do when sampling
    # (docs/framepack_1f.md: set them as the inference will be run). Options of the latent cache, not of training.
    F("one_frame_no_2x", "training", "bool", False, "--one_frame_no_2x", group="advanced", stage="cache_latents"),
    F("one_frame_no_4x", "training", "bool", False, "--one_frame_no_4x", group="advanced", stage="cache_latents"),
)

DATASET_FIELDS: tuple[Field, ...] = (
    F("resolution", "dataset", "resolution", [1024, 1024]),
    F("batch_size", "dataset", "int", 1, min=1, max=64),
    F("num_repeats", "dataset", "int", 1, min=1, max=1000),
    F("caption_extension", "dataset", "str", ".txt", group="advanced"),
    F("enable_bucket", "dataset", "bool", True),
    F("bucket_no_upscale", "dataset", "bool", False, group="advanced"),
    F("control_resolution", "dataset", "resolution", None, nullable=True, group="advanced"),
    F("no_resize_control", "dataset", "bool", False, group="advanced"),
    F("target_frames", "dataset", "int_list", [1, 25, 45]),
    F("frame_extraction", "dataset", "choice", "head", choices=FRAME_EXTRACTION),
    F("frame_stride", "dataset", "int", None, min=1, nullable=True, group="advanced"),
    F("frame_sample", "dataset", "int", None, min=1, nullable=True, group="advanced"),
    F("max_frames", "dataset", "int", None, min=1, nullable=True, group="advanced"),
    F("source_fps", "dataset", "float", None, min=1, nullable=True, group="advanced"),
    # One-frame training (FramePack, Wan): the RoPE indices of the control images and of the trained frame
    # (docs/dataset_config.md "FramePack One Frame Training"); shown only for the types listing them.
    F("fp_1f_clean_indices", "dataset", "int_list", None, min=0, nullable=True),
    F("fp_1f_target_index", "dataset", "int", None, min=0, nullable=True),
    F("fp_1f_no_post", "dataset", "bool", False, group="advanced"),
)

# Fields that only matter for some dataset types or task types.
VIDEO_ONLY = {"target_frames", "frame_extraction", "frame_stride", "frame_sample", "max_frames", "source_fps"}
CONTROL_ONLY = {"control_resolution", "no_resize_control"}
# Shown only for the task types that list them in TaskType.extra_fields (Wan 2.2's experts, one-frame indices);
# any other type refuses a value other than the default (commands._check_type_specific).
TYPE_SPECIFIC = {"experts", "offload_inactive_dit", "fp_1f_clean_indices", "fp_1f_target_index", "fp_1f_no_post",
                 "one_frame_no_2x", "one_frame_no_4x",
                 "remove_first_image_from_target"}

ALL_FIELDS: dict[tuple[str, str], Field] = {(f.section, f.key): f for f in TRAINING_FIELDS + DATASET_FIELDS}


def field(section: str, key: str) -> Field:
    return ALL_FIELDS[(section, key)]


def flag_to_field() -> dict[str, str]:
    """musubi flag -> "section.key", to name the form field behind a rejected flag."""
    return {f.flag: f"{f.section}.{f.key}" for f in TRAINING_FIELDS if f.flag}


def stage_flags(stage: str, t: dict) -> list[str]:
    """The switches of training fields that belong on a cache stage's command (Field.stage), where set."""
    return [f.flag for f in TRAINING_FIELDS if f.stage == stage and f.flag and f.kind == "bool" and t.get(f.key)]
