"""The pre-flight check in the UI (issue 15): on the create-task page beside the VRAM estimate, linking its
findings to the dataset grid (names filter), on the dataset page, and the estimate's error with what was
trained in the task detail after a run (stand-in trainer)."""

from __future__ import annotations

from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_shell import assert_no_raw_keys
from tests.browser.test_training import open_page, setup_trainer, task_config, trainer_live  # noqa: F401
from tests.live import wait_for


def _add_uncaptioned(live, ds_id, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    Image.new("RGB", (300, 200), "purple").save(folder / "Draft 1.png")   # no caption: musubi leaves it out
    job = live.call("POST", f"/api/datasets/{ds_id}/import", {"source": "folder", "path": str(folder)})["job"]
    wait_for(lambda: live.call("GET", f"/api/jobs/{job['id']}")["job"]["status"] == "done")


def test_preflight_on_the_create_page_links_to_the_grid(browser, trainer_live, tmp_path):  # noqa: F811
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    _add_uncaptioned(live, ds_id, tmp_path)
    page = open_page(browser, live, "/tasks/new")
    page.select_option("[data-testid=dataset-select]", ds_id)
    finding = page.locator("[data-testid=finding][data-code=image_caption_missing]")
    expect(finding).to_contain_text("Draft 1.png")
    expect(page.locator("[data-testid=bucket-row]")).to_have_count(1)           # 3 square images, one bucket
    expect(page.locator("[data-testid=bucket-totals]")).to_contain_text("3 items per epoch")
    expect(page.locator("[data-testid=time-estimate]")).to_be_visible()
    expect(page.locator("[data-testid=form-time-estimate]")).to_be_visible()   # beside the VRAM estimate
    assert_no_raw_keys(page)

    finding.locator("[data-testid=finding-show]").click()
    expect(page.locator("[data-testid=names-filter]")).to_be_visible()
    expect(page.locator("[data-testid=item-card]")).to_have_count(1)
    expect(page.locator("[data-testid=item-card]")).to_have_attribute("data-name", "Draft 1.png")
    page.click("[data-testid=names-filter-clear]")
    expect(page.locator("[data-testid=item-card]")).to_have_count(4)

    # The dataset page's own check, in Chinese.
    page.select_option("[data-testid=lang-select]", "zh-CN")
    page.click("[data-testid=dataset-preflight] summary")
    expect(page.locator("[data-testid=dataset-preflight] [data-testid=finding][data-code=image_caption_missing]")
           ).to_contain_text("会被悄悄排除")
    expect(page.locator("[data-testid=dataset-preflight] [data-testid=bucket-table]")).to_contain_text("分桶")
    # (the grid's file names look like keys to assert_no_raw_keys: check the panel's own text)
    assert "preflight." not in page.locator("[data-testid=dataset-preflight]").inner_text()
    page.close()


def test_task_detail_shows_the_estimate_against_the_time_taken(browser, trainer_live, tmp_path):  # noqa: F811
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    task = live.call("POST", "/api/tasks", task_config(ds_id, models, epochs=1, repeats=1))["task"]
    live.call("POST", f"/api/tasks/{task['id']}/start", {})
    wait_for(lambda: live.call("GET", f"/api/tasks/{task['id']}")["task"]["status"] == "done", timeout=60)
    page = open_page(browser, live, f"/tasks/{task['id']}")
    expect(page.locator("[data-testid=run-took]")).to_contain_text("Estimated")
    expect(page.locator("[data-testid=run-took]")).to_contain_text("took")
    expect(page.locator("[data-testid=accounting-same]")).to_contain_text("3 items")
    assert_no_raw_keys(page)
    page.close()
