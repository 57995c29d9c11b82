"""Pure pieces: caption post-processing and write modes, options from settings, Retry-After, prompts."""

from __future__ import annotations

import email.utils
import time

import pytest

from server.errors import ValidationError
from server.store import Store
from server.tagging.config import build_options
from server.tagging.http_client import RetryPolicy, mask_in, parse_retry_after
from server.tagging.openai_api import ApiOptions
from server.tagging.postprocess import PostProcess, clean, merge
from server.tagging.prompt import render_prompt


def test_tags_are_stripped_deduplicated_and_blacklisted_in_any_spelling():
    pp = PostProcess(blacklist=("long_hair", "Watermark"))
    assert clean(" solo ,, Long Hair, solo, watermark , red eyes", "tags", pp) == "solo, red eyes"
    assert clean("solo, solo", "tags", PostProcess(dedupe=False)) == "solo, solo"


def test_text_is_one_tidy_paragraph_and_blacklist_is_whole_words():
    pp = PostProcess(blacklist=("cat",))
    assert clean("A cat sat.\n\nThe category  is  , , odd .", "text", pp) == "A sat. The category is, odd."


@pytest.mark.parametrize("mode, current, new, kind, expected", [
    ("overwrite", "old", "new words", "text", "ohwx, new words"),
    ("only_empty", "old", "new", "tags", "old"),
    ("only_empty", "  ", "a, b", "tags", "ohwx, a, b"),
    ("append", "ohwx, a, b", "b, c, OHWX", "tags", "ohwx, a, b, c"),
    ("append", "first part.", "second part.", "text", "ohwx, first part. second part."),
    ("append", None, "x", "tags", "ohwx, x"),
])
def test_write_modes_with_trigger(mode, current, new, kind, expected):
    assert merge(mode, current, new, kind, PostProcess(trigger="ohwx")) == expected


def test_no_trigger_prefix_when_not_asked():
    assert merge("overwrite", None, "a, b", "tags", PostProcess(trigger="ohwx", prefix_trigger=False)) == "a, b"


def test_prompt_template_trigger():
    template = "Describe the image.\nThe person is {trigger}; call them {trigger}."
    assert render_prompt(template, "Anna") == "Describe the image.\nThe person is Anna; call them Anna."
    assert render_prompt(template, "") == "Describe the image."
    assert render_prompt("Use {braces} {trigger}", "x") == "Use {braces} x"


def test_options_come_from_settings_with_validated_overrides(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.set_setting("tagging_api_key", "sk-saved-123456789")
    store.set_setting("tagging_api_model", "saved-model")
    opts = build_options(ApiOptions, store, {"api_key": "••••••6789", "parallel": 8})
    assert (opts.api_key, opts.model, opts.parallel) == ("sk-saved-123456789", "saved-model", 8)
    assert "sk-saved" not in repr(opts)
    assert build_options(ApiOptions, store, {"api_key": "sk-new-key-0000"}).api_key == "sk-new-key-0000"
    with pytest.raises(ValidationError) as err:
        build_options(ApiOptions, store, {"parallel": 0})
    assert err.value.details["field"] == "parallel"
    with pytest.raises(ValidationError):
        build_options(ApiOptions, store, {"base_url": "ftp://x"})
    store.close()


def test_retry_after_forms_and_backoff():
    assert parse_retry_after("3") == 3.0 and parse_retry_after(None) is None and parse_retry_after("soon") is None
    date = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3 <= parse_retry_after(date) <= 5
    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=30)
    assert policy.delay(0, 7.0) == 7.0 and 1.0 <= policy.delay(0, None) <= 1.25
    assert 8.0 <= policy.delay(3, None) <= 10.0 and policy.delay(10, None) == 30


def test_mask_in_hides_the_whole_key():
    assert mask_in("key sk-abcdef123456 was wrong", "sk-abcdef123456") == "key ••••••3456 was wrong"
