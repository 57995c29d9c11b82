"""Safetensors files built by hand: 8-byte little-endian header length, JSON header, zero bytes."""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

BITS = {"F32": 32, "F16": 16, "BF16": 16, "F8_E4M3": 8, "F8_E5M2": 8, "I64": 64, "U8": 8}


def write_st(path: Path, tensors: dict, metadata: dict | None = None, *, cut: int = 0, raw_header: bytes | None = None,
             declared_len: int | None = None) -> Path:
    """tensors: name -> (dtype, shape). `cut` drops that many bytes off the end (a partial download)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = math.ceil(math.prod(shape) * BITS[dtype] / 8)
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = raw_header if raw_header is not None else json.dumps(header).encode()
    body = struct.pack("<Q", declared_len if declared_len is not None else len(raw)) + raw + b"\0" * offset
    if cut:
        body = body[:-cut]
    path = Path(path)
    path.write_bytes(body)
    return path


def qwen_dit(path: Path, *, fp8_scaled: bool = False, fp8: bool = False) -> Path:
    dtype = "F8_E4M3" if (fp8 or fp8_scaled) else "BF16"
    tensors = {}
    for i in range(3):
        tensors[f"transformer_blocks.{i}.attn.to_q.weight"] = (dtype, [8, 8])
        tensors[f"transformer_blocks.{i}.attn.norm_q.weight"] = ("BF16" if not fp8_scaled else "F32", [8])
        if fp8_scaled:
            tensors[f"transformer_blocks.{i}.attn.to_q.scale_weight"] = ("F32", [1])
    if fp8_scaled:
        tensors["scaled_fp8"] = ("F8_E4M3", [0])
    return write_st(path, tensors, {"format": "pt"})


def qwen_vae(path: Path, *, layout: str = "diffusers", channels: int = 3) -> Path:
    if layout == "diffusers":
        tensors = {"encoder.conv_in.weight": ("F32", [96, channels, 3, 3, 3]), "encoder.conv_in.bias": ("F32", [96]),
                   "quant_conv.weight": ("F32", [32, 32, 1, 1, 1]), "post_quant_conv.bias": ("F32", [16]),
                   "decoder.conv_out.weight": ("F32", [channels, 96, 3, 3, 3])}
    elif layout == "comfyui":
        tensors = {"conv1.bias": ("F32", [32]), "conv1.weight": ("F32", [32, 32, 1, 1, 1]),
                   "encoder.conv1.weight": ("F32", [96, channels, 3, 3, 3]),
                   "encoder.downsamples.0.residual.0.gamma": ("F32", [96, 1, 1, 1]),
                   "decoder.head.2.weight": ("F32", [channels, 96, 3, 3, 3])}
    else:  # a FLUX-style 2D VAE: neither layout
        tensors = {"encoder.conv_in.bias": ("F32", [128]), "decoder.up.0.block.0.conv1.weight": ("F32", [8, 8, 3, 3])}
    return write_st(path, tensors)


def text_encoder(path: Path) -> Path:
    """A small Qwen2.5-VL-like text encoder (the model library has no role checks for it, only the file's own)."""
    return write_st(path, {"model.embed_tokens.weight": ("BF16", [16, 8]), "model.norm.weight": ("BF16", [8])})


def qwen_model_files(folder: Path) -> dict[str, str]:
    """A Qwen-Image task's three model files, small but with the headers real ones have (a start refuses
    what the model library calls broken): {"dit", "vae", "text_encoder"} -> path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {"dit": str(qwen_dit(folder / "dit.safetensors")), "vae": str(qwen_vae(folder / "vae.safetensors")),
            "text_encoder": str(text_encoder(folder / "text_encoder.safetensors"))}
