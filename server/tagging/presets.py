"""Ready-made settings for well-known OpenAI-compatible vision endpoints.

Each preset fills the base URL and suggests models; the user still picks the model and, for cloud
services, enters a key. `token_field` is the request field that caps the answer's length: OpenAI's
current models want `max_completion_tokens`, every other server here still reads `max_tokens`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    base_url: str
    models: tuple[str, ...]
    needs_key: bool = True
    local: bool = False
    token_field: str = "max_tokens"
    notes: str = ""
    key_url: str = field(default="")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["models"] = list(self.models)
        return data


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("openai", "OpenAI", "https://api.openai.com/v1",
           ("gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4o"),
           token_field="max_completion_tokens", key_url="https://platform.openai.com/api-keys"),
    Preset("dashscope", "Qwen-VL (DashScope, China)", "https://dashscope.aliyuncs.com/compatible-mode/v1",
           ("qwen-vl-max", "qwen-vl-plus", "qwen2.5-vl-72b-instruct", "qwen2.5-vl-7b-instruct"),
           key_url="https://bailian.console.aliyun.com/"),
    Preset("dashscope_intl", "Qwen-VL (DashScope, international)",
           "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
           ("qwen-vl-max", "qwen-vl-plus", "qwen2.5-vl-72b-instruct"),
           key_url="https://modelstudio.console.alibabacloud.com/"),
    Preset("gemini", "Google Gemini (OpenAI-compatible)", "https://generativelanguage.googleapis.com/v1beta/openai",
           ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.0-flash"),
           key_url="https://aistudio.google.com/apikey"),
    Preset("ollama", "Ollama (local)", "http://127.0.0.1:11434/v1",
           ("qwen2.5vl:7b", "gemma3:12b", "llama3.2-vision:11b", "llava:13b"),
           needs_key=False, local=True, notes="Pull a vision model first: ollama pull qwen2.5vl:7b"),
    Preset("lmstudio", "LM Studio (local)", "http://127.0.0.1:1234/v1",
           ("qwen2.5-vl-7b-instruct", "gemma-3-12b-it"),
           needs_key=False, local=True, notes="Load a vision model and start the local server in LM Studio."),
    Preset("vllm", "vLLM (local)", "http://127.0.0.1:8000/v1",
           ("Qwen/Qwen2.5-VL-7B-Instruct", "Qwen/Qwen2.5-VL-3B-Instruct"),
           needs_key=False, local=True, notes="vllm serve Qwen/Qwen2.5-VL-7B-Instruct"),
)}


def get_preset(name: str | None) -> Preset | None:
    return PRESETS.get(name or "")
