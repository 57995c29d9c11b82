"""The file picker and the dataset type help list the server's media table (GET /api/meta), .flv included."""

from __future__ import annotations

from playwright.sync_api import expect

from server.media_types import IMAGE_EXTS, VIDEO_EXTS
from tests.browser.test_datasets import create_dataset, english


def test_picker_and_type_help_come_from_the_server_table(page, live):
    english(page)
    ds_id = create_dataset(page)
    page.goto(page.url.split("#")[0] + f"#/datasets/{ds_id}")
    accept = page.locator("[data-testid=file-input]")
    expect(accept).to_have_attribute("accept", ",".join(
        "." + e for e in [*sorted(x[1:] for x in IMAGE_EXTS), *sorted(x[1:] for x in VIDEO_EXTS), "txt", "zip"]))
    page.click("a[href='#/datasets']")
    page.locator(f"[data-testid=dataset-row][data-id={ds_id}] [data-testid=dataset-settings]").click()
    expect(page.locator("[data-testid=type-help]")).to_contain_text("(avif, bmp, jpeg, jpg, png, webp)")
    page.select_option("[data-testid=editor-type]", "video")
    expect(page.locator("[data-testid=type-help]")).to_contain_text("(avi, flv, mkv, mov, mp4, webm)")
