"""Architectures as data: one `TaskType` per kind of LoRA the app can train with musubi-tuner.

The command builder, the VRAM estimate and the create-task form (through `GET /api/task-types`)
all read this table; adding an architecture means adding an entry, not code paths. Figures and
flags come from ../shared/musubi/FACTS.md (musubi-tuner v0.3.4) and are checked against the CLI
contract by tests/training/test_commands.py for every type x preset x dataset type.

A run is the type's `stages`, in order: each a musubi script with its own arguments. Most types cache latents,
then text-encoder outputs, then train; HiDream-O1 caches pixel patches instead of latents (`cache_pixels`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import NotFound

# Every stage a run can have, in run order, and what it caches: "media" = one file per item and size,
# `{stem}_{W}x{H}_{arch}.safetensors` (VAE latents, or HiDream-O1's pixel patch tokens, which musubi names alike),
# "text" = `{stem}_{arch}_te.safetensors`, None = training. cache_state.py, cache_total.py and planning.py
# go by this, logs are `run-NNN-<stage>.log` and the UI's label is `training.stage.<stage>`.
STAGE_CACHES: dict[str, str | None] = {"cache_latents": "media", "cache_pixels": "media",
                                        "cache_text_encoder": "text", "train": None}
STAGES = tuple(STAGE_CACHES)
DATASET_TYPES = ("image", "video", "image_control")
PRESETS = ("high", "medium", "low")
# What is trained (the `network_type` field): LoRA with the type's own module, or LyCORIS' LoHa / LoKr with
# musubi's architecture-detecting modules (docs/loha_lokr.md, networks/network_arch.py detect_arch_config).
NETWORK_TYPES = ("lora", "loha", "lokr")
LYCORIS_MODULES = {"loha": "networks.loha", "lokr": "networks.lokr"}

# Prompt-file options (`--w` ...) by the name the task config uses for them.
PROMPT_OPTIONS = {
    "width": "--w", "height": "--h", "frames": "--f", "seed": "--d", "steps": "--s", "guidance": "--g",
    "flow_shift": "--fs", "cfg_scale": "--l", "negative": "--n", "image": "--i", "end_image": "--ei",
    "control_images": "--ci", "one_frame": "--of",
}


@dataclass(frozen=True)
class Stage:
    """One step of a run: a musubi script, and arguments it always gets (model files, fp8 and variant arguments
    are added by the command builder from `ModelFile.flags`, `text_encoder_fp8_flag` and `Variant.args`)."""

    name: str                      # a key of STAGE_CACHES
    script: str
    args: tuple[str, ...] = ()

    @property
    def cache(self) -> str | None:
        return STAGE_CACHES[self.name]


def _stages(cache_latents: str, cache_text_encoder: str, train: str) -> tuple[Stage, ...]:
    """The usual run: cache latents, cache text-encoder outputs, train."""
    return (Stage("cache_latents", cache_latents), Stage("cache_text_encoder", cache_text_encoder), Stage("train", train))


def cache_kind(stage_name: str) -> str | None:
    """What a stage of a stored run caches (None: training, or a name this version does not know)."""
    return STAGE_CACHES.get(stage_name)


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
    # Formats musubi's loader reads besides .safetensors, as its docs publish them: Wan-AI's `.pth`
    # T5/CLIP/VAE, HunyuanVideo's `.pt` DiT and VAE (docs/wan.md, docs/hunyuan_video.md).
    pickle_suffixes: tuple[str, ...] = ()
    # A Hugging Face model folder is accepted (HunyuanVideo's text_encoder / text_encoder_2).
    folder_ok: bool = False
    # musubi refuses this file together with --blocks_to_swap (Krea 2's --turbo_dit swaps weights in place).
    excludes_block_swap: bool = False
    # Header facts musubi's loader insists on (server/models/checks.py reports a file without them as an error):
    # safetensors metadata it compares (Ideogram 4's validate_local_safetensors: model_type "ideogram4_cond"), and
    # a fragment some tensor name must contain (HiDream-O1's strict load into Qwen3-VL: "language_model.layers.").
    metadata: tuple[tuple[str, str], ...] = ()
    key_fragment: str | None = None
    # The documented file to choose instead, for those messages.
    documented: str | None = None

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
                "pickle_suffixes": list(self.pickle_suffixes), "folder_ok": self.folder_ok,
                "documented": self.documented,
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
    # Latent frames a training step sees whatever the clip length: FramePack trains one section of
    # latent_window_size (9) frames at a time (docs/framepack.md). None: from the dataset's target_frames.
    latent_frames: int | None = None


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
    # Sample defaults of this variant over the type's (FLUX.2 klein distilled: guidance 1, 4 steps).
    sample_defaults: dict[str, Any] = field(default_factory=dict)
    # Dataset settings of this variant over the type's (Wan FLF2V one-frame: two control indices).
    dataset_defaults: dict[str, Any] = field(default_factory=dict)
    # musubi refuses block swap with a dataset batch size above 1 (HiDream-O1 i2i runs one decoder pass per sample).
    swap_needs_batch_one: bool = False

    @property
    def label_key(self) -> str:
        return f"training.variants.{self.key}"


@dataclass(frozen=True)
class TaskType:
    id: str
    stages: tuple[Stage, ...]            # in run order; the last one trains
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
    # The prompt option musubi's sampler takes the guidance from: `guidance` (--g, embedded guidance:
    # Kontext, FLUX.2, HunyuanVideo) or `cfg_scale` (--l: Qwen-Image, Wan, Z-Image read CFG from it and
    # ignore --g; see each *_train_network.py do_inference). The task-wide samples.guidance is written as it.
    guidance_option: str = "guidance"
    # The text-encoder cache also encodes the control images (Qwen-Image-Edit's VL encoder sees them),
    # so a changed control image makes that item's text-encoder cache stale.
    text_encoder_reads_control: bool = False
    # Tensors musubi reads the DiT's dtype from before training (wan/modules/model.py
    # detect_wan_sd_dtype): an fp16 DiT needs --mixed_precision fp16, an fp8 one cannot take --fp8_scaled.
    dit_dtype_keys: tuple[str, ...] = ()
    # Above this many swapped blocks main-memory use climbs steeply (docs/qwen_image.md: 45).
    swap_ram_warning_above: int | None = None
    # Checks of model files by role (server/models/checks.py): "no_fp8_dit" = musubi cannot train on a
    # pre-quantized fp8 DiT (docs/qwen_image.md); "qwen_vae" = the VAE must be Qwen-Image's layout;
    # "fp8_dit_documented" = an fp8 DiT is a documented choice with --fp8_base (docs/hunyuan_video.md).
    model_checks: tuple[str, ...] = ()
    # Network types musubi can train for this architecture: LoHa/LoKr only where networks/network_arch.py
    # detects the DiT (docs/loha_lokr.md lists them; Kandinsky 5 is excluded there by name).
    network_types: tuple[str, ...] = NETWORK_TYPES
    # musubi's own ComfyUI converter for this type's LoRAs (`<src> <dst>`, `--reverse` back), where
    # convert_lora.py's generic key rename is not enough (HunyuanVideo 1.5 splits its fused qkv layers,
    # docs/hunyuan_video_1_5.md); it handles LoRA weights only. None: convert_lora.py --target other|default.
    comfy_converter: str | None = None
    # Whether musubi converts this type's LoRAs to ComfyUI's format at all. convert_lora.py's generic rename turns
    # every '_' of a module name into '.' and repairs only the names it knows: HiDream-O1's Qwen3-VL modules
    # (language_model, q_proj, up_proj ...) come out broken, so the app offers no conversion for it.
    comfy_conversion: bool = True
    # Keys of the dataset.toml [[datasets]] entry the type always needs (Qwen-Image-Layered: multiple_target).
    dataset_options: dict[str, Any] = field(default_factory=dict)
    # --fp8_base only together with --fp8_scaled (Krea 2: plain fp8 casts the norms and breaks the model).
    fp8_needs_scaled: bool = False
    # At most this many control images per sample prompt (Qwen-Image-Layered: exactly the one image to split,
    # qwen_image_train_network.py asserts it). None: any number.
    prompt_control_images_max: int | None = None
    # musubi's BucketSelector step for the architecture (dataset/bucket.py RESOLUTION_STEPS_*): bucket sides
    # are multiples of it. 16 for every type here (VAE f8 x patch 2).
    bucket_step: int = 16
    # Control images per target the architecture takes; None: any number (Qwen-Image-Edit-2509/2511).
    # FLUX.1 Kontext raises "requires exactly one control content per item" (flux_kontext_cache_latents.py).
    max_controls: int | None = None
    # Frame rate musubi resamples videos to when `source_fps` is set (VideoDataset.TARGET_FPS_*).
    video_fps: float | None = None
    # Attention backends with which block swap needs a dataset batch size of 1 (HiDream-O1's --flash_attn path).
    swap_batch_one_attention: tuple[str, ...] = ()
    # Attention backends with which a dataset batch above 1 needs --split_attn, which the command then gets. FramePack's
    # packed DiT batches unequal text lengths only through flash/sage varlen kernels or split attention: with --sdpa
    # and a batch of 2 it raises "batch_size > 1 is not supported in this configuration. Try `--split_attn`" at the
    # first step, after both caches (frame_pack/hunyuan_video_packed.py attn_varlen_func; docs/framepack.md).
    batch_split_attn_attention: tuple[str, ...] = ()
    # Attention backends the type's DiT has no path for: not offered, and refused. FramePack's packed DiT knows
    # sdpa, flash, sage and xformers only: with --flash3 it quietly runs plain SDPA at batch 1 and fails at a batch
    # above 1, with --split_attn ("Unsupported attention mode") or without (frame_pack/hunyuan_video_packed.py
    # attn_varlen_func).
    unsupported_attention: tuple[str, ...] = ()

    @property
    def label_key(self) -> str:
        return f"training.types.{self.id}.label"

    @property
    def scripts(self) -> dict[str, str]:
        return {s.name: s.script for s in self.stages}

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def network_module_for(self, network_type: str = "lora") -> str:
        return self.network_module if network_type == "lora" else LYCORIS_MODULES[network_type]

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

    def sample_defaults(self, variant: str | None = None) -> dict:
        return {**self.defaults.get("samples", {}), **self.variant(variant).sample_defaults}

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


def _image_defaults(lr: float, sampling: str, shift: float, guidance: float = 4.0, **training) -> dict:
    # `guidance` is what musubi's own sampler defaults to for the type (default_guidance_scale, or the
    # cfg_scale fallback in do_inference), written as the type's guidance_option.
    return {"training": {"learning_rate": lr, "timestep_sampling": sampling, "discrete_flow_shift": shift,
                         "weighting_scheme": "none", **training},
            "dataset": {"resolution": [1024, 1024]},
            "samples": {"width": 1024, "height": 1024, "steps": 25, "guidance": guidance}}


def _video_defaults(lr: float, shift: float, guidance: float = 5.0, **training) -> dict:
    return {"training": {"learning_rate": lr, "timestep_sampling": "shift", "discrete_flow_shift": shift,
                         "weighting_scheme": "none", **training},
            "dataset": {"resolution": [832, 480], "target_frames": [1, 25, 45], "frame_extraction": "head"},
            "samples": {"width": 832, "height": 480, "frames": 45, "steps": 20, "guidance": guidance}}


def _encoder(key: str) -> ModelFile:
    """A text encoder: cached once, and on the training command only to render samples."""
    return ModelFile(key, {"cache_text_encoder": f"--{key}", "train": f"--{key}"}, train_for_sampling_only=True)


_DIT = ModelFile("dit", {"train": "--dit"})
_VAE = ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True)
# DiT + VAE + one text encoder (Qwen-Image, FLUX.2, Z-Image) or two (FLUX.1 Kontext, HunyuanVideo).
_ONE_ENCODER_MODELS = (_DIT, _VAE, _encoder("text_encoder"))
_TWO_ENCODER_MODELS = (_DIT, _VAE, _encoder("text_encoder1"), _encoder("text_encoder2"))
# HunyuanVideo as docs/hunyuan_video.md publishes it: the DiT `mp_rank_00_model_states.pt` (or an fp8
# .safetensors), the VAE `pytorch_model.pt`, the text encoders as folders or ComfyUI .safetensors files.
_HV_MODELS = (
    ModelFile("dit", {"train": "--dit"}, pickle_suffixes=(".pt",)),
    ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True,
              pickle_suffixes=(".pt",)),
    ModelFile("text_encoder1", {"cache_text_encoder": "--text_encoder1", "train": "--text_encoder1"},
              train_for_sampling_only=True, folder_ok=True),
    ModelFile("text_encoder2", {"cache_text_encoder": "--text_encoder2", "train": "--text_encoder2"},
              train_for_sampling_only=True, folder_ok=True),
)
# Prompt options of the image types whose sampler reads CFG from --l and ignores --g.
_CFG_IMAGE_PROMPTS = ("width", "height", "seed", "steps", "flow_shift", "cfg_scale", "negative")
_QWEN_STAGES = _stages("qwen_image_cache_latents", "qwen_image_cache_text_encoder_outputs", "qwen_image_train_network")
_QWEN_VRAM = VramModel(weights_bf16_gb=34.0, weights_fp8_gb=22.0, activation_gb_per_mpix=6.0,
                       overhead_gb=2.0, block_gb_fp8=0.4, published=True)
_QWEN_PRESETS = presets(medium_swap=16, low_swap=45)


def _model_version(name: str) -> dict[str, tuple[str, ...]]:
    return {"*": ("--model_version", name)}


_WAN_PTH = (".pth",)  # Wan-AI ships its T5, CLIP and VAE as .pth checkpoints
_WAN_VAE = ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True,
                     pickle_suffixes=_WAN_PTH)
_WAN_T5 = ModelFile("t5", {"cache_text_encoder": "--t5", "train": "--t5"}, train_for_sampling_only=True,
                    pickle_suffixes=_WAN_PTH)
_WAN22_MODELS = (
    ModelFile("dit", {"train": "--dit"}, experts=("both", "low")),
    ModelFile("dit_high_noise", {"train": "--dit_high_noise"}, experts=("both", "high")),
    _WAN_VAE,
    _WAN_T5,
)
_WAN21_MODELS = (
    _DIT,
    _WAN_VAE,
    _WAN_T5,
    ModelFile("clip", {"cache_latents": "--clip", "train": "--clip"}, train_for_sampling_only=True,
              variants=("i2v-14B",), pickle_suffixes=_WAN_PTH),
)
# wan/modules/model.py detect_wan_sd_dtype: the first of these tensors found gives the DiT's dtype.
_WAN_DTYPE_KEYS = ("model.diffusion_model.blocks.0.cross_attn.k.weight", "blocks.0.cross_attn.k.weight")
_WAN_STAGES = _stages("wan_cache_latents", "wan_cache_text_encoder_outputs", "wan_train_network")
_WAN14_VRAM = VramModel(weights_bf16_gb=28.0, weights_fp8_gb=14.5, activation_gb_per_mpix=2.5)
_WAN_VIDEO_PROMPTS = ("width", "height", "frames", "seed", "steps", "cfg_scale", "flow_shift", "negative", "image")
_WAN_COMMON = dict(stages=_WAN_STAGES, network_module="networks.lora_wan", dataset_types=("image", "video"),
                   max_blocks_to_swap=39, vram=_WAN14_VRAM, text_encoder_fp8_flag="--fp8_t5",
                   prompt_options=_WAN_VIDEO_PROMPTS, video=True, video_fps=16.0, guidance_option="cfg_scale",
                   dit_dtype_keys=_WAN_DTYPE_KEYS)
_QWEN_COMMON = dict(stages=_QWEN_STAGES, network_module="networks.lora_qwen_image", models=_ONE_ENCODER_MODELS,
                    max_blocks_to_swap=59, vram=_QWEN_VRAM, presets=_QWEN_PRESETS, text_encoder_fp8_flag="--fp8_vl",
                    defaults=_image_defaults(5e-5, "shift", 2.2, network_dim=16, network_alpha=16.0),
                    guidance_option="cfg_scale", swap_ram_warning_above=45, model_checks=("no_fp8_dit", "qwen_vae"))
# FLUX.2 klein distilled models sample with fixed guidance 1.0 and 4 steps (flux_2/flux2_utils.py
# FLUX2_MODEL_INFO defaults + fixed_params); the base models with 4.0 and 50.
_KLEIN_DISTILLED = {"guidance": 1.0, "steps": 4}
_KLEIN_BASE = {"guidance": 4.0, "steps": 50}


# FramePack (docs/framepack.md): the HunyuanVideo-based I2V DiT, HunyuanVideo's VAE and text encoders and a
# SigLIP image encoder. Each may be the single .safetensors file or the Hugging Face snapshot folder of a local
# FramePack install, as the doc lists them; the image encoder is needed to cache latents and to sample.
_FPACK_STAGES = _stages("fpack_cache_latents", "fpack_cache_text_encoder_outputs", "fpack_train_network")
_FPACK_MODELS = (
    ModelFile("dit", {"train": "--dit"}, folder_ok=True),
    ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True, folder_ok=True),
    ModelFile("text_encoder1", {"cache_text_encoder": "--text_encoder1", "train": "--text_encoder1"},
              train_for_sampling_only=True, folder_ok=True),
    ModelFile("text_encoder2", {"cache_text_encoder": "--text_encoder2", "train": "--text_encoder2"},
              train_for_sampling_only=True, folder_ok=True),
    ModelFile("image_encoder", {"cache_latents": "--image_encoder", "train": "--image_encoder"},
              train_for_sampling_only=True, folder_ok=True),
)
# A 13B DiT (FramePackI2V_HY_bf16.safetensors is 25.7 GB). A training step sees one section: the 9-frame latent
# window plus its clean latents, whatever the clip length. Activations are set so that fp8 without swap comes to
# the doc's "640x640 ... around 17GB" (its settings are not given: an estimate, not published figures).
_FPACK_VRAM = VramModel(weights_bf16_gb=25.7, weights_fp8_gb=13.5, activation_gb_per_mpix=0.35, latent_frames=10)
_FPACK_COMMON = dict(stages=_FPACK_STAGES, network_module="networks.lora_framepack", models=_FPACK_MODELS,
                     max_blocks_to_swap=36, vram=_FPACK_VRAM, presets=presets(medium_swap=0, low_swap=20),
                     text_encoder_fp8_flag="--fp8_llm", video=True, video_fps=30.0,
                     batch_split_attn_attention=("sdpa",), unsupported_attention=("flash3",))
# The sampler's embedded guidance is 10.0 (fpack_train_network.py default_guidance_scale); --l is real CFG,
# which the doc advises to leave at 1.0 for the base model.
_FPACK_PROMPTS = ("width", "height", "frames", "seed", "steps", "guidance", "flow_shift", "negative", "image")
# One-frame training (docs/framepack_1f.md, docs/dataset_config.md): an image dataset of targets with their
# start images as control images; the start image is the index-0 clean latent and the target frame index 9.
_FPACK_1F_DATASET = {"resolution": [640, 640], "fp_1f_clean_indices": [0], "fp_1f_target_index": 9,
                     "fp_1f_no_post": False}
_ONE_FRAME_FIELDS = ("fp_1f_clean_indices", "fp_1f_target_index", "fp_1f_no_post")
_ONE_FRAME_PROMPTS = ("width", "height", "frames", "seed", "steps", "flow_shift", "negative", "image",
                      "control_images", "one_frame")
# Wan 2.1 one-frame training (docs/wan_1f.md): the I2V 14B model from a start image, or FLF2V 14B for an
# intermediate frame between a start and an end image (control indices 0 and 2, target 1 as the doc advises).
_WAN_1F_MODELS = (
    _DIT, _WAN_VAE, _WAN_T5,
    ModelFile("clip", {"cache_latents": "--clip", "train": "--clip"}, train_for_sampling_only=True,
              pickle_suffixes=_WAN_PTH),
)

# HunyuanVideo 1.5 (docs/hunyuan_video_1_5.md): an 8.3B DiT, its VAE, Qwen2.5-VL and ByT5 text encoders, and for
# I2V the SigLIP image encoder (cached with the latents; on the training command only to render samples).
_HV15_MODELS = (
    _DIT, _VAE, _encoder("text_encoder"),
    ModelFile("byt5", {"cache_text_encoder": "--byt5", "train": "--byt5"}, train_for_sampling_only=True),
    ModelFile("image_encoder", {"cache_latents": "--image_encoder", "train": "--image_encoder"},
              train_for_sampling_only=True, variants=("i2v",)),
)
# hunyuan_video_1_5_models.py detect_hunyuan_video_1_5_sd_dtype: tencent's key, then ComfyUI's repackaged one.
_HV15_DTYPE_KEYS = ("double_blocks.0.img_attn_k.weight", "double_blocks.0.img_attn_qkv.weight")

# Kandinsky 5 (docs/kandinsky5.md): --task picks the architecture (kandinsky5/configs.py TASK_CONFIGS), --dit the
# weights. The VAE is HunyuanVideo's (.safetensors or pytorch_model.pt) and goes on every training command: without
# it the trainer falls back to the task config's ./weights path. The text encoders are Hugging Face model folders
# (Qwen2.5-VL-7B-Instruct, openai/clip-vit-large-patch14).
_K5_MODELS = (
    _DIT,
    ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, pickle_suffixes=(".pt",)),
    ModelFile("text_encoder_qwen", {"cache_text_encoder": "--text_encoder_qwen", "train": "--text_encoder_qwen"},
              train_for_sampling_only=True, folder_ok=True),
    ModelFile("text_encoder_clip", {"cache_text_encoder": "--text_encoder_clip", "train": "--text_encoder_clip"},
              train_for_sampling_only=True, folder_ok=True),
)
# Pro: 19B, 60 visual blocks; Lite: 2B, 32. kandinsky5/models/dit.py swaps at most num_visual_blocks - 2. Not
# published: activations scaled from HunyuanVideo's by model width (same VAE and patching).
_K5_PRO_VRAM = VramModel(weights_bf16_gb=38.0, weights_fp8_gb=19.5, activation_gb_per_mpix=3.3)
_K5_LITE_VRAM = VramModel(weights_bf16_gb=4.0, weights_fp8_gb=2.2, activation_gb_per_mpix=1.0, overhead_gb=1.5)


# The task configs' sampling and geometry, by kind (kandinsky5/configs.py; kandinsky5_train_network.py sample_images):
# HD tasks sample within 1024x1024 in multiples of 128 (SD: 512x768, multiples of 16), so they train and sample at
# 1024x1024; distilled tasks sample in 16 steps without CFG (guidance_weight 1.0), no-CFG ones in 50 without CFG.
_K5_HD = dict(dataset_defaults={"resolution": [1024, 1024]}, sample_defaults={"width": 1024, "height": 1024})
_K5_SAMPLES = {"distil": {"steps": 16, "guidance": 1.0}, "nocfg": {"guidance": 1.0}}


def _k5(task: str, lite: bool = False, i2v: bool = False, nabla: bool = False) -> Variant:
    """One task of TASK_CONFIGS (--task). `nabla`: the task's attention is NABLA, whose masks need latent sides in
    multiples of 16 (kandinsky5_train_network.py _build_sparse_params raises otherwise); the latent cache's
    --nabla_resize scales every item up to multiples of 128 pixels for it, as docs/kandinsky5.md advises."""
    extra = dict(max_blocks_to_swap=30, vram=_K5_LITE_VRAM, presets=presets(0, 16)) if lite else {}
    if i2v:  # the latent cache always holds the first and last frames for I2V; no cache flag (docs/kandinsky5.md)
        extra |= dict(dataset_types=("video",), required_prompt_options=("image",))
    if task.endswith("-hd"):
        extra |= _K5_HD
    kind = next((k for k in _K5_SAMPLES if f"-{k}-" in task), None)
    if kind:
        extra["sample_defaults"] = _K5_SAMPLES[kind]
    args = {"train": ("--task", task), **({"cache_latents": ("--nabla_resize",)} if nabla else {})}
    return Variant(task, args=args, **extra)


# Every video task of TASK_CONFIGS. Not the two image tasks (k5-lite-t2i-hd, k5-lite-i2i-hd): they need the FLUX VAE,
# and kandinsky5_cache_latents.py always encodes with HunyuanVideo's (the doc: Image Lite models are not supported).
_K5_VARIANTS = (
    _k5("k5-pro-t2v-5s-sd"), _k5("k5-pro-t2v-10s-sd", nabla=True), _k5("k5-pro-i2v-5s-sd", i2v=True),
    _k5("k5-lite-t2v-5s-sd", lite=True), _k5("k5-lite-i2v-5s-sd", lite=True, i2v=True),
    _k5("k5-pro-t2v-5s-hd", nabla=True), _k5("k5-pro-t2v-10s-hd", nabla=True),
    _k5("k5-pro-i2v-5s-hd", i2v=True, nabla=True),
    _k5("k5-lite-t2v-10s-sd", lite=True, nabla=True),
    _k5("k5-lite-t2v-5s-distil-sd", lite=True), _k5("k5-lite-t2v-10s-distil-sd", lite=True, nabla=True),
    _k5("k5-lite-t2v-5s-nocfg-sd", lite=True), _k5("k5-lite-t2v-10s-nocfg-sd", lite=True, nabla=True),
    _k5("k5-lite-t2v-5s-pretrain-sd", lite=True), _k5("k5-lite-t2v-10s-pretrain-sd", lite=True, nabla=True),
)

# Krea 2 (docs/krea2.md): train on the RAW DiT; the distilled Turbo DiT is optional, only to render samples
# (`--turbo_dit`, which musubi refuses with block swap). The VAE is Qwen-Image's and the text encoder a single
# Qwen3-VL-4B .safetensors file.
_KREA2_MODELS = (
    _DIT,
    ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}),
    _encoder("text_encoder"),
    ModelFile("turbo_dit", {"train": "--turbo_dit"}, required=False, train_for_sampling_only=True,
              excludes_block_swap=True),
)

# HiDream-O1 (docs/hidream_o1.md): one Qwen3-VL based model is text encoder and denoiser at once, so the only file is
# the DiT (Comfy-Org's single checkpoint hidream_o1_image[_dev]_bf16.safetensors, or a model folder); tokenizer,
# processor and config come from the hub by --model_type. No VAE: images are cached as 32x32 pixel patch tokens, so
# the run starts with `cache_pixels`. --task must match the dataset (t2i: images; i2i: images with control images,
# musubi raises otherwise), hence one variant per model type and task; the noise settings are the doc's per type.
_HIDREAM_MODELS = (ModelFile("dit", {"train": "--dit"}, folder_ok=True, key_fragment="language_model.layers.",
                             documented="hidream_o1_image_bf16.safetensors"),)
_HIDREAM_NOISE = {"full": ("--noise_scale_start", "8.0", "--noise_scale_end", "8.0", "--noise_clip_std", "0.0"),
                  "dev": ("--noise_scale_start", "7.5", "--noise_scale_end", "7.5", "--noise_clip_std", "2.5")}


def _hidream(model_type: str, task: str) -> Variant:
    i2i = task == "i2i"
    # --skip_t2i_visual_dummy: the doc's advice for single-process t2i (the skipped pass only serves FSDP).
    train = ("--model_type", model_type, "--task", task, *_HIDREAM_NOISE[model_type],
             *(() if i2i else ("--skip_t2i_visual_dummy",)))
    return Variant(f"{model_type}-{task}", args={"cache_text_encoder": ("--model_type", model_type), "train": train},
                   dataset_types=("image_control",) if i2i else ("image",),
                   required_prompt_options=("control_images",) if i2i else (), swap_needs_batch_one=i2i,
                   # dev samples on its own schedule: 28 steps, no CFG, shift 1 (hidream_o1_utils.select_inference_schedule).
                   sample_defaults={"steps": 28} if model_type == "dev" else {})


# Ideogram 4 (docs/ideogram4.md): Comfy-Org's component files. The DiT exists only pre-quantized and stays fp8 as the
# frozen base whatever the options (no --fp8_scaled; --fp8_base changes nothing), so the presets differ by block swap
# only. The loader checks the safetensors metadata model_type: the conditional DiT is the one to train. The VAE is
# FLUX.2's, the text encoder Qwen3-VL-8B (fp8 file); both only cache and render samples.
_IDEOGRAM4_MODELS = (
    ModelFile("dit", {"train": "--dit"}, metadata=(("model_type", "ideogram4_cond"),),
              documented="diffusion_models/ideogram4_fp8_scaled.safetensors"),
    ModelFile("vae", {"cache_latents": "--vae", "train": "--vae"}, train_for_sampling_only=True),
    _encoder("text_encoder"),
)
# 34 blocks of width 4608 (ideogram4_model.py Ideogram4Config): about 9.2B parameters, 9.3 GB in fp8. Not published.
_IDEOGRAM4_VRAM = VramModel(weights_bf16_gb=9.3, weights_fp8_gb=9.3, activation_gb_per_mpix=4.0, block_gb_fp8=0.27)


def _block_swap_presets(medium_swap: int, low_swap: int) -> dict[str, dict]:
    """Presets for a DiT that is fp8 already: the fp8 options stay off, block swap saves the memory."""
    return {name: {**values, "fp8_base": False, "fp8_scaled": False}
            for name, values in presets(medium_swap, low_swap).items()}


TASK_TYPES: dict[str, TaskType] = {t.id: t for t in (
    TaskType(
        id="qwen-image-lora", variants=(Variant("original", args=_model_version("original")),),
        dataset_types=("image",), prompt_options=_CFG_IMAGE_PROMPTS, **_QWEN_COMMON,
    ),
    TaskType(
        id="qwen-image-edit-lora",
        variants=tuple(Variant(v, args=_model_version(v)) for v in ("edit-2511", "edit-2509", "edit")),
        dataset_types=("image_control",), prompt_options=(*_CFG_IMAGE_PROMPTS, "control_images"),
        required_prompt_options=("control_images",), text_encoder_reads_control=True, **_QWEN_COMMON,
    ),
    TaskType(
        # docs/qwen_image.md: --model_version layered, the RGBA Layered VAE, and an image dataset where each
        # captioned image (name.png) has its layer images (name_1.png, name_2.png ...) beside it, read with
        # multiple_target = true. Samples: --ci is the image to split, --f the number of layers.
        id="qwen-image-layered-lora", variants=(Variant("layered", args=_model_version("layered")),),
        dataset_types=("image",), dataset_options={"multiple_target": True},
        prompt_options=(*_CFG_IMAGE_PROMPTS, "frames", "control_images"), required_prompt_options=("control_images",),
        extra_fields=("remove_first_image_from_target",), prompt_control_images_max=1,
        **{**_QWEN_COMMON, "model_checks": ("no_fp8_dit", "qwen_layered_vae"),
           # A sample is the image and its layers: about five images' activations for four layers (an estimate).
           "vram": VramModel(weights_bf16_gb=34.0, weights_fp8_gb=22.0, activation_gb_per_mpix=30.0,
                             overhead_gb=2.0, block_gb_fp8=0.4),
           "defaults": {**_image_defaults(5e-5, "shift", 2.2, network_dim=16, network_alpha=16.0),
                        "dataset": {"resolution": [640, 640]},
                        "samples": {"width": 640, "height": 640, "steps": 25, "guidance": 4.0, "frames": 4}}},
    ),
    TaskType(
        id="kontext-lora",
        stages=_stages("flux_kontext_cache_latents", "flux_kontext_cache_text_encoder_outputs", "flux_kontext_train_network"),
        network_module="networks.lora_flux",
        models=_TWO_ENCODER_MODELS,
        # musubi v0.3.4 has --fp8_t5 for Kontext but crashes on it: `torch.float8e4m3fn` (no underscore) in
        # flux_kontext_cache_text_encoder_outputs.py and flux_kontext_train_network.py. Not offered.
        variants=(Variant("dev"),), dataset_types=("image_control",), max_blocks_to_swap=34,
        vram=VramModel(weights_bf16_gb=24.0, weights_fp8_gb=12.5, activation_gb_per_mpix=4.0),
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag=None,
        # Sampling: embedded guidance 2.5 (flux_kontext_train_network.py default_guidance_scale).
        defaults=_image_defaults(1e-4, "flux_shift", 1.0, guidance=2.5, guidance_scale=1.0),
        prompt_options=("width", "height", "seed", "steps", "guidance", "negative", "control_images"),
        required_prompt_options=("control_images",), max_controls=1,
    ),
    TaskType(
        id="wan2.2-lora", models=_WAN22_MODELS,
        variants=(
            # CFG defaults: the low-noise sample_guide_scale of wan/configs/wan_{t2v,i2v}_A14B.py, which
            # musubi's sampler falls back to.
            Variant("t2v-A14B", args={"train": ("--task", "t2v-A14B")}, timestep_boundary=875,
                    sample_defaults={"guidance": 3.0}),
            Variant("i2v-A14B", args={"train": ("--task", "i2v-A14B"), "cache_latents": ("--i2v",)},
                    dataset_types=("video",), timestep_boundary=900, required_prompt_options=("image",),
                    sample_defaults={"guidance": 3.5}),
        ),
        # With both experts musubi swaps the same number of blocks out of each (vram.py); these are the
        # swaps that bring the default 832x480x45 video under 24 GB (medium) and 16 GB (low).
        presets=presets(medium_swap=28, low_swap=39),
        defaults=_video_defaults(2e-4, 12.0), extra_fields=("experts", "offload_inactive_dit"), **_WAN_COMMON,
    ),
    TaskType(
        id="wan2.1-lora", models=_WAN21_MODELS,
        variants=(
            Variant("t2v-14B", args={"train": ("--task", "t2v-14B")}),
            Variant("t2v-1.3B", args={"train": ("--task", "t2v-1.3B")}, max_blocks_to_swap=29,
                    vram=VramModel(weights_bf16_gb=2.8, weights_fp8_gb=1.5, activation_gb_per_mpix=1.2,
                                   overhead_gb=1.5),
                    presets=presets(medium_swap=0, low_swap=15)),
            Variant("i2v-14B", args={"train": ("--task", "i2v-14B"), "cache_latents": ("--i2v",)},
                    dataset_types=("video",), required_prompt_options=("image",)),
        ),
        presets=presets(medium_swap=10, low_swap=30), defaults=_video_defaults(2e-4, 3.0), **_WAN_COMMON,
    ),
    TaskType(
        id="flux2-lora",
        stages=_stages("flux_2_cache_latents", "flux_2_cache_text_encoder_outputs", "flux_2_train_network"),
        network_module="networks.lora_flux_2",
        models=_ONE_ENCODER_MODELS,
        variants=(
            Variant("dev", args=_model_version("dev"), text_encoder_fp8=False),
            Variant("klein-4b", args=_model_version("klein-4b"), max_blocks_to_swap=13,
                    vram=VramModel(8.0, 4.2, 2.5), presets=presets(0, 10), sample_defaults=_KLEIN_DISTILLED),
            Variant("klein-base-4b", args=_model_version("klein-base-4b"), max_blocks_to_swap=13,
                    vram=VramModel(8.0, 4.2, 2.5), presets=presets(0, 10), sample_defaults=_KLEIN_BASE),
            Variant("klein-9b", args=_model_version("klein-9b"), max_blocks_to_swap=16,
                    vram=VramModel(18.0, 9.5, 3.0), presets=presets(4, 12), sample_defaults=_KLEIN_DISTILLED),
            Variant("klein-base-9b", args=_model_version("klein-base-9b"), max_blocks_to_swap=16,
                    vram=VramModel(18.0, 9.5, 3.0), presets=presets(4, 12), sample_defaults=_KLEIN_BASE),
        ),
        dataset_types=("image",), max_blocks_to_swap=29,
        vram=VramModel(weights_bf16_gb=64.0, weights_fp8_gb=33.0, activation_gb_per_mpix=6.0),
        presets=presets(medium_swap=16, low_swap=27), text_encoder_fp8_flag="--fp8_text_encoder",
        # FLUX.2 samples with --g for both the distilled (embedded guidance) and the base models (CFG).
        defaults=_image_defaults(1e-4, "flux2_shift", 1.0),
        prompt_options=("width", "height", "seed", "steps", "guidance", "flow_shift", "negative"),
    ),
    TaskType(
        id="zimage-lora",
        stages=_stages("zimage_cache_latents", "zimage_cache_text_encoder_outputs", "zimage_train_network"),
        network_module="networks.lora_zimage",
        models=_ONE_ENCODER_MODELS,
        variants=(Variant("base"),), dataset_types=("image",), max_blocks_to_swap=28,
        vram=VramModel(weights_bf16_gb=12.0, weights_fp8_gb=6.5, activation_gb_per_mpix=3.0),
        presets=presets(medium_swap=0, low_swap=20), text_encoder_fp8_flag="--fp8_llm",
        defaults=_image_defaults(1e-4, "shift", 2.0), prompt_options=_CFG_IMAGE_PROMPTS, guidance_option="cfg_scale",
    ),
    TaskType(
        id="hunyuan-video-lora",
        stages=_stages("cache_latents", "cache_text_encoder_outputs", "hv_train_network"),
        network_module="networks.lora",
        models=_HV_MODELS,
        variants=(Variant("t2v"),), dataset_types=("image", "video"), max_blocks_to_swap=36,
        vram=VramModel(weights_bf16_gb=26.0, weights_fp8_gb=13.5, activation_gb_per_mpix=2.5),
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_llm", fp8_scaled=False,
        model_checks=("fp8_dit_documented",),
        # Embedded guidance 6.0 (hv_train_network.py default_guidance_scale).
        defaults=_video_defaults(2e-4, 7.0, guidance=6.0),
        prompt_options=("width", "height", "frames", "seed", "steps", "guidance", "flow_shift", "negative"),
        video=True, video_fps=24.0,
    ),
    TaskType(
        id="hunyuan-video-1.5-lora",
        stages=_stages("hv_1_5_cache_latents", "hv_1_5_cache_text_encoder_outputs", "hv_1_5_train_network"),
        network_module="networks.lora_hv_1_5",
        models=_HV15_MODELS,
        variants=(
            Variant("t2v", args={"train": ("--task", "t2v")}),
            Variant("i2v", args={"train": ("--task", "i2v"), "cache_latents": ("--i2v",)}, dataset_types=("video",),
                    required_prompt_options=("image",)),
        ),
        dataset_types=("image", "video"), max_blocks_to_swap=51,
        # 8.3B parameters; not published (an estimate like HunyuanVideo's, with the same tokens per megapixel:
        # a 16x VAE without patching against 8x with 2x2 patches).
        vram=VramModel(weights_bf16_gb=16.6, weights_fp8_gb=8.8, activation_gb_per_mpix=2.0),
        presets=presets(medium_swap=10, low_swap=30), text_encoder_fp8_flag="--fp8_vl",
        # The doc's starting point: shift 2.0, lr 1e-4; the sampler's CFG (--l) defaults to 6.0
        # (hv_1_5_train_network.py default_guidance_scale, read as cfg_scale).
        defaults=_video_defaults(1e-4, 2.0, guidance=6.0),
        prompt_options=("width", "height", "frames", "seed", "steps", "cfg_scale", "flow_shift", "negative", "image"),
        guidance_option="cfg_scale", video=True, video_fps=24.0, dit_dtype_keys=_HV15_DTYPE_KEYS,
        model_checks=("fp16_dit_repackaged",),
        comfy_converter="networks/convert_hunyuan_video_1_5_lora_to_comfy",
    ),
    TaskType(
        id="kandinsky5-lora",
        stages=_stages("kandinsky5_cache_latents", "kandinsky5_cache_text_encoder_outputs", "kandinsky5_train_network"),
        network_module="networks.lora_kandinsky",
        models=_K5_MODELS,
        variants=_K5_VARIANTS,
        dataset_types=("image", "video"), max_blocks_to_swap=58, vram=_K5_PRO_VRAM,
        presets=presets(medium_swap=30, low_swap=50),
        # --quantized_qwen exists for the cache script only; the trainer's sampler has no fp8 text encoder.
        text_encoder_fp8_flag=None,
        # docs/kandinsky5.md's training command.
        defaults={"training": {"learning_rate": 1e-4, "timestep_sampling": "shift", "discrete_flow_shift": 5.0,
                               "weighting_scheme": "none", "network_alpha": 32.0, "max_grad_norm": 1.0,
                               "lr_scheduler": "constant_with_warmup", "lr_warmup_steps": 100,
                               "optimizer_args": ["weight_decay=0.001", "betas=(0.9,0.95)"]},
                  "dataset": {"resolution": [768, 512], "target_frames": [1, 25, 45], "frame_extraction": "head"},
                  # The sampler reads --f as latent frames (kandinsky5_train_network.py sample_images: the noise
                  # shape's time axis) and the task config's guidance_weight 5.0 through --g.
                  "samples": {"width": 768, "height": 512, "frames": 5, "steps": 25, "guidance": 5.0}},
        prompt_options=("width", "height", "frames", "seed", "steps", "guidance", "negative", "image"),
        video=True, video_fps=24.0,  # VideoDataset: Kandinsky 5 resamples to HunyuanVideo's 24 fps
        # docs/loha_lokr.md: "Kandinsky5 is not supported with LoHa/LoKr".
        network_types=("lora",),
    ),
    TaskType(
        id="krea2-lora",
        stages=_stages("krea2_cache_latents", "krea2_cache_text_encoder_outputs", "krea2_train_network"),
        network_module="networks.lora_krea2",
        models=_KREA2_MODELS,
        variants=(Variant("raw"),), dataset_types=("image",),
        # 28 main blocks of width 6144 (krea2_utils.py), about 12B parameters; swap at most 26. An estimate.
        max_blocks_to_swap=26, vram=VramModel(weights_bf16_gb=24.0, weights_fp8_gb=12.5, activation_gb_per_mpix=5.5),
        presets=presets(medium_swap=0, low_swap=14), text_encoder_fp8_flag=None, fp8_needs_scaled=True,
        # The doc's command: shift 2.5 (K2's inference shift at 1024x1024), lr 1e-4, dim/alpha 32; RAW samples use
        # CFG through --l (5.5, 28 steps as its inference example; with a Turbo DiT use --l 1 --s 8).
        defaults=_image_defaults(1e-4, "shift", 2.5, guidance=5.5, network_dim=32, network_alpha=32.0)
        | {"samples": {"width": 1024, "height": 1024, "steps": 28, "guidance": 5.5}},
        prompt_options=_CFG_IMAGE_PROMPTS, guidance_option="cfg_scale",
        # networks/network_arch.py cannot detect Krea 2's blocks: LoRA only.
        network_types=("lora",), model_checks=("qwen_vae",),
    ),
    TaskType(
        id="framepack-lora",
        variants=(
            Variant("original"),
            # FramePack-F1 (forward sampling): training is the same, only the cache's sections and the samples
            # change, so both stages take --f1 (and the cache must be rebuilt when it changes).
            Variant("f1", args={"cache_latents": ("--f1",), "train": ("--f1",)}),
        ),
        # "The dataset for training must be a video dataset" (docs/framepack.md): whole clips, in sections.
        dataset_types=("video",),
        defaults={"training": {"learning_rate": 2e-4, "timestep_sampling": "shift", "discrete_flow_shift": 3.0,
                               "weighting_scheme": "none"},
                  "dataset": {"resolution": [640, 640], "frame_extraction": "full", "max_frames": 129},
                  # 37 frames = one 9-latent section, the shortest sample the sampler renders.
                  "samples": {"width": 640, "height": 640, "frames": 37, "steps": 25, "guidance": 10.0}},
        prompt_options=_FPACK_PROMPTS, required_prompt_options=("image",), **_FPACK_COMMON,
    ),
    TaskType(
        id="framepack-1f-lora",
        variants=(Variant("original", args={"cache_latents": ("--one_frame",), "train": ("--one_frame",)}),),
        dataset_types=("image_control",),
        defaults={"training": {"learning_rate": 2e-4, "timestep_sampling": "shift", "discrete_flow_shift": 3.0,
                               "weighting_scheme": "none"},
                  "dataset": _FPACK_1F_DATASET,
                  # The doc's sample line: --f 1 --s 10 --fs 7 with the start image as --i and as --ci.
                  "samples": {"width": 640, "height": 640, "frames": 1, "steps": 10, "guidance": 10.0,
                              "one_frame": "target_index=9,control_index=0"}},
        prompt_options=(*_ONE_FRAME_PROMPTS, "guidance"), required_prompt_options=("image", "control_images"),
        extra_fields=(*_ONE_FRAME_FIELDS, "one_frame_no_2x", "one_frame_no_4x"), **{**_FPACK_COMMON, "video": False},
    ),
    TaskType(
        id="wan2.1-1f-lora", models=_WAN_1F_MODELS,
        variants=(
            Variant("i2v-14B", args={"train": ("--task", "i2v-14B", "--one_frame"),
                                     "cache_latents": ("--i2v", "--one_frame")},
                    sample_defaults={"one_frame": "target_index=1,control_index=0"}),
            Variant("flf2v-14B", args={"train": ("--task", "flf2v-14B", "--one_frame"),
                                       "cache_latents": ("--i2v", "--one_frame")},
                    sample_defaults={"one_frame": "target_index=1,control_index=0;2"},
                    dataset_defaults={"fp_1f_clean_indices": [0, 2]}),
        ),
        presets=presets(medium_swap=10, low_swap=30),
        defaults={"training": {"learning_rate": 2e-4, "timestep_sampling": "shift", "discrete_flow_shift": 3.0,
                               "weighting_scheme": "none"},
                  "dataset": {"resolution": [832, 480], "fp_1f_clean_indices": [0], "fp_1f_target_index": 1,
                              "fp_1f_no_post": False},
                  "samples": {"width": 832, "height": 480, "frames": 1, "steps": 20, "guidance": 5.0}},
        extra_fields=_ONE_FRAME_FIELDS, required_prompt_options=("image", "control_images"),
        **{**_WAN_COMMON, "dataset_types": ("image_control",), "video": False,
           "prompt_options": (*_ONE_FRAME_PROMPTS, "end_image", "cfg_scale")},
    ),
    TaskType(
        id="hidream-o1-lora",
        stages=(Stage("cache_pixels", "hidream_o1_cache_pixel"),
                Stage("cache_text_encoder", "hidream_o1_cache_text_encoder_outputs"),
                Stage("train", "hidream_o1_train_network")),
        network_module="networks.lora_hidream_o1", models=_HIDREAM_MODELS,
        variants=(_hidream("full", "t2i"), _hidream("full", "i2i"), _hidream("dev", "t2i"), _hidream("dev", "i2i")),
        dataset_types=("image", "image_control"),
        # Block swap moves Qwen3VL decoder layers; musubi allows layers - 1. Qwen3-VL-8B has 36 (the config comes from
        # the hub, so this is an assumption, like the figures: about 8.8B parameters, 2048x2048 images give 4096
        # patch tokens. Estimates, not published).
        max_blocks_to_swap=35,
        vram=VramModel(weights_bf16_gb=17.6, weights_fp8_gb=9.4, activation_gb_per_mpix=1.5, block_gb_fp8=0.22),
        # fp8 only as scaled fp8 (hidream_o1_train_network.py raises on --fp8_base alone); the text cache's --fp8_te
        # needs the DiT on the cache command, which the app does not give it.
        presets=presets(medium_swap=8, low_swap=24), text_encoder_fp8_flag=None, fp8_needs_scaled=True,
        # The doc's command: uniform timesteps, no weighting (anything else is refused), lr 4e-5, dim 32 with musubi's
        # default alpha 1. Samples: 50 steps, CFG 5 through --l, shift 3 (the full model's defaults).
        defaults=_image_defaults(4e-5, "uniform", 3.0, guidance=5.0, network_dim=32, network_alpha=1.0)
        | {"samples": {"width": 1024, "height": 1024, "steps": 50, "guidance": 5.0}},
        prompt_options=("width", "height", "seed", "steps", "cfg_scale", "flow_shift", "control_images"),
        guidance_option="cfg_scale",
        # networks/network_arch.py does not detect HiDream-O1: LoRA only. Bucket sides are multiples of the 32-pixel
        # patch (dataset/bucket.py RESOLUTION_STEPS_HIDREAM_O1).
        network_types=("lora",), bucket_step=32, swap_batch_one_attention=("flash_attn",), comfy_conversion=False,
        # For i2i the text cache also holds the Qwen3-VL processor's pixel_values of the control images (the doc).
        text_encoder_reads_control=True,
    ),
    TaskType(
        id="ideogram4-lora",
        # The doc's cache commands: the VAE in bf16, the text-encoder outputs kept in bf16 (fp8_e4m3fn halves their
        # size at a cost in quality).
        stages=(Stage("cache_latents", "ideogram4_cache_latents", ("--vae_dtype", "bfloat16")),
                Stage("cache_text_encoder", "ideogram4_cache_text_encoder_outputs", ("--text_cache_dtype", "bf16")),
                Stage("train", "ideogram4_train_network")),
        network_module="networks.lora_ideogram4", models=_IDEOGRAM4_MODELS,
        variants=(Variant("ideogram4"),), dataset_types=("image",),
        max_blocks_to_swap=33, vram=_IDEOGRAM4_VRAM, presets=_block_swap_presets(medium_swap=8, low_swap=24),
        text_encoder_fp8_flag=None, fp8_scaled=False, model_checks=("fp8_dit_only",),
        # ideogram4_shift is the trainer's own default (resolution-aware logit-normal); only weighting none is allowed.
        # The doc gives no learning rate: the app's usual 1e-4. Samples use the sampler preset (V4_DEFAULT_20: its own
        # steps and guidance 7 then 3), so steps, guidance and shift are not prompt options; the negative prompt is
        # the single-DiT CFG's unconditional text.
        defaults=_image_defaults(1e-4, "ideogram4_shift", 1.0, guidance=7.0)
        | {"samples": {"width": 1024, "height": 1024}},
        prompt_options=("width", "height", "seed", "negative"),
        # networks/network_arch.py does not detect Ideogram 4: LoRA only.
        network_types=("lora",),
    ),
)}


def get(task_type: str) -> TaskType:
    try:
        return TASK_TYPES[task_type]
    except KeyError:
        raise NotFound(f"Unknown task type '{task_type}'.", code="unknown_task_type") from None
