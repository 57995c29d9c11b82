"""HiDream-O1 and Ideogram 4 in the browser (issue 17): the create form offers their variants and FramePack
one-frame's no_2x/no_4x cache options in both languages, a HiDream-O1 run shows its pixel-cache stage, and its
checkpoints offer no ComfyUI conversion (musubi's converter breaks its module names)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_shell import assert_no_raw_keys
from tests.browser.test_training import open_page, setup_trainer, trainer_live  # noqa: F401 - the fixture
from tests.live import wait_for
from tests.models.helpers import write_st


def test_hidream_form_run_and_no_conversion(browser, trainer_live, tmp_path):  # noqa: F811
    live = trainer_live
    ds_id, _ = setup_trainer(live, tmp_path, images=2)
    page = open_page(browser, live, "/tasks/new", locale="zh-CN")
    expect(page.locator("[data-testid=task-type]")).to_be_visible()
    page.select_option("[data-testid=task-type]", "hidream-o1-lora")
    expect(page.locator("#f-variant option")).to_have_text(["Full 文生图", "Full 图生图", "Dev 文生图", "Dev 图生图"])
    expect(page.locator("#f-training-network_type")).to_have_count(0)   # LoRA only
    assert_no_raw_keys(page)
    page.select_option("[data-testid=task-type]", "ideogram4-lora")
    assert_no_raw_keys(page)
    page.select_option("[data-testid=task-type]", "framepack-1f-lora")
    page.click("[data-testid=grp-advanced] summary")
    expect(page.locator("[data-field='training.one_frame_no_2x']")).to_contain_text("2x")
    assert_no_raw_keys(page)

    dit = write_st(tmp_path / "hidream_o1_image_bf16.safetensors",
                   {"model.language_model.layers.0.mlp.up_proj.weight": ("BF16", [8, 8])})
    task = live.call("POST", "/api/tasks", {
        "name": "O1", "task_type": "hidream-o1-lora", "variant": "full-t2i", "dataset_id": ds_id,
        "models": {"dit": str(dit)}, "vram_preset": "high", "training": {"max_train_epochs": 1}})["task"]
    live.call("POST", f"/api/tasks/{task['id']}/start")
    wait_for(lambda: live.call("GET", f"/api/tasks/{task['id']}")["task"]["status"] == "done", timeout=60)
    page.goto(live.base + f"/#/tasks/{task['id']}")
    expect(page.locator("[data-testid=checkpoint-row]")).to_have_count(1, timeout=10_000)
    expect(page.locator("[data-testid=convert-unsupported]")).to_contain_text("ComfyUI")
    expect(page.locator("[data-testid=convert]")).to_have_count(0)
    expect(page.locator("[data-testid=convert-target]")).to_have_count(0)
    assert_no_raw_keys(page)
