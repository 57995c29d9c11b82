"""The English-sentence heuristic itself: it flags what an untranslated message looks like and passes the
English a Chinese screen legitimately shows."""

from tests.browser.screen_text import english_sentences

FLAGGED = [
    "No NVIDIA GPU was found (or its driver is not installed).",
    "Could not open /tmp/x in the file manager: [Errno 2] No such file or directory",
    "This dataset has running jobs (import, thumbnails, tagging); stop them first.",
    "Choose the dit model file.",
    "未找到 NVIDIA 显卡：There is no musubi-tuner checkout at C:\\x; use Set up.",
    # job progress lines (issue 13, item 3)
    "Importing", "Importing cat_01.png", "Generating thumbnails", "Caching latents…", "Loading WD14 tagger…",
    "Download musubi-tuner", "Install PyTorch (cu128)", "Switch to the checked version", "Done", "Converted",
    "Test passed.", "3/10 · 0.52 items/s · 12 s left",
    # a failed job's raw error (issue 13, item 6): the exception class says it, even without a function word
    "RuntimeError: pip install torch failed (exit code 1)", "JobError: Downloading musubi-tuner failed",
]
PASSED = [
    "Qwen-Image LoRA", "musubi-tuner", "未检测到 NVIDIA 显卡", "GPU 0", "cat02.png", "≈ 23.9 GB",
    "sks cat, photo 2, indoors, sitting", "a photo of sks cat", "Edit pairs", "FP8 基础模型", "LoRA Workbench",
    "2026年11月29日 05:42", "Qwen2.5-VL 7B Instruct", "WD14 tagger (SwinV2 v3)",
    "正在下载 musubi-tuner", "正在安装 PyTorch（cu128）", "Downloaded.png", "Testing_set", "Kling", "String art",
    "失败：", "下载 musubi-tuner 失败。", "pip install torch 失败（退出码 1），详见上方日志。",
]


def test_flags_english_sentences():
    for text in FLAGGED:
        assert english_sentences([text]) == [text], text


def test_passes_names_units_and_user_text():
    assert english_sentences(PASSED) == []
