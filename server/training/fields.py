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
    F("network_args", "training", "str_list", [], "--network_args"),
    F("network_dropout", "training", "float", None, "--network_dropout", min=0, max=1, nullable=True),
    # How long.
    F("max_train_epochs", "training", "int", 16, "--max_train_epochs", min=1, nullable=True),
    F("max_train_steps", "training", "int", None, "--max_train_steps", min=1, nullable=True),
    F("seed", "training", "int", 42, "--seed", min=0, nullable=True),
    F("gradient_accumulation_steps", "training", "int", 1, "--gradient_accumulation_steps", min=1),
    # Optimiser and schedule.
    F("optimizer_type", "training", "choice", "AdamW8bit", "--optimizer_type", choices=OPTIMIZERS),
    F("optimizer_args", "training", "str_list", [], "--optimizer_args"),
    F("learning_rate", "training", "float", 1e-4, "--learning_rate", min=0),
    F("max_grad_norm", "training", "float", 1.0, "--max_grad_norm", min=0),
    F("lr_scheduler", "training", "choice", "constant", "--lr_scheduler", choices=SCHEDULERS),
    F("lr_warmup_steps", "training", "int", 0, "--lr_warmup_steps", min=0),
    F("lr_scheduler_num_cycles", "training", "int", 1, "--lr_scheduler_num_cycles", min=1),
    F("lr_scheduler_min_lr_ratio", "training", "float", None, "--lr_scheduler_min_lr_ratio", min=0, max=1,
      nullable=True),
    # Timesteps.
    F("timestep_sampling", "training", "choice", "shift", "--timestep_sampling", choices=TIMESTEP_SAMPLING),
    F("discrete_flow_shift", "training", "float", 3.0, "--discrete_flow_shift", min=0),
    F("weighting_scheme", "training", "choice", "none", "--weighting_scheme", choices=WEIGHTING),
    F("guidance_scale", "training", "float", None, "--guidance_scale", nullable=True),
    # Precision and memory (the VRAM presets set these).
    F("mixed_precision", "training", "choice", "bf16", "--mixed_precision", choices=PRECISION),
    F("attention", "training", "choice", "sdpa", None, choices=ATTENTION),
    F("split_attn", "training", "bool", False, "--split_attn"),
    F("fp8_base", "training", "bool", False, "--fp8_base"),
    F("fp8_scaled", "training", "bool", False, "--fp8_scaled"),
    F("fp8_text_encoder", "training", "bool", False, None),
    F("gradient_checkpointing", "training", "bool", True, "--gradient_checkpointing"),
    F("gradient_checkpointing_cpu_offload", "training", "bool", False, "--gradient_checkpointing_cpu_offload"),
    F("blocks_to_swap", "training", "int", 0, "--blocks_to_swap", min=0),
    F("use_pinned_memory_for_block_swap", "training", "bool", False, "--use_pinned_memory_for_block_swap"),
    F("max_data_loader_n_workers", "training", "int", 2, "--max_data_loader_n_workers", min=0),
    F("persistent_data_loader_workers", "training", "bool", True, "--persistent_data_loader_workers"),
    # Saving.
    F("save_every_n_epochs", "training", "int", 1, "--save_every_n_epochs", min=1, nullable=True),
    F("save_every_n_steps", "training", "int", None, "--save_every_n_steps", min=1, nullable=True),
    F("save_last_n_epochs", "training", "int", None, "--save_last_n_epochs", min=1, nullable=True),
    F("save_last_n_steps", "training", "int", None, "--save_last_n_steps", min=1, nullable=True),
    F("save_state", "training", "bool", True, "--save_state"),
    F("save_precision", "training", "choice", "bf16", "--save_precision", choices=SAVE_PRECISION),
    F("tensorboard", "training", "bool", False, None),
    # Wan 2.2 only (TaskType.extra_fields lists which types show these).
    F("experts", "training", "choice", "both", None, choices=("both", "high", "low")),
    F("offload_inactive_dit", "training", "bool", False, "--offload_inactive_dit"),
    # Qwen-Image-Layered only: train on the layer images, not the first (original) one.
    F("remove_first_image_from_target", "training", "bool", False, "--remove_first_image_from_target"),
    # FramePack one-frame only: cache without the zero "clean latents 2x / 4x", as no_2x / no_4x do when sampling
    # (docs/framepack_1f.md: set them as the inference will be run). Options of the latent cache, not of training.
    F("one_frame_no_2x", "training", "bool", False, "--one_frame_no_2x", stage="cache_latents"),
    F("one_frame_no_4x", "training", "bool", False, "--one_frame_no_4x", stage="cache_latents"),
)

DATASET_FIELDS: tuple[Field, ...] = (
    F("resolution", "dataset", "resolution", [1024, 1024]),
    F("batch_size", "dataset", "int", 1, min=1, max=64),
    F("num_repeats", "dataset", "int", 1, min=1, max=1000),
    F("caption_extension", "dataset", "str", ".txt"),
    F("enable_bucket", "dataset", "bool", True),
    F("bucket_no_upscale", "dataset", "bool", False),
    F("control_resolution", "dataset", "resolution", None, nullable=True),
    F("no_resize_control", "dataset", "bool", False),
    F("target_frames", "dataset", "int_list", [1, 25, 45]),
    F("frame_extraction", "dataset", "choice", "head", choices=FRAME_EXTRACTION),
    F("frame_stride", "dataset", "int", None, min=1, nullable=True),
    F("frame_sample", "dataset", "int", None, min=1, nullable=True),
    F("max_frames", "dataset", "int", None, min=1, nullable=True),
    F("source_fps", "dataset", "float", None, min=1, nullable=True),
    # One-frame training (FramePack, Wan): the RoPE indices of the control images and of the trained frame
    # (docs/dataset_config.md "FramePack One Frame Training"); shown only for the types listing them.
    F("fp_1f_clean_indices", "dataset", "int_list", None, min=0, nullable=True),
    F("fp_1f_target_index", "dataset", "int", None, min=0, nullable=True),
    F("fp_1f_no_post", "dataset", "bool", False),
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




@dataclass(frozen=True)
class FormGroup:
    """A group of the create-task form (its title: `training.group.<key>`), its fields in the order shown.

    Every field is in exactly one group (tests/training/test_form_groups.py); a type shows the fields of a
    group that apply to it. How a field is drawn stays the form's business: the two duration fields and
    the two save-every fields are each one "epochs or steps" picker, bucket_no_upscale shows while
    enable_bucket is on (ui/src/lib/taskForm.svelte.js)."""

    key: str
    fields: tuple[str, ...]

    def public(self) -> dict:
        return {"key": self.key, "fields": list(self.fields)}


FORM_GROUPS: tuple[FormGroup, ...] = (
    # Beside the VRAM preset: the fields its presets set (a type's presets set exactly these, where they
    # apply; the test checks it), so a preset's effect is seen where it is chosen.
    FormGroup("task", ("fp8_base", "fp8_scaled", "fp8_text_encoder", "gradient_checkpointing",
                       "gradient_checkpointing_cpu_offload", "blocks_to_swap", "use_pinned_memory_for_block_swap")),
    FormGroup("dataset", ("resolution", "batch_size", "num_repeats", "enable_bucket", "bucket_no_upscale",
                          "target_frames", "frame_extraction", "fp_1f_clean_indices", "fp_1f_target_index")),
    FormGroup("training", ("learning_rate", "optimizer_type", "lr_scheduler", "lr_warmup_steps",
                           "max_train_epochs", "max_train_steps", "save_every_n_epochs", "save_every_n_steps",
                           "network_type", "network_dim", "network_alpha", "seed", "experts",
                           "remove_first_image_from_target")),
    # Folded: what most users never change.
    FormGroup("advanced", (
        "network_args", "network_dropout", "gradient_accumulation_steps", "optimizer_args", "max_grad_norm",
        "lr_scheduler_num_cycles", "lr_scheduler_min_lr_ratio", "timestep_sampling", "discrete_flow_shift",
        "weighting_scheme", "guidance_scale", "mixed_precision", "attention", "split_attn",
        "max_data_loader_n_workers", "persistent_data_loader_workers", "save_last_n_epochs", "save_last_n_steps",
        "save_state", "save_precision", "tensorboard", "offload_inactive_dit", "one_frame_no_2x", "one_frame_no_4x",
        "caption_extension", "control_resolution", "no_resize_control", "frame_stride", "frame_sample", "max_frames",
        "source_fps", "fp_1f_no_post")),
)


def form_groups() -> list[dict]:
    """FORM_GROUPS for GET /api/task-types."""
    return [g.public() for g in FORM_GROUPS]


def field(section: str, key: str) -> Field:
    return ALL_FIELDS[(section, key)]


def flag_to_field() -> dict[str, str]:
    """musubi flag -> "section.key", to name the form field behind a rejected flag."""
    return {f.flag: f"{f.section}.{f.key}" for f in TRAINING_FIELDS if f.flag}


def stage_flags(stage: str, t: dict) -> list[str]:
    """The switches of training fields that belong on a cache stage's command (Field.stage), where set."""
    return [f.flag for f in TRAINING_FIELDS if f.stage == stage and f.flag and f.kind == "bool" and t.get(f.key)]
