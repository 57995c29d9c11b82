"""Check one model file for the role it is meant to fill.

`check_file(path, task_type, role)` -> {"path", "status", "format", "summary", "problems"}:
status is "ok", "warning", "error" or "empty"; every problem is {code, severity, message, details} with
severity "error" (musubi-tuner cannot use the file), "warning" (it may work, probably not what the
user wants) or "info". The UI translates the message as `models.detail.<code>` (or `<code>.<kind>` where one code
has several messages: the problem's `detail_code`), filled from `details`.

Known mistakes, from musubi-tuner's own docs and loaders (v0.3.4):
- Qwen-Image / Qwen-Image-Edit DiT: "The fp8_scaled version cannot be used", "fp8_e4m3fn cannot be
  used" (docs/qwen_image.md). Detected by fp8 dtypes (F8_E4M3 / F8_E5M2) or ComfyUI's fp8_scaled
  markers: a `scaled_fp8` tensor or `*.scale_weight` tensors.
- Qwen-Image VAE: musubi builds the diffusers `AutoencoderKLQwenImage` and loads it with strict=True
  (qwen_image_utils.load_vae). Diffusers layout = `encoder.conv_in.weight` ... (the file
  `vae/diffusion_pytorch_model.safetensors` of Qwen/Qwen-Image). ComfyUI's `qwen_image_vae.safetensors`
  uses the Wan layout (`conv1.bias`, `encoder.downsamples.*`, `decoder.head.*`); musubi v0.3.4 renames
  those keys on load (`convert_comfyui_state_dict`, triggered by a top-level `conv1.bias`), so it is
  reported as a notice with what to use if the loader refuses it (older musubi checkouts load strictly).
  A file with neither layout is an error, and so is the RGBA Qwen-Image-Layered VAE (4 input channels
  on `encoder.conv_in`) which the non-layered model cannot use.
- A LoRA chosen as a base model (keys with `lora_down` / `lora_A` ...): error.
- Other DiTs stored in fp8: warning (musubi's `--fp8_base/--fp8_scaled` expect bf16/fp16 weights and
  quantize them itself).
- PyTorch checkpoints (`.pth`, `.pt`): accepted where musubi's docs publish them (`ModelFile.pickle_suffixes`):
  Wan-AI's `.pth` T5 / CLIP / VAE, HunyuanVideo's `mp_rank_00_model_states.pt` DiT and `pytorch_model.pt` VAE.
- Folders: accepted where musubi loads a Hugging Face model folder (`ModelFile.folder_ok`: HunyuanVideo's
  text_encoder / text_encoder_2, docs/hunyuan_video.md).
- HunyuanVideo's fp8 DiT (`mp_rank_00_model_states_fp8.safetensors`) is documented for `--fp8_base`: a notice.
- A DiT without any of the tensors musubi reads its dtype from (`TaskType.dit_dtype_keys`: Wan's
  detect_wan_sd_dtype, HunyuanVideo 1.5's detect_hunyuan_video_1_5_sd_dtype) is not that model: musubi raises
  "Could not find the dtype in the model weights". Error.
- Header facts a loader insists on (`ModelFile.metadata`, `ModelFile.key_fragment`): Ideogram 4 refuses a DiT whose
  safetensors metadata model_type is not "ideogram4_cond" (validate_local_safetensors; the unconditional DiT says
  "ideogram4_uncond"); HiDream-O1 loads its single checkpoint strictly into Qwen3-VL, whose tensor names all have
  "language_model.layers." or other Qwen3-VL parts. Errors ("model_metadata_mismatch", "model_wrong_keys").
- Ideogram 4's DiT exists only in fp8 (docs/ideogram4.md): no fp8 warning for it ("fp8_dit_only").
- HunyuanVideo 1.5's ComfyUI repackaged DiT is fp16 ("do not use these for bf16 training as the weights are
  converted to fp16", docs/hunyuan_video_1_5.md): a warning naming tencent's bf16 file ("fp16_dit_repackaged").
Which checks apply to which type is data (`TaskType.model_checks`), not a branch on the type's name.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..paths import user_path
from ..training import task_types as tt
from .safetensors_header import FP8_DTYPES, Header, SafetensorsError, read_header

PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
LORA_MARKERS = ("lora_down", "lora_up", "lora_A.", "lora_B.", "lora_unet_")


def _problem(code: str, severity: str, message: str, details: dict | None = None,
             detail_code: str | None = None) -> dict:
    return {"code": code, "severity": severity, "message": message, "details": details or {},
            "detail_code": detail_code or code}


def _status(problems: list[dict]) -> str:
    sev = {p["severity"] for p in problems}
    return "error" if "error" in sev else "warning" if "warning" in sev else "ok"


def _task_type(task_type: str | None) -> tt.TaskType | None:
    return tt.TASK_TYPES.get(task_type) if task_type else None


def _model_file(task_type: str | None, role: str | None) -> tt.ModelFile | None:
    ttype = _task_type(task_type)
    return next((m for m in ttype.models if m.key == role), None) if ttype and role else None


def check_file(path: str | os.PathLike | None, task_type: str | None = None, role: str | None = None) -> dict:
    out = {"path": str(path or ""), "status": "empty", "format": None, "summary": None, "problems": []}
    if not path or not str(path).strip():
        return out
    p = Path(user_path(str(path)))
    problems: list[dict] = out["problems"]
    if "\x00" in str(p):
        problems.append(_problem("bad_path", "error", "The path contains a NUL character."))
        out["status"] = "error"
        return out
    if not p.is_absolute():
        problems.append(_problem("not_absolute", "error", "Give the full path of the file (e.g. D:\\models\\x.safetensors)."))
        out["status"] = "error"
        return out
    model = _model_file(task_type, role)
    if p.is_dir() and model and model.folder_ok:
        out["format"] = "folder"
        problems.append(_problem("folder_not_inspected", "info", "A model folder, as musubi-tuner's docs use it for this "
                                 "text encoder; its contents are not checked here."))
        out["status"] = _status(problems)
        return out
    if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file():
        out["format"] = "pickle"
        out["summary"] = {"file_size": p.stat().st_size}
        if model and p.suffix.lower() in model.pickle_suffixes:
            problems.append(_problem("not_inspected", "info", "A PyTorch checkpoint in the format musubi-tuner's docs "
                                     "name for this file; musubi-tuner reads it, its contents are not checked here."))
        else:
            problems.append(_problem("needs_safetensors", "error", "musubi-tuner loads this model from a "
                                     ".safetensors file; download the .safetensors version."))
        out["status"] = _status(problems)
        return out
    try:
        header = read_header(p)
    except SafetensorsError as exc:
        problems.append(_problem(exc.code, "error", exc.message, exc.details, exc.detail_code))
        out["status"] = "error"
        return out
    out["format"] = "safetensors"
    out["summary"] = header.summary()
    if not os.access(p, os.R_OK):
        problems.append(_problem("unreadable", "error", f"{p} cannot be read by this user.", {"path": str(p)},
                                 "unreadable.access"))
    if header.tensor_count == 0:
        problems.append(_problem("no_tensors", "error", "The file holds no tensors."))
    problems.extend(role_problems(header, task_type, role))
    out["status"] = _status(problems)
    return out


def _has_scaled_fp8(header: Header) -> bool:
    return "scaled_fp8" in header.tensors or any(k.endswith("scale_weight") for k in header.tensors)


def role_problems(header: Header, task_type: str | None, role: str | None) -> list[dict]:
    keys = header.tensors
    problems = []
    if role and any(m in k for k in list(keys)[:2000] for m in LORA_MARKERS):
        problems.append(_problem("is_lora", "error", "This is a LoRA, not a base model. Choose the model file "
                                 "the LoRA was trained on."))
        return problems
    ttype = _task_type(task_type)
    checks = ttype.model_checks if ttype else ()
    is_dit = bool(role) and role.startswith("dit")
    model = _model_file(task_type, role)
    if model:
        problems.extend(_expected_header(header, model))
    if is_dit and ttype and ttype.dit_dtype_keys and not any(k in keys for k in ttype.dit_dtype_keys):
        problems.append(_problem(
            "dit_wrong_model", "error",
            f"This file has none of the tensors musubi-tuner reads a {ttype.id.removesuffix('-lora')} DiT's precision "
            f"from ({', '.join(ttype.dit_dtype_keys)}): it is not that model's DiT, and loading it fails.",
            {"model": ttype.id.removesuffix('-lora'), "keys": ", ".join(ttype.dit_dtype_keys)}))
    if "fp16_dit_repackaged" in checks and is_dit and _mostly(header, "F16"):
        problems.append(_problem(
            "fp16_dit_repackaged", "warning",
            "An fp16 DiT (ComfyUI's repackaged file). musubi-tuner trains it in fp16; its docs advise against it for "
            "bf16 training. For bf16, use transformer/720p_t2v (or 720p_i2v)/diffusion_pytorch_model.safetensors "
            "from tencent/HunyuanVideo-1.5."))
    if "no_fp8_dit" in checks:
        if is_dit and (header.has_fp8() or _has_scaled_fp8(header)):
            kind = "fp8_scaled" if _has_scaled_fp8(header) else "fp8 (" + ", ".join(
                d for d in header.dtype_counts() if d in FP8_DTYPES) + ")"
            problems.append(_problem(
                "qwen_fp8_dit", "error",
                f"This is an {kind} Qwen-Image DiT; musubi-tuner cannot train on it. Download the bf16 file "
                "(qwen_image_bf16.safetensors, or qwen_image_edit_*_bf16.safetensors for Edit) from Comfy-Org. "
                "To save memory, pick the 'medium' or 'low' preset: musubi converts the bf16 weights to fp8 itself.",
                {"kind": kind}))
    if "qwen_vae" in checks and role == "vae":
        problems.extend(_qwen_vae(header))
    if "qwen_layered_vae" in checks and role == "vae":
        problems.extend(_qwen_vae(header, layered=True))
    if "fp8_dit_documented" in checks and is_dit and header.has_fp8():
        problems.append(_problem(
            "fp8_dit_fp8_base", "info",
            "An fp8 DiT, as musubi-tuner's docs offer it for training with fp8 (the 'medium' or 'low' preset): "
            "use it with fp8 on, without 'fp8 scaled'."))
    elif "no_fp8_dit" not in checks and "fp8_dit_only" not in checks and is_dit and header.has_fp8():
        problems.append(_problem(
            "fp8_dit", "warning",
            "This DiT is stored in fp8. musubi-tuner's fp8 options expect the bf16/fp16 weights and convert them "
            "on load; a pre-quantized file may fail to load or train badly. Prefer the bf16 file."))
    return problems


def _expected_header(header: Header, model: tt.ModelFile) -> list[dict]:
    instead = f" Use {model.documented}." if model.documented else ""
    use = ".documented" if model.documented else ""  # the translation that names the file to use instead
    out = []
    for key, wanted in model.metadata:
        found = header.metadata.get(key)
        if found != wanted:
            out.append(_problem("model_metadata_mismatch", "error",
                                f"musubi-tuner loads this {model.key} only when the file's metadata says {key} = "
                                f"{wanted!r}; this one says {found!r}.{instead}",
                                {"role": model.key, "key": key, "wanted": repr(wanted), "found": repr(found),
                                 "documented": model.documented or ""}, f"model_metadata_mismatch{use}"))
    if model.key_fragment and not any(model.key_fragment in k for k in header.tensors):
        out.append(_problem("model_wrong_keys", "error",
                            f"No tensor of this file has {model.key_fragment!r} in its name, as every file musubi-tuner "
                            f"loads for this {model.key} does: it is another model, and loading it fails.{instead}",
                            {"role": model.key, "fragment": repr(model.key_fragment),
                             "documented": model.documented or ""}, f"model_wrong_keys{use}"))
    return out


def _mostly(header: Header, dtype: str) -> bool:
    counts = header.dtype_counts()
    return bool(counts) and max(counts, key=counts.get) == dtype


def _qwen_vae(header: Header, layered: bool = False) -> list[dict]:
    keys = header.tensors
    if "encoder.conv_in.weight" in keys:
        conv = keys["encoder.conv_in.weight"]
    elif "conv1.bias" in keys and "encoder.conv1.weight" in keys:
        conv = keys["encoder.conv1.weight"]
    else:
        return [_problem("qwen_vae_unknown_layout", "error",
                         "This is not a Qwen-Image VAE: it has neither the diffusers keys (encoder.conv_in...) nor "
                         "ComfyUI's. Use vae/diffusion_pytorch_model.safetensors from Qwen/Qwen-Image.")]
    out = []
    rgba = len(conv.shape) >= 2 and conv.shape[1] == 4
    if layered and not rgba:
        out.append(_problem("qwen_vae_not_layered", "error",
                            "Qwen-Image-Layered needs its own RGBA VAE (qwen_image_layered_vae.safetensors from "
                            "Comfy-Org/Qwen-Image-Layered_ComfyUI); this is the normal Qwen-Image VAE."))
    if rgba and not layered:
        out.append(_problem("qwen_vae_layered", "error",
                            "This is the Qwen-Image-Layered VAE (RGBA input). Qwen-Image and Qwen-Image-Edit need the "
                            "normal Qwen-Image VAE."))
    if "conv1.bias" in keys:
        out.append(_problem("qwen_vae_comfyui", "info",
                            "ComfyUI-format VAE. musubi-tuner v0.3.4 converts its keys when loading; if caching "
                            "fails with 'Missing key(s)' or 'Unexpected key(s)', use the diffusers VAE "
                            "vae/diffusion_pytorch_model.safetensors from Qwen/Qwen-Image instead."))
    return out
