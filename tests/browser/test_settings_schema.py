"""The settings cards built from the served schema (SettingField.svelte): language, theme and the folder
browser's roots in the General card, the trainer's download sources; a server error shows under the field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.live import wait_for


@pytest.mark.language("en")
def test_general_card_is_built_from_the_schema(page, live, tmp_path):
    page.goto(live.base + "/#/settings")
    general = page.locator("[data-testid=settings-general]")
    # choices and their texts come from the schema (choice_key + choice)
    expect(general.locator("#set-theme option")).to_have_text(["Follow system", "Light", "Dark"])
    expect(general.locator("label[for=set-browse_roots]")).to_be_visible()

    roots = general.locator("[data-testid=setting-browse_roots]")
    roots.fill("relative/folder")
    roots.press("Tab")  # saved when the field is left; the server refuses a relative path, under the field
    expect(general.locator("[data-testid=field-error][data-field=set-browse_roots]")).to_contain_text("absolute")
    assert live.call("GET", "/api/settings")["settings"]["browse_roots"] == []

    folder = tmp_path / "models"
    roots.fill(f"{folder}\n\n{folder}")
    roots.press("Tab")  # a list of lines, repeats dropped by the server and shown as saved
    wait_for(lambda: live.call("GET", "/api/settings")["settings"]["browse_roots"] == [str(folder)])
    expect(general.locator("[data-testid=field-error]")).to_have_count(0)
    expect(roots).to_have_value(str(folder))

    page.select_option("#set-language", "zh-CN")  # the side effect of the language key still applies
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(general.locator("#set-theme option").first).to_have_text("跟随系统")
    assert not page.errors, page.errors
