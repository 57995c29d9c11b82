"""No English sentence on a zh-CN screen where things went wrong (issue 13, item 6): a failed job says why in
Chinese (job.err.<code>, the raw error apart as a detail in <code>), the model library's problem lines under
a broken model file are Chinese (models.detail.<code> from the problem's details), and so is the reason the
create form gives when the trainer is not ready (the problem's rt.detail line)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, shot, skip_first_run
from tests.browser.screen_text import assert_no_english
from tests.live import LiveApp
from tests.models.helpers import qwen_dit, write_st

ENV = "[data-testid=trainer-env]"


@pytest.fixture
def unreachable_archive_app(tmp_path):
    """No git, no GPU, and a musubi-tuner archive URL nothing answers on: Set up fails at its download."""
    app = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none", "LORA_WORKBENCH_NVIDIA_DRIVER": "none",
                                          "LORA_WORKBENCH_GIT": "none"}).wait_ready()
    app.call("PATCH", "/api/settings", {"first_run_done": True, "musubi_dir": str(tmp_path / "app" / "musubi-tuner"),
                                        "musubi_archive_url": "http://127.0.0.1:1/archive/{commit}.zip"})
    yield app
    app.stop()


def test_a_failed_setup_job_says_why_in_chinese(browser, unreachable_archive_app):
    app = unreachable_archive_app
    page = new_page(browser, app, language="zh-CN")
    page.goto(app.base + "/#/settings?section=trainer")
    env = page.locator(ENV)
    setup = env.locator("[data-testid=rt-setup]")
    expect(setup).to_be_enabled(timeout=30000)
    setup.click()
    page.click("[data-testid=confirm-ok]")
    job = env.locator("[data-testid=rt-job]")
    expect(job.locator("[data-testid=job-status]")).to_have_text("失败", timeout=60000)
    error = job.locator("[data-testid=job-error]")
    expect(error).to_have_attribute("data-code", "rt_download_failed")
    expect(error).to_contain_text("下载 musubi-tuner 失败。")
    # the raw error stays available as the detail, in <code>
    expect(error.locator("code")).to_contain_text("127.0.0.1:1")
    assert_no_english(page, ENV)
    error.scroll_into_view_if_needed()
    shot(page, "failed-setup-job-zh")
    assert not page.errors, page.errors


def test_model_library_problem_lines_of_broken_files_are_chinese(page, live, tmp_path):
    cut = write_st(tmp_path / "qwen_image_bf16.safetensors", {"w": ("BF16", [64, 64])}, cut=100)
    fp8 = qwen_dit(tmp_path / "qwen_image_fp8_e4m3fn_scaled.safetensors", fp8_scaled=True)
    page.goto(live.base + "/#/settings")
    lib = page.locator("[data-testid=model-library]")
    page.click("[data-testid=model-tab-qwen-image-lora]")
    dit = lib.locator('[data-testid="model-row-qwen-image-lora.dit"]')
    dit.locator("[data-testid=model-path]").fill(str(cut))
    dit.locator("[data-testid=model-path]").press("Tab")
    problem = dit.locator("[data-testid=model-problem][data-code=truncated]")
    expect(problem.locator("[data-testid=model-problem-detail]")).to_contain_text("下载被中断了")
    assert_no_english(page, "[data-testid=model-library]")
    shot(page, "model-library-truncated-zh")
    dit.locator("[data-testid=model-path]").fill(str(fp8))
    dit.locator("[data-testid=model-path]").press("Tab")
    problem = dit.locator("[data-testid=model-problem][data-code=qwen_fp8_dit]")
    expect(problem.locator("[data-testid=model-problem-detail]")).to_contain_text("fp8_scaled 版的 Qwen-Image DiT")
    assert_no_english(page, "[data-testid=model-library]")
    assert not page.errors, page.errors


def test_create_without_a_trainer_says_why_in_chinese(browser, tmp_path):
    from tests.browser.test_training import open_page, setup_trainer

    live = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none"}).wait_ready()
    try:
        skip_first_run(live)
        ds_id, models = setup_trainer(live, tmp_path)
        empty = tmp_path / "no-trainer"
        empty.mkdir()
        live.call("PATCH", "/api/settings", {"musubi_dir": str(empty), "musubi_python": str(empty / "python.exe")})
        page = open_page(browser, live, "/tasks/new", locale="zh-CN")
        page.fill("[data-testid=task-name]", "No trainer")
        for key, path in models.items():
            page.fill(f"[data-testid=model-{key}]", path)
        page.select_option("[data-testid=dataset-select]", ds_id)
        page.fill("[data-testid=duration-value]", "2")
        page.click("[data-testid=create-task]")
        banner = page.locator("[data-testid=error-banner][data-code=trainer_not_ready]")
        expect(banner).to_contain_text(f"在 {empty} 没有找到 musubi-tuner")
        assert_no_english(page, "[data-testid=error-banner]")
        assert not page.errors, page.errors
        page.context.close()
    finally:
        live.stop()
