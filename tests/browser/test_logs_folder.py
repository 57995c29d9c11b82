"""The Windows executable has no console: Settings is where the log folder is opened from."""

from playwright.sync_api import expect


def test_settings_opens_the_log_folder(page, live):
    page.goto(live.base + "/#/settings")
    page.select_option("[data-testid=lang-select]", "en")
    button = page.locator("[data-testid=open-logs]")
    expect(button).to_have_text("Open log folder")
    expect(page.locator("[data-testid=settings-general]")).to_contain_text("app.log")
    expect(page.locator("[data-testid=data-dir-fallback]")).to_have_count(0)  # the folder was writable
    button.click()
    logs = str(live.data_dir / "logs")
    # where no file manager can start here, the server's error names the folder instead
    expect(page.locator("[data-testid=settings-notice]").or_(page.locator("[data-testid=error-banner]"))
           ).to_contain_text(logs)
    assert (live.data_dir / "logs" / "app.log").is_file()
