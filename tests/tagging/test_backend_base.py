"""The backend base class: one failing item never ends a run, and secrets never reach a message."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from server.tagging.base import Backend, Item, ItemError, TaggingError
from server.tagging.config import build_options
from server.tagging.openai_api import ApiOptions, OpenAIApiBackend
from server.tagging.registry import BACKENDS


class Flaky(Backend):
    name, label, media = "flaky", "Flaky", ("image",)

    def caption(self, item: Item) -> str:
        if item.id == "bug":
            raise RuntimeError("index out of range")
        if item.id == "bad":
            raise ItemError("cannot parse", code="bad_image")
        return f"tags of {item.id}"


def test_each_item_gets_a_result_whatever_goes_wrong():
    items = [Item("ok", Path("ok.png")), Item("bug", Path("bug.png")), Item("bad", Path("bad.png")),
             Item("clip", Path("clip.mp4"), kind="video")]
    results = {r.item.id: r for r in Flaky(None).caption_many(items)}
    assert results["ok"].caption == "tags of ok"
    assert results["bug"].code == "internal_error" and "RuntimeError: index out of range" in results["bug"].error
    assert results["bad"].code == "bad_image"
    assert results["clip"].code == "unsupported_media"


def test_a_key_with_a_line_break_is_refused_without_being_repeated(tmp_path):
    key = "sk-secret\nkey-987654321"
    b = OpenAIApiBackend(build_options(ApiOptions, None, {"api_key": key, "base_url": "http://127.0.0.1:9"}))
    with pytest.raises(TaggingError) as err:
        b.load()
    assert err.value.code == "api_key_invalid"
    path = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(path)
    result = b.run_one(Item.from_path(path))  # even when load() was skipped
    assert result.code == "bad_request" and "sk-secret" not in result.error and "key-98" not in result.error


def test_every_backend_declares_what_the_ui_needs():
    for cls in BACKENDS.values():
        info = cls.describe()
        assert info["output_kind"] in ("tags", "text") and info["label"] and cls.short_label
