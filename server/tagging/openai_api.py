"""Backend: any OpenAI-compatible chat-completions server with image input.

Works with OpenAI, Qwen-VL through DashScope's compatible mode, Gemini's OpenAI endpoint, and
local servers (Ollama, LM Studio, vLLM); see presets.py. Each item becomes one request: the
prompt plus the image (or a few evenly spaced video frames) as base64 JPEG data URLs, downscaled
so that large photos do not cost megabytes of upload and thousands of tokens each.
"""

from __future__ import annotations

import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Iterable, Iterator

from . import http_client
from .base import Backend, Item, ItemError, Result, TaggingError
from .config import setting_field
from .media import downscale, item_pictures, jpeg_data_url
from .presets import get_preset
from .prompt import render_prompt

# Reasoning models served by Ollama/vLLM may put their chain of thought in the content.
_THINK = re.compile(r"<think>.*?</think>", re.S | re.I)


@dataclass
class ApiOptions:
    preset: str = setting_field("tagging_api_preset")
    base_url: str = setting_field("tagging_api_base_url")
    api_key: str = setting_field("tagging_api_key", repr=False)  # never in a log line
    model: str = setting_field("tagging_api_model")
    prompt: str = setting_field("tagging_api_prompt")
    output: str = setting_field("tagging_api_output")
    max_tokens: int = setting_field("tagging_api_max_tokens")
    temperature: float = setting_field("tagging_api_temperature")
    parallel: int = setting_field("tagging_api_parallel")
    timeout: float = setting_field("tagging_api_timeout")
    max_retries: int = setting_field("tagging_api_max_retries")
    image_max_side: int = setting_field("tagging_api_image_max_side")
    video_frames: int = setting_field("tagging_video_frames")
    retry_base_delay: float = 1.0
    trigger: str = ""


class OpenAIApiBackend(Backend):
    name = "openai_api"
    label = "Vision-language API (OpenAI-compatible)"
    short_label = "API"
    output_kind = "text"
    media = ("image", "video")
    Options = ApiOptions
    options: ApiOptions

    # -- set-up -----------------------------------------------------------------------------

    def load(self) -> None:
        opts = self.options
        if not opts.base_url:
            raise TaggingError("Set the API base URL first.", code="api_base_url_missing")
        if not opts.model:
            raise TaggingError("Choose a model first.", code="api_model_missing")
        preset = get_preset(opts.preset)
        if preset and preset.needs_key and not opts.api_key:
            raise TaggingError(f"{preset.label} needs an API key.", code="api_key_missing")
        if any(c.isspace() for c in (opts.api_key or "").strip()):
            raise TaggingError("The API key contains spaces or line breaks; paste it again.", code="api_key_invalid")

    @property
    def produces(self) -> str:
        # The prompt decides whether the model writes tags or sentences; the user says which.
        return self.options.output

    # -- one item -----------------------------------------------------------------------------

    def caption(self, item: Item) -> str:
        body = self.request_body(item)
        try:
            answer = http_client.post_json(
                self.endpoint, body, headers=self._headers(), timeout=self.options.timeout,
                retry=http_client.RetryPolicy(self.options.max_retries, self.options.retry_base_delay),
                secret=self.options.api_key, stop=self._stop,
            )
            return answer_text(answer, self.options.api_key)
        except http_client.HttpFailure as exc:
            raise ItemError(exc.message, code=exc.code) from None
        except ItemError as exc:
            # A server may quote the request (and so the key) back in an error object.
            raise ItemError(self.scrub(exc.message), code=exc.code) from None

    @property
    def endpoint(self) -> str:
        return self.options.base_url.rstrip("/") + "/chat/completions"

    def request_body(self, item: Item) -> dict:
        opts = self.options
        pictures = [downscale(p, opts.image_max_side) for p in item_pictures(item, opts.video_frames)]
        prompt = render_prompt(opts.prompt, opts.trigger)
        if item.kind == "video":
            prompt = (f"The {len(pictures)} images are frames from one video, in order. "
                      f"Caption the video as a whole.\n\n{prompt}")
        content = [{"type": "text", "text": prompt}]
        content += [{"type": "image_url", "image_url": {"url": jpeg_data_url(p)}} for p in pictures]
        preset = get_preset(opts.preset)
        token_field = preset.token_field if preset else "max_tokens"
        return {
            "model": opts.model,
            "messages": [{"role": "user", "content": content}],
            token_field: opts.max_tokens,
            "temperature": opts.temperature,
        }

    def _headers(self) -> dict:
        # Local servers run without a key; sending "Bearer " with nothing after it upsets some proxies.
        key = (self.options.api_key or "").strip()
        return {"Authorization": f"Bearer {key}"} if key else {}

    def scrub(self, text: str) -> str:
        return http_client.mask_in(text, self.options.api_key)

    # -- many items, in parallel ----------------------------------------------------------------

    def caption_many(self, items: Iterable[Item]) -> Iterator[Result]:
        """Up to `parallel` requests at once; results come back as they finish, not in input order."""
        pending = iter(items)
        workers = max(1, int(self.options.parallel))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tag-api")
        running: set[Future] = set()
        try:
            while True:
                while not self.stopped and len(running) < workers:
                    item = next(pending, None)
                    if item is None:
                        break
                    running.add(pool.submit(self.run_one, item))
                if not running:
                    return
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        finally:
            # On cancel, requests already on the wire finish in the background; nobody waits for them.
            pool.shutdown(wait=not self.stopped, cancel_futures=True)

    def test(self, sample: Item) -> dict:
        started = time.monotonic()
        result = super().test(sample)
        result.update(model=self.options.model, base_url=self.options.base_url,
                      seconds=round(time.monotonic() - started, 2))
        return result


def answer_text(answer: dict, secret: str | None = None) -> str:
    """The caption in a chat-completions answer, or an ItemError that says what was wrong with it
    (`secret` is masked in a quoted server message before it is cut to length)."""
    if not isinstance(answer, dict):
        raise ItemError("The server's answer is not a JSON object.", code="malformed_answer")
    if answer.get("error"):
        # Some proxies answer 200 with an error object instead of an HTTP error status.
        raise ItemError(f"The server reported an error: {http_client.server_message_from(answer, secret)}",
                        code="server_error")
    try:
        message = answer["choices"][0]["message"]
        content = message["content"]
    except (KeyError, IndexError, TypeError):
        raise ItemError("The server's answer has no choices[0].message.content "
                        f"(got keys: {', '.join(sorted(answer)) or 'none'}).", code="malformed_answer") from None
    if isinstance(content, list):
        # Some servers return content as parts, like the request's.
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise ItemError("The server's answer has no text content.", code="malformed_answer")
    text = _THINK.sub("", content).strip()
    if not text:
        reason = answer["choices"][0].get("finish_reason") if isinstance(answer["choices"][0], dict) else None
        hint = " (the answer was cut off: raise max tokens)" if reason == "length" else ""
        raise ItemError(f"The model returned an empty caption{hint}.", code="empty_caption")
    return text
