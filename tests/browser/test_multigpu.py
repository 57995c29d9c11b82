"""One task on two GPUs in the create-task page (issue 18): the VRAM estimate is per GPU and is held against the
chosen GPU with the least free memory (the top bar follows that one), and the pre-flight panel shows how musubi
splits the epoch's batches between the GPUs."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_shell import assert_no_raw_keys
from tests.browser.test_training import gpu_live, open_page, setup_trainer  # noqa: F401


def test_two_gpus_show_a_per_gpu_estimate_and_the_split_batches(browser, gpu_live, tmp_path):  # noqa: F811
    live = gpu_live
    ds_id, _ = setup_trainer(live, tmp_path)
    page = open_page(browser, live, "/tasks/new")
    page.select_option("[data-testid=dataset-select]", ds_id)
    page.click("[data-testid=vram-preset] [data-preset=low]")
    # GPU 1 alone (the 3060, 11.6 GB free): the low preset's 12.3 GB does not fit it either, the top bar shows it
    page.check("[data-testid=gpu-1]")
    page.uncheck("[data-testid=gpu-0]")   # (the last GPU cannot be unticked: GPU 1 first)
    expect(page.locator("[data-testid=gpu-summary]")).to_contain_text("RTX 3060")
    expect(page.locator("[data-testid=form-estimate]")).not_to_contain_text("GPUs")
    expect(page.locator("[data-testid=bucket-gpus]")).to_have_count(0)
    # both: each GPU holds the whole model; the 4090 with ~6 GB free is the one that decides
    page.check("[data-testid=gpu-0]")
    expect(page.locator("[data-testid=form-estimate]")).to_contain_text("on each of 2 GPUs")
    expect(page.locator("[data-testid=form-estimate]")).to_have_class(re.compile("over"))
    expect(page.locator("[data-testid=gpu-summary]")).to_contain_text("RTX 4090")
    # 3 images a batch each: 3 batches an epoch, 2 per GPU (musubi: ceil(3 / 2)), a step trains 2 items
    expect(page.locator("[data-testid=bucket-gpus]")).to_contain_text("2 GPUs, one process each: 2 batches per GPU")
    expect(page.locator("[data-testid=bucket-gpus]")).to_contain_text("a step trains 2 items")
    assert_no_raw_keys(page)
    page.select_option("[data-testid=lang-select]", "zh-CN")
    expect(page.locator("[data-testid=form-estimate]")).to_contain_text("每块显卡")
    expect(page.locator("[data-testid=bucket-gpus]")).to_contain_text("2 块显卡")
    page.close()
