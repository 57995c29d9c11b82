"""The setting kinds SettingField gained for the tagging card, in a real browser: a secret (typed, then only
shown as the server masks it, removed), a block of numbers (a refusal under the block, its field marked),
and a score's slider with its number."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_tagging import fill_and_leave, open_settings
from tests.live import wait_for


def saved(live, key):
    return live.call("GET", "/api/settings")["settings"][key]


def test_secret_block_and_score_fields(page, live):
    open_settings(page, live)
    page.click("[data-testid=tag-backend-openai_api]")

    key = page.locator("#tg-tagging_api_key")
    fill_and_leave(page, "#tg-tagging_api_key", "sk-abcdefgh1234")
    masked = page.locator("[data-testid=setting-tagging_api_key-saved]")
    expect(masked).to_have_text("••••••1234")
    expect(key).to_have_value("")
    expect(key).to_have_attribute("placeholder", "Type a new key to replace the saved one")
    assert "sk-abcdefgh1234" not in page.content()
    page.click("[data-testid=setting-tagging_api_key-clear]")
    expect(masked).to_have_count(0)
    expect(key).to_have_attribute("placeholder", "Paste your API key")
    wait_for(lambda: saved(live, "tagging_api_key") == "", what="the key removed")

    fill_and_leave(page, "#tg-tagging_api_parallel", "99")
    error = page.locator("[data-testid=field-error]", has_text="tagging_api_parallel")
    expect(error).to_contain_text("from 1 to 32")
    expect(page.locator("label.num.bad #tg-tagging_api_parallel")).to_have_count(1)
    fill_and_leave(page, "#tg-tagging_api_parallel", "8")
    expect(error).to_have_count(0)
    expect(page.locator("label.num.bad")).to_have_count(0)
    assert saved(live, "tagging_api_parallel") == 8

    page.click("[data-testid=tag-backend-wd14]")
    page.locator("input[type=range][aria-label='General threshold']").fill("0.6")
    expect(page.locator("#tg-tagging_wd14_general_threshold")).to_have_value("0.6")
    wait_for(lambda: saved(live, "tagging_wd14_general_threshold") == 0.6, what="the slider's value saved")
    assert not page.errors, page.errors
