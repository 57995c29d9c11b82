"""User settings: the keys the app knows, their defaults and how each is validated.

Features add their own keys to SETTINGS. Unknown keys are refused so a typo in the UI shows up
as an error instead of a setting that silently does nothing. Secret values (API keys) are stored
as given but only ever returned masked.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable

from .errors import ValidationError
from .paths import user_path
from .runtime.driver import CHOICES as TORCH_BUILDS

LANGUAGES = ("zh-CN", "en")
THEMES = ("light", "dark", "system")


@dataclass
class Setting:
    default: Any
    validate: Callable[[Any], Any]
    secret: bool = False


def _choice(*choices):
    def check(value):
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(str, choices))}")
        return value
    return check


def _window(value):
    if not isinstance(value, dict):
        raise ValueError("must be an object")
    out = {}
    for key in ("width", "height", "x", "y"):
        if key in value and value[key] is not None:
            if isinstance(value[key], bool) or not isinstance(value[key], (int, float)) \
                    or abs(value[key]) > 1_000_000 or not math.isfinite(value[key]):
                raise ValueError(f"{key} must be a number")
            out[key] = int(value[key])
    if "maximized" in value:
        out["maximized"] = bool(value["maximized"])
    return out


def _bool(value):
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _path_or_auto(value):
    """An absolute path, or "" for the built-in default (training: musubi checkout and its python)."""
    if not isinstance(value, str):
        raise ValueError("must be a path")
    value = user_path(value)
    if value and not os.path.isabs(value):
        raise ValueError("must be an absolute path (or empty for the default)")
    return value


SETTINGS: dict[str, Setting] = {
    "language": Setting("zh-CN", _choice(*LANGUAGES)),
    "theme": Setting("system", _choice(*THEMES)),
    "window": Setting({}, _window),
    "first_run_done": Setting(False, _bool),
    # Training (server/training/musubi_env.py resolves "" to <program>/musubi-tuner and its .venv python).
    "musubi_dir": Setting("", _path_or_auto),
    "musubi_python": Setting("", _path_or_auto),
}


MASK_CHAR = "•"


def is_masked(value) -> bool:
    """A masked secret as read_all() shows it: sending it back means "keep the saved one"."""
    return isinstance(value, str) and value.startswith(MASK_CHAR)


def mask_secret(value: str | None) -> str:
    if not value:
        return ""
    value = str(value)
    return "•" * 6 + value[-4:] if len(value) > 8 else "•" * len(value)


def read_all(store) -> dict:
    stored = store.get_settings()
    out = {}
    for key, spec in SETTINGS.items():
        value = stored.get(key, spec.default)
        out[key] = mask_secret(value) if spec.secret else value
    return out


def update(store, changes: dict) -> dict:
    cleaned = {}
    for key, value in changes.items():
        spec = SETTINGS.get(key)
        if spec is None:
            raise ValidationError(f"Unknown setting '{key}'.", field=key, code="unknown_setting")
        if spec.secret and is_masked(value):
            continue  # the form sent back what GET showed: keep the saved key, never store the mask
        try:
            cleaned[key] = spec.validate(value)
        except ValueError as exc:
            raise ValidationError(f"Setting '{key}' {exc}.", field=key) from None
    for key, value in cleaned.items():
        store.set_setting(key, value)
    return read_all(store)


# --- Auto-tagging (server/tagging) -------------------------------------------------------------
# Validators are prefixed `_tg_` so they cannot clash with helpers other features add above.

def _tg_int(lo: int, hi: int):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"must be a whole number from {lo} to {hi}")
        return value
    return check


def _tg_number(lo: float, hi: float):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
            raise ValueError(f"must be a number from {lo} to {hi}")
        return float(value)
    return check


def _tg_text(max_len: int = 20000):
    def check(value):
        if not isinstance(value, str) or len(value) > max_len:
            raise ValueError(f"must be text of at most {max_len} characters")
        return value
    return check


def _tg_url(value):
    if not isinstance(value, str) or not value.strip().lower().startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// address")
    return value.strip().rstrip("/")


def _tg_words(value):
    """A list of tags/phrases; a comma-separated string is accepted too (what a text field sends)."""
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of words")
    return [v.strip() for v in value if v.strip()]


TAGGING_BACKENDS = ("openai_api", "wd14", "musubi_qwen_vl")
TAGGING_MODES = ("overwrite", "append", "only_empty")
DEFAULT_TAGGING_PROMPT = (
    "Describe this image in one detailed paragraph for a text-to-image training caption: the subject, "
    "its appearance, pose, clothing, setting, lighting, colours and style. Do not start with 'This image'. "
    "If a trigger word is given, use it as the subject's name: {trigger}"
)

SETTINGS.update({
    "tagging_backend": Setting("wd14", _choice(*TAGGING_BACKENDS)),
    "tagging_mode": Setting("only_empty", _choice(*TAGGING_MODES)),
    "tagging_blacklist": Setting([], _tg_words),
    "tagging_video_frames": Setting(4, _tg_int(1, 16)),
    # Remote OpenAI-compatible API
    "tagging_api_preset": Setting("openai", _tg_text(64)),
    "tagging_api_base_url": Setting("https://api.openai.com/v1", _tg_url),
    "tagging_api_key": Setting("", _tg_text(4096), secret=True),
    "tagging_api_model": Setting("gpt-4.1-mini", _tg_text(256)),
    "tagging_api_prompt": Setting(DEFAULT_TAGGING_PROMPT, _tg_text()),
    "tagging_api_output": Setting("text", _choice("text", "tags")),
    "tagging_api_max_tokens": Setting(300, _tg_int(1, 32768)),
    "tagging_api_temperature": Setting(0.2, _tg_number(0, 2)),
    "tagging_api_parallel": Setting(4, _tg_int(1, 32)),
    "tagging_api_timeout": Setting(60.0, _tg_number(1, 600)),
    "tagging_api_max_retries": Setting(4, _tg_int(0, 10)),
    "tagging_api_image_max_side": Setting(1024, _tg_int(64, 4096)),
    # Local WD14-family tagger (onnxruntime)
    "tagging_wd14_repo": Setting("SmilingWolf/wd-vit-tagger-v3", _tg_text(200)),
    "tagging_wd14_model_dir": Setting("", _tg_text(1000)),
    "tagging_wd14_general_threshold": Setting(0.35, _tg_number(0, 1)),
    "tagging_wd14_character_threshold": Setting(0.85, _tg_number(0, 1)),
    "tagging_wd14_underscores_to_spaces": Setting(True, _bool),
    "tagging_wd14_exclude": Setting([], _tg_words),
    "tagging_wd14_batch_size": Setting(4, _tg_int(1, 64)),
    "tagging_hf_endpoint": Setting("https://huggingface.co", _tg_url),
    # musubi-tuner's caption_images_by_qwen_vl.py (runs in the trainer's environment)
    "tagging_qwen_model_path": Setting("", _tg_text(1000)),
    "tagging_qwen_prompt": Setting("", _tg_text()),
    "tagging_qwen_max_new_tokens": Setting(1024, _tg_int(1, 32768)),
    "tagging_qwen_max_size": Setting(1280, _tg_int(256, 4096)),
    "tagging_qwen_fp8_vl": Setting(False, _bool),
})


# --- Model library and the trainer's environment (server/models, server/runtime) ----------------
# Validators are prefixed `_rt_`.

def _rt_model_library(value):
    from .models.library import validate_paths

    return validate_paths(value)


def _rt_repo_url(value):
    """Where setup clones musubi-tuner from: an http(s)/ssh/file URL or an absolute local path (a mirror)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a git URL")
    value = value.strip()
    if not (value.startswith(("https://", "http://", "ssh://", "git@", "file://")) or os.path.isabs(value)):
        raise ValueError("must be an https://, ssh:// or file:// URL or a local folder")
    return value


def _rt_archive_url(value):
    """Where setup downloads musubi-tuner's zip from when git is missing: an http(s):// or file:// URL;
    {commit} (or <commit>) is replaced by the pinned commit."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be an http(s):// address of a zip archive")
    value = value.strip()
    if not value.lower().startswith(("https://", "http://", "file://")):
        raise ValueError("must be an http:// or https:// address (or file://)")
    return value


def _rt_url_or_empty(value):
    if not isinstance(value, str):
        raise ValueError("must be an address")
    value = value.strip().rstrip("/")
    if value and not value.lower().startswith(("http://", "https://", "file://")):
        raise ValueError("must be an http:// or https:// address (or empty)")
    return value


SETTINGS.update({
    # {slot id: absolute path}; slots come from the training task table (server/models/library.py).
    "model_library": Setting({}, _rt_model_library),
    "musubi_repo_url": Setting("https://github.com/kohya-ss/musubi-tuner.git", _rt_repo_url),
    # Setup / update without git download this zip; {commit} is replaced by the pinned commit.
    "musubi_archive_url": Setting("https://github.com/kohya-ss/musubi-tuner/archive/{commit}.zip", _rt_archive_url),
    # torch build for setup: "auto" follows the NVIDIA driver, "cpu" is the CPU-only build (server/runtime/driver.py).
    "musubi_cuda_extra": Setting("auto", _choice(*TORCH_BUILDS)),
    # Where setup takes torch from: "pytorch" = the PyTorch index below for the chosen CUDA build; "pypi" = the
    # plain package index (the PyPI mirror below, or pip's own configuration): CPU-only on Windows, where PyPI has
    # no CUDA builds of torch (driver.torch_build says so on the Settings page).
    "musubi_torch_source": Setting("pytorch", _choice("pytorch", "pypi")),
    # torch wheels come from <this>/<cuXXX>; musubi's pyproject names these indexes for uv only, pip needs them.
    "musubi_torch_index_url": Setting("https://download.pytorch.org/whl", _rt_url_or_empty),
    # A PyPI mirror for everything else ("" = pip's default), e.g. https://pypi.tuna.tsinghua.edu.cn/simple.
    "musubi_pip_index_url": Setting("", _rt_url_or_empty),
    # A folder of wheels to install from instead of any index (offline machines): pip --no-index --find-links.
    "musubi_find_links": Setting("", _path_or_auto),
})


# --- Server mode: the folder browser (server/system/browse.py) --------------------------------------

BROWSE_ROOTS_MAX = 20


def _sv_browse_roots(value):
    """Absolute folders the in-page folder browser may show; [] = the data folder and the user's home."""
    if not isinstance(value, list) or len(value) > BROWSE_ROOTS_MAX or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of at most {BROWSE_ROOTS_MAX} folder paths")
    out = []
    for raw in value:
        path = user_path(raw)
        if not path:
            continue
        if not os.path.isabs(path):
            raise ValueError(f"must hold absolute paths ('{raw}' is not)")
        if path not in out:
            out.append(path)
    return out


SETTINGS.update({
    "browse_roots": Setting([], _sv_browse_roots),
})
