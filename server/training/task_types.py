"""Architectures as data: one `TaskType` per kind of LoRA the app can train with musubi-tuner.

The command builder, the VRAM estimate and the create-task form (through `GET /api/task-types`)
all read this table; adding an architecture means adding an entry, not code paths. Figures and
flags come from ../shared/musubi/FACTS.md (musubi-tuner v0.3.4) and are checked against the CLI
contract by tests/training/test_commands.py for every type x preset x dataset type.

Stage names used everywhere: `cache_latents`, `cache_text_encoder`, `train`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound

STAGES = ("cache_latents", "cache_text_encoder", "train")
DATASET_TYPES = ("image", "video", "image_control")
PRESETS = ("high", "medium", "low")

# Prompt-file options (`--w` ...) by the name the task config uses for them.
PROMPT_OPTIONS = {
    "width": "--w", "height": "--h", "frames": "--f", "seed": "--d", "steps": "--s", "guidance": "--g",
    "flow_shift": "--fs", "cfg_scale": "--l", "negative": "--n", "image": "--i", "end_image": "--ei",
    "control_images": "--ci",
}


@dataclass(frozen=True)
class ModelFile:
    """A weights file the user points at. `flags` maps a stage to the option that takes the path."""

    key: str
    flags: dict[str, str]
    required: bool = True
    # On the training command this file is only needed to render samples.
    train_for_sampling_only: bool = False
    variants: tuple[str, ...] | None = None     # only for these variants
    experts: tuple[str, ...] | None = None      # Wan 2.2: only when training these experts

    def applies(self, variant: str, experts: str | None) -> bool:
        if self.variants and variant not in self.variants:
            return False
        if self.experts and experts not in self.experts:
            return False
        return True

    def public(self) -> dict:
        return {"key": self.key, "flags": dict(self.flags), "required": self.required,
                "train_for_sampling_only": self.train_for_sampling_only,
                "variants": list(self.variants) if self.variants else None,
                "experts": list(self.experts) if self.experts else None,
                "label_key": f"training.models.{self.key}.label",
                "help_key": f"training.models.{self.key}.help"}


@dataclass(frozen=True)
class VramModel:
    """Rough training VRAM: weights (less the swapped blocks) + activations + fixed overhead.

    Activations scale with megapixels x batch x latent frames; the reference point of every figure is
    1024x1024, batch 1, gradient checkpointing on. Only Qwen-Image's figures are published (FACTS.md);
    the others are derived from parameter counts and marked `published=False`.
    """

    weights_bf16_gb: float
    weights_fp8_gb: float
    activation_gb_per_mpix: float
    overhead_gb: float = 2.0
    block_gb_fp8: float | None = None   # None: weights_fp8 / (max_blocks_to_swap + 1)
    no_checkpointing_factor: float = 3.0
    published: bool = False


@dataclass(frozen=True)
class Variant:
    key: str
    # Extra arguments per stage ("*" = every stage), e.g. ["--model_version", "edit"].
    args: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dataset_types: tuple[str, ...] | None = None
    max_blocks_to_swap: int | None = None
    vram: VramModel | None = None
    text_encoder_fp8: bool = True       # FLUX.2 dev has no fp8 text encoder
    timestep_boundary: int | None = None  # Wan 2.2 expert switch, in musubi's 0-1000 units
    required_prompt_options: tuple[str, ...] = ()
    presets: dict[str, dict] | None = None

    @property
    def label_key(self) -> str:
        return f"training.variants.{self.key}"


@dataclass(frozen=True)
class TaskType:
    id: str
    scripts: dict[str, str]
    network_module: str
    models: tuple[ModelFile, ...]
    variants: tuple[Variant, ...]
    dataset_types: tuple[str, ...]
    max_blocks_to_swap: int
    vram: VramModel
    presets: dict[str, dict]
    text_encoder_fp8_flag: str | None    # on the cache_text_encoder stage and (for sampling) on train
    fp8_scaled: bool = True
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompt_options: tuple[str, ...] = ("width", "height", "seed", "steps", "guidance", "flow_shift",
                                       "cfg_scale", "negative")
    required_prompt_options: tuple[str, ...] = ()
    video: bool = False                  # trains on frames: VRAM counts latent frames
    extra_fields: tuple[str, ...] = ()   # type-specific fields from fields.py shown for this type

    @property
    def label_key(self) -> str:
        return f"training.types.{self.id}.label"

    @property
    def help_key(self) -> str:
        return f"training.types.{self.id}.help"

    def variant(self, key: str | None) -> Variant:
        if key is None:
            return self.variants[0]
        for v in self.variants:
            if v.key == key:
                return v
        raise KeyError(key)

    def accepted_dataset_types(self, variant: str | None = None) -> tuple[str, ...]:
        v = self.variant(variant)
        return v.dataset_types or self.dataset_types

    def max_swap(self, variant: str | None = None) -> int:
        v = self.variant(variant)
        return v.max_blocks_to_swap if v.max_blocks_to_swap is not None else self.max_blocks_to_swap

    def vram_model(self, variant: str | None = None) -> VramModel:
        return self.variant(variant).vram or self.vram

    def preset(self, name: str, variant: str | None = None) -> dict:
        v = self.variant(variant)
        table = v.presets or self.presets
        values = dict(table[name])
        if not self.fp8_scaled:
            values["fp8_scaled"] = False
        if not v.text_encoder_fp8 or not self.text_encoder_fp8_flag:
            values["fp8_text_encoder"] = False
        return values


def presets(medium_swap: int, low_swap: int) -> dict[str, dict]:
    """The three memory presets: high = bf16 weights; medium = fp8 + some swap; low = fp8 + deep swap."""
    common = {"gradient_checkpointing": True, "gradient_checkpointing_cpu_offload": False}
    return {
        "high": {**common, "fp8_base": False, "fp8_scaled": False, "fp8_text_encoder": False,
                 "blocks_to_swap": 0, "use_pinned_memory_for_block_swap": False},
        "medium": {**common, "fp8_base": True, "fp8_scaled": True, "fp8_text_encoder": True,
                   "blocks_to_swap": medium_swap, "use_pinned_memory_for_block_swap": False},
        "low": {**common, "fp8_base": True, "fp8_scaled": True, "fp8_text_encoder": True,
                "blocks_to_swap": low_swap, "use_pinned_memory_for_block_swap": low_swap > 0},
    }


def _image_defaults(lr: float, sampling: str, shift: float, **training) -> dict:
    return {"training": {"learning_rate": lr, "timestep_sampling": sampling, "discrete_flow_shift": shift,
                         "weighting_scheme": "none", **training},
            "dataset": {"resolution": [1024, 1024]},
            "samples": {"width": 1024, "height": 1024, "steps": 25, "guidance": 4.0}}


def _video_defaults(lr: float, shift: float, **training) -> dict:
    return {"training": {"learning_rate": lr, "timestep_sampling": "shift", "discrete_flow_shift": shift,
                         "weighting_scheme": "none", **training},
            "dataset": {"resolution": [832, 480], "target_frames": [1, 25, 45], "frame_extraction": "head"},
            "samples": {"width": 832, "height": 480, "frames": 45, "steps": 20, "guidance": 5.0}}


def _encoder(key: str) -> ModelFile:
    """A text encoder: cached once, and on the training command only to render samples."""
    return ModelFile(key, {"cache_text_encoder": f"--{key}", "train": f"--{key}"}, train_for_sampling_only=True)


_DIT = ModelFile("dit", {"train": "--dit"})
_VAE = ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True)
# DiT + VAE + one text encoder (Qwen-Image, FLUX.2, Z-Image) or two (FLUX.1 Kontext, HunyuanVideo).
_ONE_ENCODER_MODELS = (_DIT, _VAE, _encoder("text_encoder"))
_TWO_ENCODER_MODELS = (_DIT, _VAE, _encoder("text_encoder1"), _encoder("text_encoder2"))
_QWEN_SCRIPTS = {"cache_latents": "qwen_image_cache_latents",
                 "cache_text_encoder": "qwen_image_cache_text_encoder_outputs",
                 "train": "qwen_image_train_network"}
_QWEN_VRAM = VramModel(weights_bf16_gb=34.0, weights_fp8_gb=22.0, activation_gb_per_mpix=6.0,
                       overhead_gb=2.0, block_gb_fp8=0.4, published=True)
_QWEN_PRESETS = presets(medium_swap=16, low_swap=45)


def _model_version(name: str) -> dict[str, tuple[str, ...]]:
    return {"*": ("--model_version", name)}


_WAN22_MODELS = (
    ModelFile("dit", {"train": "--dit"}, experts=("both", "low")),
    ModelFile("dit_high_noise", {"train": "--dit_high_noise"}, experts=("both", "high")),
    _VAE,
    _encoder("t5"),
)
_WAN21_MODELS = (
    _DIT,
    _VAE,
    _encoder("t5"),
    ModelFile("clip", {"cache_latents": "--clip", "train": "--clip"}, train_for_sampling_only=True,
              variants=("i2v-14B",)),
)
_WAN_SCRIPTS = {"cache_latents": "wan_cache_latents", "cache_text_encoder": "wan_cache_text_encoder_outputs",
                "train": "wan_train_network"}
_WAN14_VRAM = VramModel(weights_bf16_gb=28.0, weights_fp8_gb=14.5, activation_gb_per_mpix=2.5)
_WAN_VIDEO_PROMPTS = ("width", "height", "frames", "seed", "steps", "guidance", "flow_shift", "negative", "image")


TASK_TYPES: dict[str, TaskType] = {t.id: t for t in (
    TaskType(
        id="qwen-image-lora", scripts=_QWEN_SCRIPTS, network_module="networks.lora_qwen_image",
        models=_ONE_ENCODER_MODELS, variants=(Variant("original", args=_model_version("original")),),
        dataset_types=("image",), max_blocks_to_swap=59, vram=_QWEN_VRAM, presets=_QWEN_PRESETS,
        text_encoder_fp8_flag="--fp8_vl",
        defaults=_image_defaults(5e-5, "shift", 2.2, network_dim=16, network_alpha=16.0),
    ),
    TaskType(
        id="qwen-image-edit-lora", scripts=_QWEN_SCRIPTS, network_module="networks.lora_qwen_image",
        models=_ONE_ENCODER_MODELS,
        variants=tuple(Variant(v, args=_model_version(v)) for v in ("edit-2511", "edit-2509", "edit")),
        dataset_types=("image_control",), max_blocks_to_swap=59, vram=_QWEN_VRAM, presets=_QWEN_PRESETS,
        text_encoder_fp8_flag="--fp8_vl",
        defaults=_image_defaults(5e-5, "shift", 2.2, network_dim=16, network_alpha=16.0),
        prompt_options=("width", "height", "seed", "steps", "guidance", "flow_shift", "cfg_scale", "negative",
                        "control_images"),
        required_prompt_options=("control_images",),
    ),
    TaskType(
        id="kontext-lora",
        scripts={"cache_latents": "flux_kontext_cache_latents",
                 "cache_text_encoder": "flux_kontext_cache_text_encoder_outputs",
                 "train": "flux_kontext_train_network"},
        network_module="networks.lora_flux",
        models=_TWO_ENCODER_MODELS,
        variants=(Variant("dev"),), dataset_types=("image_control",), max_blocks_to_swap=34,
        vram=VramModel(weights_bf16_gb=24.0, weights_fp8_gb=12.5, activation_gb_per_mpix=4.0),
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_t5",
        defaults=_image_defaults(1e-4, "flux_shift", 1.0, guidance_scale=1.0),
        prompt_options=("width", "height", "seed", "steps", "guidance", "negative", "control_images"),
        required_prompt_options=("control_images",),
    ),
    TaskType(
        id="wan2.2-lora", scripts=_WAN_SCRIPTS, network_module="networks.lora_wan", models=_WAN22_MODELS,
        variants=(
            Variant("t2v-A14B", args={"train": ("--task", "t2v-A14B")}, timestep_boundary=875),
            Variant("i2v-A14B", args={"train": ("--task", "i2v-A14B"), "cache_latents": ("--i2v",)},
                    dataset_types=("video",), timestep_boundary=900, required_prompt_options=("image",)),
        ),
        dataset_types=("image", "video"), max_blocks_to_swap=39, vram=_WAN14_VRAM,
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_t5",
        defaults=_video_defaults(2e-4, 12.0), prompt_options=_WAN_VIDEO_PROMPTS, video=True,
        extra_fields=("experts", "offload_inactive_dit"),
    ),
    TaskType(
        id="wan2.1-lora", scripts=_WAN_SCRIPTS, network_module="networks.lora_wan", models=_WAN21_MODELS,
        variants=(
            Variant("t2v-14B", args={"train": ("--task", "t2v-14B")}),
            Variant("t2v-1.3B", args={"train": ("--task", "t2v-1.3B")}, max_blocks_to_swap=29,
                    vram=VramModel(weights_bf16_gb=2.8, weights_fp8_gb=1.5, activation_gb_per_mpix=1.2,
                                   overhead_gb=1.5),
                    presets=presets(medium_swap=0, low_swap=15)),
            Variant("i2v-14B", args={"train": ("--task", "i2v-14B"), "cache_latents": ("--i2v",)},
                    dataset_types=("video",), required_prompt_options=("image",)),
        ),
        dataset_types=("image", "video"), max_blocks_to_swap=39, vram=_WAN14_VRAM,
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_t5",
        defaults=_video_defaults(2e-4, 3.0), prompt_options=_WAN_VIDEO_PROMPTS, video=True,
    ),
    TaskType(
        id="flux2-lora",
        scripts={"cache_latents": "flux_2_cache_latents", "cache_text_encoder": "flux_2_cache_text_encoder_outputs",
                 "train": "flux_2_train_network"},
        network_module="networks.lora_flux_2",
        models=_ONE_ENCODER_MODELS,
        variants=(
            Variant("dev", args=_model_version("dev"), text_encoder_fp8=False),
            Variant("klein-4b", args=_model_version("klein-4b"), max_blocks_to_swap=13,
                    vram=VramModel(8.0, 4.2, 2.5), presets=presets(0, 10)),
            Variant("klein-base-4b", args=_model_version("klein-base-4b"), max_blocks_to_swap=13,
                    vram=VramModel(8.0, 4.2, 2.5), presets=presets(0, 10)),
            Variant("klein-9b", args=_model_version("klein-9b"), max_blocks_to_swap=16,
                    vram=VramModel(18.0, 9.5, 3.0), presets=presets(4, 12)),
            Variant("klein-base-9b", args=_model_version("klein-base-9b"), max_blocks_to_swap=16,
                    vram=VramModel(18.0, 9.5, 3.0), presets=presets(4, 12)),
        ),
        dataset_types=("image",), max_blocks_to_swap=29,
        vram=VramModel(weights_bf16_gb=64.0, weights_fp8_gb=33.0, activation_gb_per_mpix=6.0),
        presets=presets(medium_swap=16, low_swap=27), text_encoder_fp8_flag="--fp8_text_encoder",
        defaults=_image_defaults(1e-4, "flux2_shift", 1.0),
    ),
    TaskType(
        id="zimage-lora",
        scripts={"cache_latents": "zimage_cache_latents", "cache_text_encoder": "zimage_cache_text_encoder_outputs",
                 "train": "zimage_train_network"},
        network_module="networks.lora_zimage",
        models=_ONE_ENCODER_MODELS,
        variants=(Variant("base"),), dataset_types=("image",), max_blocks_to_swap=28,
        vram=VramModel(weights_bf16_gb=12.0, weights_fp8_gb=6.5, activation_gb_per_mpix=3.0),
        presets=presets(medium_swap=0, low_swap=20), text_encoder_fp8_flag="--fp8_llm",
        defaults=_image_defaults(1e-4, "shift", 2.0),
    ),
    TaskType(
        id="hunyuan-video-lora",
        scripts={"cache_latents": "cache_latents", "cache_text_encoder": "cache_text_encoder_outputs",
                 "train": "hv_train_network"},
        network_module="networks.lora",
        models=_TWO_ENCODER_MODELS,
        variants=(Variant("t2v"),), dataset_types=("image", "video"), max_blocks_to_swap=36,
        vram=VramModel(weights_bf16_gb=26.0, weights_fp8_gb=13.5, activation_gb_per_mpix=2.5),
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_llm", fp8_scaled=False,
        defaults=_video_defaults(2e-4, 7.0),
        prompt_options=("width", "height", "frames", "seed", "steps", "guidance", "flow_shift", "negative"),
        video=True,
    ),
)}


def get(task_type: str) -> TaskType:
    try:
        return TASK_TYPES[task_type]
    except KeyError:
        raise NotFound(f"Unknown task type '{task_type}'.", code="unknown_task_type") from None
