"""Training VRAM estimate from a task type's `VramModel` and the resolved memory options.

estimate = weights (bf16 or fp8, less the swapped blocks) + activations + overhead, where
activations = per-megapixel figure x megapixels x batch x latent frames (x3 without gradient
checkpointing). Text encoders are not counted: training reads their cached outputs.

Calibrated on Qwen-Image's published figures (FACTS.md, 1024x1024, batch 1): 42 GB plain bf16,
30 GB with fp8, 24 GB with 16 blocks swapped, 12 GB with 45. Other types are derived from parameter
counts; the API says which (`published`).

The figure is per GPU, whatever the number of GPUs: a task on N GPUs runs one process per GPU (ranks.py), each
holding the whole model and its own batch; accelerate leaves the frozen DiT unwrapped and the LoRA's
DistributedDataParallel buffers are the size of the LoRA (megabytes). The UI compares it with the chosen GPU
that has the least free memory.
"""

from __future__ import annotations

from .task_types import PRESETS, TaskType

# Video VAEs compress time 4x: 81 frames are 21 latent frames.
TEMPORAL_COMPRESSION = 4


def latent_frames(frames: int) -> int:
    return (max(1, frames) - 1) // TEMPORAL_COMPRESSION + 1


def estimate_gb(ttype: TaskType, resolved: dict, dataset_type: str | None = None) -> float:
    variant = resolved.get("variant")
    model = ttype.vram_model(variant)
    t, d = resolved["training"], resolved["dataset"]
    max_swap = ttype.max_swap(variant)
    fp8 = bool(t.get("fp8_base"))
    weights = model.weights_fp8_gb if fp8 else model.weights_bf16_gb
    block_fp8 = model.block_gb_fp8 or model.weights_fp8_gb / (max_swap + 1)
    block = block_fp8 if fp8 else block_fp8 * model.weights_bf16_gb / model.weights_fp8_gb
    swapped = min(int(t.get("blocks_to_swap") or 0), max_swap) * block
    # Wan 2.2 with both experts (wan_train_network.py load_transformer): musubi loads the high-noise
    # expert with the same block swap (enable_block_swap + move_to_device_except_swap_blocks), so both
    # experts are on the GPU less their swapped blocks each. --offload_inactive_dit (only without block
    # swap) keeps the inactive expert in main memory: one expert's weights on the GPU.
    models_on_gpu = 1
    if "experts" in ttype.extra_fields and t.get("experts") == "both" and not t.get("offload_inactive_dit"):
        models_on_gpu = 2
    weights *= models_on_gpu
    swapped *= models_on_gpu
    w, h = d["resolution"]
    frames = 1
    if ttype.video and dataset_type == "video":
        frames = model.latent_frames or latent_frames(max(d.get("target_frames") or [1]))
    mpix = w * h / 1e6 * d.get("batch_size", 1) * frames
    activations = model.activation_gb_per_mpix * mpix
    if not t.get("gradient_checkpointing"):
        activations *= model.no_checkpointing_factor
    total = max(weights - swapped, block * 2 * models_on_gpu) + activations + model.overhead_gb
    return round(total, 1)


def form_dataset_type(ttype: TaskType, variant: str | None, dataset_type: str | None) -> str:
    """What the create form estimates for: the chosen dataset's type, else video where the type trains on video."""
    if dataset_type:
        return dataset_type
    return "video" if ttype.video and "video" in ttype.accepted_dataset_types(variant) else "image"


def estimates(ttype: TaskType, resolved: dict, dataset_type: str | None) -> dict:
    """The figure for these settings and, for the preset buttons, for each preset over them."""
    kind = form_dataset_type(ttype, resolved.get("variant"), dataset_type)
    presets = {}
    for name in PRESETS:
        training = {**resolved["training"], **ttype.preset(name, resolved.get("variant"))}
        presets[name] = estimate_gb(ttype, {**resolved, "training": training}, kind)
    return {"estimate_gb": estimate_gb(ttype, resolved, kind), "presets": presets, "dataset_type": kind}
