"""Tokenizers musubi-tuner downloads from Hugging Face, and the environment that lets it find them.

musubi loads each architecture's tokenizer by a hard-coded hub id (no flag overrides it), on the first run
of that architecture. So every stage gets:
- HF_HOME = <data>/huggingface: one cache the app owns, beside its other data (not the user's profile);
- HF_ENDPOINT = the "Hugging Face download server" setting the tagging section already has
  (`tagging_hf_endpoint`; e.g. https://hf-mirror.com in mainland China).
Before a run starts, `check()` looks for each tokenizer of the task type in that cache; one that is missing
must be reachable at the endpoint (one HEAD request), else the start is refused with code
`tokenizer_unavailable`, naming the tokenizer and what to change, instead of musubi failing after minutes
of caching with a network traceback. HF_HUB_OFFLINE in the app's environment means "do not try".
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import ApiError

ENDPOINT_SETTING = "tagging_hf_endpoint"
DEFAULT_ENDPOINT = "https://huggingface.co"
TIMEOUT_S = 8


@dataclass(frozen=True)
class Tokenizer:
    repo: str
    subfolder: str = ""
    probe_file: str = "tokenizer_config.json"   # a file the repo has there: what the reachability check asks for

    @property
    def label(self) -> str:
        return f"{self.repo}/{self.subfolder}" if self.subfolder else self.repo


_QWEN_IMAGE = Tokenizer("Qwen/Qwen-Image", "tokenizer")
_WAN_T5 = Tokenizer("Wan-AI/Wan2.1-T2V-14B", "google/umt5-xxl")
_CLIP_L = Tokenizer("openai/clip-vit-large-patch14")
_FLUX2_QWEN3_4B = (Tokenizer("Qwen/Qwen3-4B"),)
_FRAMEPACK = (Tokenizer("hunyuanvideo-community/HunyuanVideo", "tokenizer"),
              Tokenizer("hunyuanvideo-community/HunyuanVideo", "tokenizer_2"))
_FLUX2_QWEN3_8B = (Tokenizer("Qwen/Qwen3-8B"),)
_HIDREAM_FULL = (Tokenizer("HiDream-ai/HiDream-O1-Image"),)
_HIDREAM_DEV = (Tokenizer("HiDream-ai/HiDream-O1-Image-Dev"),)
# Read off musubi-tuner at the pinned commit (the *_ID constants and from_pretrained calls of each
# architecture's text-encoder loader). A value is the tokenizers of every variant, or {variant: tokenizers}.
# HunyuanVideo reads its tokenizers from a text-encoder FOLDER, but from the hub for a single file (which the
# app gives it).
TOKENIZERS: dict[str, tuple[Tokenizer, ...] | dict[str, tuple[Tokenizer, ...]]] = {
    "qwen-image-lora": (_QWEN_IMAGE,),
    "qwen-image-edit-lora": (_QWEN_IMAGE, Tokenizer("Qwen/Qwen-Image-Edit", "processor")),
    "kontext-lora": (Tokenizer("google/t5-v1_1-xxl"), _CLIP_L),
    "wan2.1-lora": (_WAN_T5,),
    "wan2.2-lora": (_WAN_T5,),
    "flux2-lora": {"dev": (Tokenizer("mistralai/Mistral-Small-3.1-24B-Instruct-2503"),),
                   "klein-4b": _FLUX2_QWEN3_4B, "klein-base-4b": _FLUX2_QWEN3_4B,
                   "klein-9b": _FLUX2_QWEN3_8B, "klein-base-9b": _FLUX2_QWEN3_8B},
    "zimage-lora": (Tokenizer("Tongyi-MAI/Z-Image", "tokenizer"),),
    "hunyuan-video-lora": (_CLIP_L, Tokenizer("xtuner/llava-llama-3-8b-v1_1-transformers")),
    # qwen_image_utils.load_qwen2_5_vl (the Qwen-Image tokenizer) and hunyuan_video_1_5_text_encoder's ByT5 one.
    "hunyuan-video-1.5-lora": (_QWEN_IMAGE, Tokenizer("google/byt5-small")),
    # Layered is not "edit": no VL processor (qwen_image_train_network.py load_vl_processor only if is_edit).
    "qwen-image-layered-lora": (_QWEN_IMAGE,),
    "wan2.1-1f-lora": (_WAN_T5,),
    # frame_pack/framepack_utils.py; the SigLIP feature extractor is built from a config in the code.
    "framepack-lora": _FRAMEPACK,
    "framepack-1f-lora": _FRAMEPACK,
    # kandinsky5/models/text_embedders.py reads both tokenizers from the model folders the user gives.
    "kandinsky5-lora": (),
    "krea2-lora": (Tokenizer("Qwen/Qwen3-VL-4B-Instruct"),),  # krea2_encoder.py QWEN3_VL_4B_INSTRUCT_REPO_ID
    # hidream_o1_utils.py HIDREAM_O1_REPO_FULL / _DEV by --model_type: processor, tokenizer and the model config.
    "hidream-o1-lora": {"full-t2i": _HIDREAM_FULL, "full-i2i": _HIDREAM_FULL,
                        "dev-t2i": _HIDREAM_DEV, "dev-i2i": _HIDREAM_DEV},
    "ideogram4-lora": (Tokenizer("Qwen/Qwen3-VL-8B-Instruct"),),  # ideogram4_utils.py QWEN3_VL_8B_INSTRUCT_REPO_ID
}


def needed(task_type: str, variant: str | None) -> tuple[Tokenizer, ...]:
    entry = TOKENIZERS.get(task_type, ())
    return entry.get(variant, ()) if isinstance(entry, dict) else entry


def every_tokenizer() -> list[Tokenizer]:
    out: list[Tokenizer] = []
    for entry in TOKENIZERS.values():
        for toks in (entry.values() if isinstance(entry, dict) else [entry]):
            out += [t for t in toks if t not in out]
    return out


def hf_home(layout) -> Path:
    return Path(layout.root) / "huggingface"


def endpoint(store) -> str:
    return (store.get_setting(ENDPOINT_SETTING, DEFAULT_ENDPOINT) or DEFAULT_ENDPOINT).rstrip("/")


def stage_env(store, layout) -> dict[str, str]:
    """What every stage gets on top of musubi_env.stage_env."""
    return {"HF_HOME": str(hf_home(layout)), "HF_ENDPOINT": endpoint(store)}


def cached(home: Path, tok: Tokenizer) -> bool:
    """huggingface_hub's layout: hub/models--ORG--NAME/refs/main names the snapshot that holds the files."""
    base = home / "hub" / f"models--{tok.repo.replace('/', '--')}"
    try:
        rev = (base / "refs" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        return False
    folder = base / "snapshots" / rev / tok.subfolder if rev else None
    return bool(folder and folder.is_dir() and any(p.is_file() for p in folder.iterdir()))


def reachable(url: str) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return False
    req = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "lora-workbench"})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310 - the user's endpoint setting
            return resp.status < 400
    except urllib.error.HTTPError as exc:
        # 401/403: the server is there and the repository needs a login (musubi then says so itself)
        return exc.code < 400 or exc.code in (401, 403)
    except (OSError, ValueError):
        return False


def file_url(base: str, tok: Tokenizer) -> str:
    path = f"{tok.subfolder}/{tok.probe_file}" if tok.subfolder else tok.probe_file
    return f"{base}/{tok.repo}/resolve/main/{urllib.parse.quote(path)}"


def check(store, layout, task_type: str, variant: str | None = None) -> None:
    """Refuse (code tokenizer_unavailable) when a tokenizer of this type/variant is neither cached nor reachable."""
    home = hf_home(layout)
    base = endpoint(store)
    for tok in needed(task_type, variant):
        if cached(home, tok) or reachable(file_url(base, tok)):
            continue
        raise ApiError(
            f"musubi-tuner needs the tokenizer {tok.label} from Hugging Face, which is not downloaded yet, and "
            f"{base} cannot be reached. Set Settings > Tagging > Download server to a mirror you can reach "
            f"(e.g. https://hf-mirror.com), or connect to the internet, then start again. "
            f"It is downloaded once, into {home}.",
            code="tokenizer_unavailable", status=422,
            details={"tokenizer": tok.label, "endpoint": base, "hf_home": str(home), "field": ENDPOINT_SETTING})
