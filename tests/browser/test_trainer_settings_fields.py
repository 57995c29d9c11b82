"""The trainer environment's own settings are fields of the served schema (SettingField.svelte): the folder is
picked with the browse button its schema entry asks for (`pick`), a save starts a new check of the environment,
and the torch builds' texts are the setting's choice texts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.live import wait_for


@pytest.mark.language("en")
def test_the_trainer_folder_is_browsed_saved_and_checked(page, live, tmp_path):
    root = tmp_path / "roots"
    (root / "tools" / "musubi-tuner").mkdir(parents=True)
    live.call("PATCH", "/api/settings", {"browse_roots": [str(root)]})
    page.goto(live.base + "/#/settings")
    env = page.locator("[data-testid=trainer-env]")
    expect(env.locator("[data-testid=rt-musubi-dir]")).not_to_contain_text(str(root))

    # no native dialog in a browser: the server's folder browser, for a folder
    env.locator("summary", has_text="Use my own").click()
    env.locator("[data-testid=browse-musubi_dir]").click()
    browser_dialog = page.locator("[data-testid=file-browser]")
    browser_dialog.locator("[data-testid=fb-entry][data-name=tools]").click()
    browser_dialog.locator("[data-testid=fb-entry][data-name=musubi-tuner]").click()
    expect(browser_dialog.locator("[data-testid=fb-path]")).to_have_text(str(root / "tools" / "musubi-tuner"))
    page.click("[data-testid=fb-choose]")
    expect(browser_dialog).to_have_count(0)

    folder = str(root / "tools" / "musubi-tuner")
    expect(env.locator("[data-testid=setting-musubi_dir]")).to_have_value(folder)
    wait_for(lambda: live.call("GET", "/api/settings")["settings"]["musubi_dir"] == folder, 15, "the folder saved")
    # the save started a new check: the environment is looked for there now
    expect(env.locator("[data-testid=rt-musubi-dir]")).to_have_text(folder, timeout=30000)
    expect(env.locator("[data-testid=setting-musubi_python]")).to_have_attribute(
        "placeholder", "Default: .venv inside the musubi-tuner folder")

    build = env.locator("[data-testid=setting-musubi_cuda_extra]")
    expect(build.locator("option[value=cpu]")).to_have_text("CPU only (cpu)")
    expect(build.locator("option[value=auto]")).to_contain_text("Automatic (")
    assert not page.errors, page.errors
