"""API backend against a stand-in chat-completions server on 127.0.0.1 that checks each request."""

from __future__ import annotations

import base64
import io
import logging
import time

import pytest
from PIL import Image

from server.tagging.base import Item, TaggingError
from server.tagging.config import build_options
from server.tagging.openai_api import ApiOptions, OpenAIApiBackend

from .chat_server import ChatServer

KEY = "sk-test-0123456789abcdef"


def backend(server: ChatServer, **overrides) -> OpenAIApiBackend:
    opts = {"preset": "custom", "base_url": server.base_url, "api_key": KEY, "model": "vision-1",
            "prompt": "Caption this.\nThe subject is {trigger}.", "retry_base_delay": 0.01, **overrides}
    b = OpenAIApiBackend(build_options(ApiOptions, None, opts))
    b.load()
    return b


@pytest.fixture
def photo(tmp_path) -> Item:
    path = tmp_path / "photo.png"
    Image.new("RGB", (2000, 1000), (200, 30, 30)).save(path)
    return Item.from_path(path)


def decoded_image(url: str) -> Image.Image:
    assert url.startswith("data:image/jpeg;base64,")
    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))


def test_request_carries_model_prompt_key_and_downscaled_image(photo):
    with ChatServer(caption="  a red banner  ") as server:
        b = backend(server, trigger="ohwx", image_max_side=512, max_tokens=77, temperature=0.5)
        assert b.caption(photo) == "a red banner"
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["headers"]["Authorization"] == f"Bearer {KEY}"
    body = req["body"]
    assert body["model"] == "vision-1" and body["max_tokens"] == 77 and body["temperature"] == 0.5
    (message,) = body["messages"]
    assert message["role"] == "user"
    text, picture = message["content"]
    assert text == {"type": "text", "text": "Caption this.\nThe subject is ohwx."}
    img = decoded_image(picture["image_url"]["url"])
    assert img.size == (512, 256)  # longest side capped, aspect kept


def test_openai_preset_uses_max_completion_tokens_and_local_servers_get_no_auth(photo):
    with ChatServer() as server:
        backend(server, preset="openai").caption(photo)
        backend(server, preset="ollama", api_key="").caption(photo)
    first, second = server.requests
    assert "max_completion_tokens" in first["body"] and "max_tokens" not in first["body"]
    assert "Authorization" not in second["headers"] and "max_tokens" in second["body"]


def test_missing_trigger_drops_the_line_that_needs_it(photo):
    with ChatServer() as server:
        backend(server).caption(photo)
    assert server.requests[0]["body"]["messages"][0]["content"][0]["text"] == "Caption this."


def test_429_is_retried_after_retry_after(photo):
    with ChatServer() as server:
        server.script = [(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "1"})]
        started = time.monotonic()
        assert backend(server).caption(photo) == server.caption
    assert len(server.requests) == 2
    assert server.requests[1]["at"] - server.requests[0]["at"] >= 0.9
    assert time.monotonic() - started < 10


def test_5xx_is_retried_with_backoff_then_reported(photo):
    with ChatServer() as server:
        server.script = [(503, b"upstream overloaded", {}), (500, {"error": {"message": "boom"}}, {})]
        assert backend(server).caption(photo) == server.caption
        assert len(server.requests) == 3
        server.script = [(502, {"error": {"message": "bad gateway"}}, {})] * 3
        result = backend(server, max_retries=2).run_one(photo)
    assert not result.ok and result.code == "http_error"
    assert result.error == "HTTP 502 after 2 retries: bad gateway"


def test_other_errors_are_not_retried_and_never_show_the_key(photo, caplog):
    caplog.set_level(logging.DEBUG)
    with ChatServer() as server:
        server.script = [(401, {"error": {"message": f"Incorrect API key provided: {KEY}."}}, {})]
        result = backend(server).run_one(photo)
    assert len(server.requests) == 1
    assert result.code == "unauthorized" and result.error.startswith("HTTP 401: Incorrect API key provided")
    assert KEY not in result.error and KEY[-4:] in result.error
    assert KEY not in caplog.text


@pytest.mark.parametrize("body, code, words", [
    ({"id": "x", "object": "chat.completion"}, "malformed_answer", "no choices[0].message.content"),
    (b"<html>gateway</html>", "malformed_answer", "not JSON"),
    ({"choices": [{"message": {"content": ""}, "finish_reason": "length"}]}, "empty_caption", "max tokens"),
    ({"error": {"message": "model overloaded"}}, "server_error", "model overloaded"),
])
def test_malformed_answers_are_reported_per_item(photo, body, code, words):
    with ChatServer() as server:
        server.script = [(200, body, {})]
        result = backend(server).run_one(photo)
    assert not result.ok and result.code == code and words in result.error


def test_parts_and_think_blocks_are_cleaned(photo):
    with ChatServer() as server:
        server.script = [(200, {"choices": [{"message": {"content": [
            {"type": "text", "text": "<think>hmm</think>A cat"}, {"type": "text", "text": " on a mat."}]}}]}, {})]
        assert backend(server).caption(photo) == "A cat on a mat."


def test_requests_run_in_parallel_up_to_the_limit(tmp_path):
    items = []
    for i in range(8):
        Image.new("RGB", (64, 64), (i * 30, 0, 0)).save(tmp_path / f"{i}.png")
        items.append(Item.from_path(tmp_path / f"{i}.png"))
    with ChatServer(delay=0.15) as server:
        results = list(backend(server, parallel=3).caption_many(items))
    assert sorted(r.item.id for r in results) == sorted(i.id for i in items)
    assert all(r.ok for r in results)
    assert 2 <= server.max_active <= 3


def test_unreachable_server_and_missing_key(photo):
    b = OpenAIApiBackend(build_options(ApiOptions, None, {"base_url": "http://127.0.0.1:9/v1", "api_key": KEY,
                                                         "timeout": 5}))
    result = b.run_one(photo)
    assert result.code == "unreachable" and "Cannot reach http://127.0.0.1:9/v1" in result.error
    with pytest.raises(TaggingError) as err:
        OpenAIApiBackend(build_options(ApiOptions, None, {"preset": "openai", "api_key": ""})).load()
    assert err.value.code == "api_key_missing"


def test_video_sends_evenly_spaced_frames(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(30):  # 3 s: red, green, blue seconds
            rgb = [(255, 0, 0), (0, 255, 0), (0, 0, 255)][i // 10]
            container.mux(stream.encode(av.VideoFrame.from_image(Image.new("RGB", (64, 48), rgb))))
        container.mux(stream.encode())
    with ChatServer() as server:
        backend(server, video_frames=3).caption(Item.from_path(path))
    content = server.requests[0]["body"]["messages"][0]["content"]
    assert content[0]["text"].startswith("The 3 images are frames from one video")
    colours = [decoded_image(part["image_url"]["url"]).convert("RGB").getpixel((32, 24)) for part in content[1:]]
    dominant = [max(range(3), key=lambda c: px[c]) for px in colours]
    assert dominant == [0, 1, 2]  # frames at 0.75 s, 1.5 s, 2.25 s: one from each colour
