"""Auto-tagging's settings: the default backend, how a run treats existing captions, and each backend's
options. A backend's `Options` dataclass names these keys (config.setting_field) and takes its defaults
from here; the settings page shows the groups "tagging" (run), "tagging.openai_api", "tagging.wd14" and
"tagging.musubi_qwen_vl".

The order here is the order of the fields on the settings page. UI hints ride in `extra` (served as-is):
`placeholder` (literal) / `placeholder_key` (i18n), `slider` (a 0..1 score), `text_key` (a checkbox's text),
`block` / `block_help` (i18n keys: consecutive numbers shown together under one label).
"""

from __future__ import annotations

from ..settings import Setting, http_url, register
from .postprocess import MODES

BACKENDS = ("openai_api", "wd14", "musubi_qwen_vl")
DEFAULT_PROMPT = (
    "Describe this image in one detailed paragraph for a text-to-image training caption: the subject, "
    "its appearance, pose, clothing, setting, lighting, colours and style. Do not start with 'This image'. "
    "If a trigger word is given, use it as the subject's name: {trigger}"
)


def _label(key):
    return "tag.key." + key


def _int(key, default, lo, hi, group, **kw):
    return Setting(key, "int", default, min=lo, max=hi, group=group, label_key=_label(key), **kw)


def _number(key, default, lo, hi, group, **kw):
    return Setting(key, "number", default, min=lo, max=hi, group=group, label_key=_label(key), **kw)


API, WD14, QWEN = "tagging.openai_api", "tagging.wd14", "tagging.musubi_qwen_vl"
API_LIMITS = {"block": "tag.api.limits", "block_help": "tag.api.limits.help"}
QWEN_LIMITS = {"block": "tag.api.limits"}

register(
    Setting("tagging_backend", "choice", "wd14", choices=BACKENDS, choice_key="tag.backend.", group="tagging",
            label_key="tag.settings.backend"),
    Setting("tagging_mode", "choice", "only_empty", choices=MODES, choice_key="tag.mode.", group="tagging",
            label_key="tag.mode"),
    Setting("tagging_blacklist", "words", [], group="tagging", label_key="tag.blacklist", help_key="tag.blacklist.help",
            extra={"placeholder": "watermark, signature, text"}),
    _int("tagging_video_frames", 4, 1, 16, "tagging", help_key="tag.videoFrames.help"),
    # Remote OpenAI-compatible API
    Setting("tagging_api_preset", "text", "openai", max_len=64, group=API, label_key="tag.api.preset",
            help_key="tag.api.preset.help"),
    Setting("tagging_api_base_url", "url", "https://api.openai.com/v1", http_url, group=API,
            label_key="tag.api.baseUrl", help_key="tag.api.baseUrl.help", extra={"placeholder": "https://…/v1"}),
    Setting("tagging_api_key", "text", "", max_len=4096, secret=True, group=API, label_key="tag.api.key",
            help_key="tag.api.key.help", extra={"placeholder_key": "tag.api.key.placeholder"}),
    Setting("tagging_api_model", "text", "gpt-4.1-mini", max_len=256, group=API, label_key="tag.api.model",
            help_key="tag.api.model.help"),
    Setting("tagging_api_output", "choice", "text", choices=("text", "tags"), choice_key="tag.output.",
            group=API, label_key="tag.output", help_key="tag.output.apiHelp"),
    Setting("tagging_api_prompt", "longtext", DEFAULT_PROMPT, group=API, label_key="tag.prompt", help_key="tag.prompt.help"),
    _int("tagging_api_max_tokens", 300, 1, 32768, API, extra=API_LIMITS),
    _number("tagging_api_temperature", 0.2, 0, 2, API, extra={"step": 0.1, **API_LIMITS}),
    _int("tagging_api_parallel", 4, 1, 32, API, extra=API_LIMITS),
    _number("tagging_api_timeout", 60.0, 1, 600, API, extra={"step": 1, **API_LIMITS}),
    _int("tagging_api_max_retries", 4, 0, 10, API, extra=API_LIMITS),
    _int("tagging_api_image_max_side", 1024, 64, 4096, API, extra={"step": 64, **API_LIMITS}),
    # Local WD14-family tagger (onnxruntime)
    Setting("tagging_wd14_repo", "text", "SmilingWolf/wd-vit-tagger-v3", max_len=200, group=WD14,
            label_key="tag.wd14.repo", help_key="tag.wd14.repo.help"),
    Setting("tagging_wd14_model_dir", "text", "", max_len=1000, group=WD14, label_key="tag.wd14.folder",
            help_key="tag.wd14.folder.help", extra={"placeholder_key": "tag.wd14.folder.placeholder"}),
    Setting("tagging_hf_endpoint", "url", "https://huggingface.co", http_url, group=WD14, label_key="tag.wd14.mirror",
            help_key="tag.wd14.mirror.help"),
    _number("tagging_wd14_general_threshold", 0.35, 0, 1, WD14, help_key=_label("tagging_wd14_general_threshold") + ".help",
            extra={"step": 0.01, "slider": True}),
    _number("tagging_wd14_character_threshold", 0.85, 0, 1, WD14,
            help_key=_label("tagging_wd14_character_threshold") + ".help", extra={"step": 0.01, "slider": True}),
    Setting("tagging_wd14_underscores_to_spaces", "bool", True, group=WD14, label_key="tag.wd14.format",
            extra={"text_key": "tag.wd14.underscores"}),
    Setting("tagging_wd14_exclude", "words", [], group=WD14, label_key="tag.wd14.exclude", help_key="tag.wd14.exclude.help",
            extra={"placeholder": "simple background, white background"}),
    _int("tagging_wd14_batch_size", 4, 1, 64, WD14),
    # musubi-tuner's caption_images_by_qwen_vl.py (runs in the trainer's environment)
    Setting("tagging_qwen_model_path", "text", "", max_len=1000, group=QWEN, label_key="tag.qwen.model",
            help_key="tag.qwen.model.help", extra={"placeholder": "/models/qwen_2.5_vl_7b.safetensors"}),
    Setting("tagging_qwen_prompt", "longtext", "", group=QWEN, label_key="tag.prompt", help_key="tag.qwen.prompt.help",
            extra={"placeholder_key": "tag.qwen.prompt.placeholder"}),
    _int("tagging_qwen_max_new_tokens", 1024, 1, 32768, QWEN, extra=QWEN_LIMITS),
    _int("tagging_qwen_max_size", 1280, 256, 4096, QWEN, extra={"step": 64, **QWEN_LIMITS}),
    Setting("tagging_qwen_fp8_vl", "bool", False, group=QWEN, label_key="tag.qwen.memory", help_key="tag.qwen.env",
            extra={"text_key": "tag.qwen.fp8"}),
)
