"""Auto-tagging's settings: the default backend, how a run treats existing captions, and each backend's
options. A backend's `Options` dataclass names these keys (config.setting_field) and takes its defaults
from here; the settings page shows the groups "tagging" (run), "tagging.openai_api", "tagging.wd14" and
"tagging.musubi_qwen_vl".
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

register(
    Setting("tagging_backend", "choice", "wd14", choices=BACKENDS, choice_key="tag.backend.", group="tagging",
            label_key="tag.settings.backend"),
    Setting("tagging_mode", "choice", "only_empty", choices=MODES, choice_key="tag.mode.", group="tagging",
            label_key="tag.mode"),
    Setting("tagging_blacklist", "words", [], group="tagging", label_key="tag.blacklist", help_key="tag.blacklist.help"),
    _int("tagging_video_frames", 4, 1, 16, "tagging", help_key="tag.videoFrames.help"),
    # Remote OpenAI-compatible API
    Setting("tagging_api_preset", "text", "openai", max_len=64, group=API, label_key="tag.api.preset",
            help_key="tag.api.preset.help"),
    Setting("tagging_api_base_url", "url", "https://api.openai.com/v1", http_url, group=API,
            label_key="tag.api.baseUrl", help_key="tag.api.baseUrl.help"),
    Setting("tagging_api_key", "text", "", max_len=4096, secret=True, group=API, label_key="tag.api.key",
            help_key="tag.api.key.help"),
    Setting("tagging_api_model", "text", "gpt-4.1-mini", max_len=256, group=API, label_key="tag.api.model",
            help_key="tag.api.model.help"),
    Setting("tagging_api_prompt", "longtext", DEFAULT_PROMPT, group=API, label_key="tag.prompt", help_key="tag.prompt.help"),
    Setting("tagging_api_output", "choice", "text", choices=("text", "tags"), choice_key="tag.output.",
            group=API, label_key="tag.output", help_key="tag.output.apiHelp"),
    _int("tagging_api_max_tokens", 300, 1, 32768, API),
    _number("tagging_api_temperature", 0.2, 0, 2, API, extra={"step": 0.1}),
    _int("tagging_api_parallel", 4, 1, 32, API),
    _number("tagging_api_timeout", 60.0, 1, 600, API),
    _int("tagging_api_max_retries", 4, 0, 10, API),
    _int("tagging_api_image_max_side", 1024, 64, 4096, API, extra={"step": 64}),
    # Local WD14-family tagger (onnxruntime)
    Setting("tagging_wd14_repo", "text", "SmilingWolf/wd-vit-tagger-v3", max_len=200, group=WD14,
            label_key="tag.wd14.repo", help_key="tag.wd14.repo.help"),
    Setting("tagging_wd14_model_dir", "text", "", max_len=1000, group=WD14, label_key="tag.wd14.folder",
            help_key="tag.wd14.folder.help"),
    _number("tagging_wd14_general_threshold", 0.35, 0, 1, WD14, help_key=_label("tagging_wd14_general_threshold") + ".help",
            extra={"step": 0.01}),
    _number("tagging_wd14_character_threshold", 0.85, 0, 1, WD14,
            help_key=_label("tagging_wd14_character_threshold") + ".help", extra={"step": 0.01}),
    Setting("tagging_wd14_underscores_to_spaces", "bool", True, group=WD14, label_key="tag.wd14.underscores"),
    Setting("tagging_wd14_exclude", "words", [], group=WD14, label_key="tag.wd14.exclude", help_key="tag.wd14.exclude.help"),
    _int("tagging_wd14_batch_size", 4, 1, 64, WD14),
    Setting("tagging_hf_endpoint", "url", "https://huggingface.co", http_url, group=WD14, label_key="tag.wd14.mirror",
            help_key="tag.wd14.mirror.help"),
    # musubi-tuner's caption_images_by_qwen_vl.py (runs in the trainer's environment)
    Setting("tagging_qwen_model_path", "text", "", max_len=1000, group=QWEN, label_key="tag.qwen.model",
            help_key="tag.qwen.model.help"),
    Setting("tagging_qwen_prompt", "longtext", "", group=QWEN, label_key="tag.prompt", help_key="tag.qwen.prompt.help"),
    _int("tagging_qwen_max_new_tokens", 1024, 1, 32768, QWEN),
    _int("tagging_qwen_max_size", 1280, 256, 4096, QWEN, extra={"step": 64}),
    Setting("tagging_qwen_fp8_vl", "bool", False, group=QWEN, label_key="tag.qwen.fp8"),
)
