"""Training pages in headless Chromium against the stand-in trainer (tests/standin/fake_musubi).

The app is the real launcher; its musubi_dir / musubi_python settings point at the stand-in, which
prints what musubi prints and writes musubi's checkpoint and sample names at a pace set by
FAKE_MUSUBI_STEP_S. A dataset is made through the HTTP API; everything else happens in the UI.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.conftest import new_page, shot, skip_first_run
from tests.browser.test_shell import assert_no_raw_keys
from tests import hub_cache
from tests.models.helpers import qwen_dit, qwen_model_files, write_st
from tests.live import LiveApp, wait_for

STANDIN = Path(__file__).resolve().parents[1] / "standin" / "fake_musubi"


# --- helpers -------------------------------------------------------------------------------------


def setup_trainer(live, tmp_path: Path, images: int = 3) -> tuple[str, dict]:
    """Point the app at the stand-in trainer, make an image dataset and fake model files."""
    live.call("PATCH", "/api/settings", {"musubi_dir": str(STANDIN), "musubi_python": sys.executable})
    hub_cache.seed(live.data_dir)   # tokenizers "already downloaded" (server/training/hub_tokenizers.py)
    ds = live.call("POST", "/api/datasets", {"name": "Cats", "type": "image"})["dataset"]
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(images):
        Image.new("RGB", (64, 64), ["red", "green", "blue", "orange"][i % 4]).save(folder / f"cat{i}.png")
        (folder / f"cat{i}.txt").write_text(f"a photo of sks cat {i}", encoding="utf-8")
    job = live.call("POST", f"/api/datasets/{ds['id']}/import", {"source": "folder", "path": str(folder)})["job"]
    wait_for(lambda: live.call("GET", f"/api/jobs/{job['id']}")["job"]["status"] == "done")
    return ds["id"], qwen_model_files(tmp_path / "models")


def task_config(ds_id, models, name="API task", epochs=6, repeats=10):
    return {"name": name, "task_type": "qwen-image-lora", "dataset_id": ds_id, "models": models,
            "vram_preset": "low", "training": {"max_train_epochs": epochs}, "dataset": {"num_repeats": repeats},
            "samples": {"every_n_epochs": 1, "prompts": [{"prompt": "a photo of sks cat", "seed": 1}]}}


def terminal_text(page) -> str:
    return page.locator("[data-testid=terminal] .xterm-rows").inner_text()


def open_page(browser, live, hash_path="", locale="en"):
    pg = new_page(browser, live, language=locale)
    if hash_path:
        pg.goto(live.base + "/#" + hash_path)
    return pg


@pytest.fixture
def trainer_live(tmp_path):
    """The app with no GPU (provider none) and a stand-in trainer slow enough to watch."""
    env = {"LORA_WORKBENCH_GPU_PROVIDER": "none", "FAKE_MUSUBI_STEP_S": "0.12"}
    app = LiveApp(tmp_path / "data", env=env).wait_ready()
    skip_first_run(app)
    yield app
    app.stop()


RECORDED = [
    [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-0", "memory_total_mb": 24564, "memory_used_mb": 18200,
      "utilization_pct": 97, "temperature_c": 66, "fan_pct": 58, "memory_clock_mhz": 10501, "power_w": 402.5,
      "power_limit_w": 450.0},
     {"index": 1, "name": "NVIDIA GeForce RTX 3060", "uuid": "GPU-1", "memory_total_mb": 12288, "memory_used_mb": 400,
      "utilization_pct": 0, "temperature_c": 38, "fan_pct": 30, "memory_clock_mhz": 405, "power_w": 14.0,
      "power_limit_w": 170.0}],
    [{"index": 0, "name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-0", "memory_total_mb": 24564, "memory_used_mb": 18300,
      "utilization_pct": 99, "temperature_c": 66, "fan_pct": 60, "memory_clock_mhz": 10501, "power_w": 410.0,
      "power_limit_w": 450.0},
     {"index": 1, "name": "NVIDIA GeForce RTX 3060", "uuid": "GPU-1", "memory_total_mb": 12288, "memory_used_mb": 400,
      "utilization_pct": 1, "temperature_c": 38, "fan_pct": 30, "memory_clock_mhz": 405, "power_w": 14.5,
      "power_limit_w": 170.0}],
]


@pytest.fixture
def gpu_live(tmp_path):
    readings = tmp_path / "gpu-readings.json"
    readings.write_text(json.dumps(RECORDED), encoding="utf-8")
    env = {"LORA_WORKBENCH_GPU_PROVIDER": f"recorded:{readings}", "FAKE_MUSUBI_STEP_S": "0.12"}
    app = LiveApp(tmp_path / "data", env=env).wait_ready()
    skip_first_run(app)
    yield app
    app.stop()


# --- tests ---------------------------------------------------------------------------------------

def test_create_watch_stop_and_delete(browser, trainer_live, tmp_path):
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    page = open_page(browser, live, "/tasks/new")

    # The form opens directly, built from the task-type table.
    expect(page.locator("[data-testid=task-type]")).to_be_visible()
    expect(page.locator("[data-testid=no-gpu-note]")).to_be_visible()
    page.fill("[data-testid=task-name]", "Cat LoRA")
    for key, path in models.items():
        page.fill(f"[data-testid=model-{key}]", path)
    expect(page.locator("[data-testid=model-ok]")).to_have_count(3)
    page.fill("[data-testid=model-dit]", models["dit"] + ".missing")
    expect(page.locator("[data-testid=model-missing]")).to_be_visible()
    page.fill("[data-testid=model-dit]", models["dit"])
    page.select_option("[data-testid=dataset-select]", ds_id)
    page.fill("#f-dataset-num_repeats", "10")
    page.fill("[data-testid=duration-value]", "6")
    page.locator("[data-testid=duration-value]").press("Tab")

    # VRAM preset: choosing one sets its fields; editing one of them switches to custom.
    # The figures are the server's (asked a moment after each change): the top bar settles on the one the
    # preset's button showed.
    estimate = page.locator("[data-testid=vram-estimate]")
    page.click("[data-testid=vram-preset] [data-preset=high]")
    expect(page.locator("[data-preset=high] small")).to_have_text(re.compile(r"≈ \d+\.\d GB"))
    high = page.locator("[data-preset=high] small").inner_text()
    expect(estimate).to_have_text(high)
    page.click("[data-testid=vram-preset] [data-preset=low]")
    expect(page.locator("[data-preset=low]")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#f-training-blocks_to_swap")).to_have_value("45")
    low = page.locator("[data-preset=low] small").inner_text()
    assert low != high
    expect(estimate).to_have_text(low)
    page.fill("#f-training-blocks_to_swap", "20")
    expect(page.locator("[data-preset=custom]")).to_have_attribute("aria-checked", "true")
    expect(estimate).not_to_have_text(low)

    # "?" help for a field.
    page.locator("[data-field='training.learning_rate'] [data-testid=help-button]").click()
    expect(page.locator("[data-testid=help-text]")).to_contain_text("Typical LoRA values")
    page.keyboard.press("Escape")

    # A sample prompt, then the command preview shows the exact train command.
    page.click("[data-testid=add-prompt]")
    page.fill("[data-testid=sample-prompt-text]", "a photo of sks cat on a sofa")
    page.click("[data-testid=preview-button]")
    train = page.locator("[data-testid=argv-train]")
    expect(train).to_contain_text("--blocks_to_swap 20")
    expect(train).to_contain_text("--sample_every_n_epochs 1")
    expect(page.locator("[data-testid=preview-file]")).to_contain_text("num_repeats = 10")
    shot(page, "training-en-preview")
    page.keyboard.press("Escape")
    expect(train).to_have_count(0)

    # An extra argument the trainer does not know is refused, naming the field.
    page.click("[data-testid=grp-advanced] summary")
    page.fill("[data-testid=extra-args]", "--no_such_flag 1")
    page.click("[data-testid=create-task]")
    expect(page.locator("[data-field=extra_args] [data-testid=field-error]")).to_contain_text("no_such_flag")
    page.fill("[data-testid=extra-args]", "")
    shot(page, "training-en-create")

    page.click("[data-testid=create-task]")
    expect(page).to_have_url(re.compile(r"#/tasks$"))
    row = page.locator("[data-testid=task-row]").first
    expect(row.locator("[data-testid=task-link]")).to_have_text("Cat LoRA")
    expect(row).to_have_attribute("data-status", "running", timeout=15_000)
    steps = row.locator("[data-testid=task-steps]")
    expect(steps).to_contain_text(re.compile(r"^\d+/180$"), timeout=20_000)
    first = steps.inner_text()
    expect(steps).not_to_have_text(first, timeout=10_000)
    expect(row.locator("[data-testid=task-speed]")).to_contain_text("it/s")
    expect(row.locator("[data-testid=task-gpu]")).to_have_text("GPU 0")
    shot(page, "training-en-list")

    # Task page: vitals, live terminal, a sample and a checkpoint appear.
    row.locator("[data-testid=task-link]").click()
    expect(page.locator("[data-testid=task-title]")).to_have_text("Cat LoRA")
    expect(page.locator("[data-testid=stat-speed]")).to_contain_text("it/s", timeout=15_000)
    wait_for(lambda: "steps:" in terminal_text(page), timeout=15)
    before = terminal_text(page)
    wait_for(lambda: terminal_text(page) != before, timeout=10)
    expect(page.locator("[data-testid=sample-thumb]").first).to_be_visible(timeout=20_000)
    # The stand-in writes real PNGs: the thumbnails are pictures (1024 x 1024 prompt -> 192 px).
    thumb = page.locator("[data-testid=sample-thumb] img").first
    wait_for(lambda: thumb.evaluate("img => img.complete && img.naturalWidth") == 192, timeout=10)
    expect(page.locator("[data-testid=stat-gpu]")).to_have_text("GPU 0")  # no GPU monitor: the index
    expect(page.locator("[data-testid=checkpoint-row]").first).to_be_visible(timeout=20_000)
    expect(page.locator("[data-testid=checkpoint-row][data-file='Cat_LoRA-000001.safetensors']")).to_be_visible()
    wait_for(lambda: "epoch 2/6" in terminal_text(page), timeout=15)
    expect(page.locator("[data-testid=loss-plot]")).to_be_visible(timeout=10_000)
    shot(page, "training-en-detail")

    # The large viewer moves across steps with the keyboard.
    page.locator("[data-testid=sample-thumb]").first.click()
    viewer = page.locator("[data-testid=sample-viewer]")
    expect(viewer).to_be_visible()
    wait_for(lambda: page.locator("[data-testid=viewer-image]").evaluate("img => img.naturalWidth") == 192, timeout=10)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    page.locator("[data-testid=convert-target]").scroll_into_view_if_needed()
    expect(page.locator("[data-testid=convert-target]")).to_contain_text("ComfyUI / Diffusers format")
    expect(page.locator("[data-testid=convert-target]")).to_contain_text("musubi-tuner format")
    shot(page, "training-en-outputs")

    # Stop, then delete (keeping the files) through the confirmation dialog.
    page.click("[data-testid=action-stop]")
    expect(page.locator("[data-testid=task-status]")).to_have_attribute("data-status", "stopped", timeout=20_000)
    task_id = page.url.rsplit("/", 1)[-1]
    folder = Path(live.data_dir) / "tasks" / task_id
    page.click("[data-testid=action-delete]")
    expect(page.locator("[data-testid=confirm-message]")).to_contain_text("Keep the trained files")
    page.click("[data-testid=confirm-choice-keep]")
    expect(page).to_have_url(re.compile(r"#/tasks$"))
    expect(page.locator("[data-testid=task-row]")).to_have_count(0)
    assert (folder / "output" / "Cat_LoRA-000001.safetensors").is_file()
    assert not page.errors, page.errors
    page.context.close()


def test_delete_running_task_asks_to_stop_and_clone(browser, trainer_live, tmp_path):
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    task = live.call("POST", "/api/tasks", task_config(ds_id, models, name="Runner"))["task"]
    live.call("POST", f"/api/tasks/{task['id']}/start")
    page = open_page(browser, live, "/tasks")
    row = page.locator(f"[data-testid=task-row][data-id={task['id']}]")
    expect(row).to_have_attribute("data-status", "running", timeout=15_000)

    # Clone opens the form filled from the task.
    row.locator("[data-testid=action-clone]").click()
    expect(page).to_have_url(re.compile(r"#/tasks/new\?clone="))
    expect(page.locator("[data-testid=task-name]")).to_have_value("Runner (copy)")
    expect(page.locator("[data-testid=dataset-select]")).to_have_value(ds_id)
    expect(page.locator("[data-preset=low]")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#f-dataset-num_repeats")).to_have_value("10")

    page.goto(live.base + "/#/tasks")
    row = page.locator(f"[data-testid=task-row][data-id={task['id']}]")
    row.locator("[data-testid=action-delete]").click()
    expect(page.locator("[data-testid=confirm-message]")).to_contain_text("running")
    expect(page.locator("[data-testid=confirm-choice-keep]")).to_contain_text("Stop")
    page.click("[data-testid=confirm-choice-all]")
    expect(page.locator("[data-testid=task-row]")).to_have_count(0, timeout=20_000)
    assert not (Path(live.data_dir) / "tasks" / task["id"]).exists()
    assert not page.errors, page.errors
    page.context.close()


def test_user_preset_save_and_load(browser, trainer_live, tmp_path):
    live = trainer_live
    page = open_page(browser, live, "/tasks/new")
    page.click("[data-testid=vram-preset] [data-preset=high]")
    page.fill("#f-training-network_dim", "8")
    page.click("[data-testid=save-preset]")
    page.fill("[data-testid=preset-name]", "Small rank")
    page.click("[data-testid=preset-save-confirm]")
    expect(page.locator("[data-testid=preset-name]")).to_have_count(0)
    page.reload()
    expect(page.locator("#f-training-network_dim")).to_have_value("16")
    page.select_option("[data-testid=load-from]", "preset:Small rank")
    expect(page.locator("#f-training-network_dim")).to_have_value("8")
    expect(page.locator("[data-preset=high]")).to_have_attribute("aria-checked", "true")
    assert live.call("GET", "/api/task-presets")["presets"][0]["name"] == "Small rank"
    page.context.close()


def test_gpu_panel_shows_recorded_readings(browser, gpu_live, tmp_path):
    live = gpu_live
    ds_id, models = setup_trainer(live, tmp_path)
    task = live.call("POST", "/api/tasks", {**task_config(ds_id, models, name="On the 3060"), "gpus": [1]})["task"]

    page = open_page(browser, live, "/tasks/new")
    expect(page.locator("[data-testid=gpu-0]")).to_be_visible()
    expect(page.locator("[data-testid=grp-gpus]")).to_contain_text("RTX 3060")
    page.click("[data-testid=vram-preset] [data-preset=high]")
    expect(page.locator("[data-testid=vram-estimate]")).to_have_class(re.compile("over"))  # 42 GB > 24 GB
    page.click("[data-testid=vram-preset] [data-preset=low]")
    # 12.3 GB fits the 24 GB card but not the ~6 GB left beside the 18.2 GB already in use (issue 13.11)
    expect(page.locator("[data-testid=vram-estimate]")).to_have_class(re.compile("over"))

    page.goto(live.base + f"/#/tasks/{task['id']}")
    cards = page.locator("[data-testid=gpu-card]")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_contain_text("RTX 4090")
    expect(cards.nth(0).locator("[data-testid=gpu-temp]")).to_have_text("66 °C")
    expect(cards.nth(1).locator("[data-testid=gpu-util]")).to_have_text(re.compile(r"^[01] %$"))
    expect(cards.nth(1)).to_have_class(re.compile("highlight"))
    expect(cards.nth(0)).not_to_have_class(re.compile("highlight"))
    expect(page.locator("[data-testid=stat-gpu]")).to_have_text("GPU 1 · RTX 3060")
    expect(page.locator("[data-testid=gpu-summary]")).to_contain_text("RTX 3060")  # the top bar follows the task's GPU
    shot(page, "training-en-gpu")
    page.goto(live.base + "/#/tasks")
    row = page.locator(f"[data-testid=task-row][data-id={task['id']}]")
    expect(row.locator("[data-testid=task-gpu]")).to_have_text("GPU 1 · RTX 3060")
    expect(row.locator("[data-testid=task-gpu] span")).to_have_attribute("title", "NVIDIA GeForce RTX 3060")
    assert not page.errors, page.errors
    page.context.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_chinese_pages_have_no_raw_keys(browser, trainer_live, tmp_path, theme):
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    live.call("PATCH", "/api/settings", {"theme": theme})
    task = live.call("POST", "/api/tasks", task_config(ds_id, models, name="猫 LoRA", epochs=2, repeats=2))["task"]
    live.call("POST", f"/api/tasks/{task['id']}/start")
    wait_for(lambda: live.call("GET", f"/api/tasks/{task['id']}")["task"]["status"] == "done", timeout=30)
    live.call("POST", "/api/tasks", {**task_config(ds_id, models, name="草稿任务"), "vram_preset": "medium"})

    page = open_page(browser, live, "/tasks/new", locale="zh-CN")
    expect(page.locator("[data-testid=vram-preset]")).to_contain_text("自定义")
    expect(page.locator("#f-training-learning_rate")).to_have_value("5e-5")
    shot(page, f"training-zh-create-top-{theme}")
    page.locator("[data-field='dataset.num_repeats'] [data-testid=help-button]").click()
    expect(page.locator("[data-testid=help-text]")).to_contain_text("每张图片被使用的次数")
    assert_no_raw_keys(page)
    shot(page, f"training-zh-create-{theme}")
    page.keyboard.press("Escape")
    page.click("[data-testid=grp-advanced] summary")
    page.locator("[data-testid=grp-advanced]").scroll_into_view_if_needed()
    assert_no_raw_keys(page)
    shot(page, f"training-zh-advanced-{theme}")

    page.goto(live.base + "/#/tasks")
    expect(page.locator("[data-testid=task-row]")).to_have_count(2)
    expect(page.locator("[data-testid=task-table]")).to_contain_text("已完成")
    assert_no_raw_keys(page)
    shot(page, f"training-zh-list-{theme}")

    page.goto(live.base + f"/#/tasks/{task['id']}")
    expect(page.locator("[data-testid=checkpoint-row]")).to_have_count(2, timeout=10_000)
    expect(page.locator("[data-testid=sample-thumb]")).to_have_count(2)
    wait_for(lambda: "model saved." in terminal_text(page), timeout=10)
    # Convert the final checkpoint to both formats (convert_lora.py --target other, then default).
    final = page.locator("[data-testid=checkpoint-row][data-file='猫_LoRA.safetensors']")
    expect(page.locator("[data-testid=convert-target] [data-target=other]")).to_have_attribute("aria-checked", "true")
    expect(page.locator("[data-testid=convert-target-help]")).to_contain_text("-comfyui.safetensors")
    final.locator("[data-testid=convert]").click()
    expect(final.locator("[data-testid=converted][data-target=comfyui]")).to_contain_text(
        "ComfyUI / Diffusers 格式：猫_LoRA-comfyui.safetensors", timeout=20_000)
    page.click("[data-testid=convert-target] [data-target=default]")
    expect(page.locator("[data-testid=convert-target-help]")).to_contain_text("-musubi.safetensors")
    final.locator("[data-testid=convert]").click()
    expect(final.locator("[data-testid=converted][data-target=musubi]")).to_contain_text(
        "musubi-tuner 格式：猫_LoRA-musubi.safetensors", timeout=20_000)
    converted = Path(live.data_dir) / "tasks" / task["id"] / "output" / "converted"
    assert sorted(p.name for p in converted.iterdir()) == ["猫_LoRA-comfyui.safetensors", "猫_LoRA-musubi.safetensors"]
    page.click("[data-testid=convert-target] [data-target=other]")
    assert_no_raw_keys(page)
    page.locator("[data-testid=task-title]").scroll_into_view_if_needed()
    shot(page, f"training-zh-detail-{theme}")
    page.locator("[data-testid=samples-grid]").scroll_into_view_if_needed()
    shot(page, f"training-zh-outputs-{theme}")
    page.locator("[data-testid=sample-thumb]").first.click()
    expect(page.locator("[data-testid=sample-viewer]")).to_be_visible()
    shot(page, f"training-zh-viewer-{theme}")
    assert not page.errors, page.errors
    page.context.close()


def test_queue_reorder_on_one_gpu(browser, trainer_live, tmp_path):
    """Three tasks on GPU 0: the first runs, the two queued ones are swapped in the list; when the
    first is stopped the moved task starts next."""
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    made = [live.call("POST", "/api/tasks", task_config(ds_id, models, name=name, epochs=epochs))["task"]
            for name, epochs in (("First", 40), ("Second", 40), ("Third", 40))]
    first, second, third = (t["id"] for t in made)
    live.call("POST", f"/api/tasks/{first}/start")
    wait_for(lambda: live.call("GET", f"/api/tasks/{first}")["task"]["status"] == "running", timeout=15)
    page = open_page(browser, live, "/tasks")
    panel = page.locator("[data-testid=queue-panel]")
    expect(panel).to_have_count(0)  # nothing waits yet

    # Queued from the list: the queue panel appears live, in start order, with places on GPU 0.
    for task_id in (second, third):
        page.locator(f"[data-testid=task-row][data-id={task_id}] [data-testid=action-start]").click()
    items = panel.locator("[data-testid=queue-item]")
    expect(items).to_have_count(2)
    expect(panel.locator("[data-testid=queue-lane][data-gpu='0']")).to_contain_text("GPU 0")
    expect(panel.locator("[data-testid=queue-running]")).to_contain_text("First")
    expect(items.nth(0)).to_have_attribute("data-id", second)
    expect(items.nth(0).locator("[data-testid=queue-up]")).to_be_disabled()
    expect(items.nth(1).locator("[data-testid=queue-down]")).to_be_disabled()
    place = page.locator(f"[data-testid=task-row][data-id={third}] [data-testid=queue-place]")
    expect(place).to_have_text("#2 on GPU 0")
    shot(page, "training-en-queue")

    # Move Third up with the keyboard (focus its button, press Enter): the API order follows.
    items.nth(1).locator("[data-testid=queue-up]").focus()
    page.keyboard.press("Enter")
    expect(items.nth(0)).to_have_attribute("data-id", third)
    expect(place).to_have_text("#1 on GPU 0")
    assert [e["id"] for e in live.call("GET", "/api/tasks")["queue"]] == [third, second]
    # Focus stays with the moved task (its ↑ is disabled now, so on its name); Alt+Down moves it back.
    expect(items.nth(0).locator(".qname")).to_be_focused()
    page.keyboard.press("Alt+ArrowDown")
    expect(items.nth(0)).to_have_attribute("data-id", second)
    expect(items.nth(1).locator(".qname")).to_be_focused()
    page.keyboard.press("Alt+ArrowUp")
    expect(items.nth(0)).to_have_attribute("data-id", third)
    assert [e["id"] for e in live.call("GET", "/api/tasks")["queue"]] == [third, second]
    # Dragging by the grip does the same: Second above Third, then Third back on top.
    for _ in range(2):
        src = items.nth(1).locator(".grip").bounding_box()
        dst = items.nth(0).bounding_box()
        moved = items.nth(1).get_attribute("data-id")
        page.mouse.move(src["x"] + src["width"] / 2, src["y"] + src["height"] / 2)
        page.mouse.down()
        for i in range(1, 13):
            y = src["y"] + src["height"] / 2 + (dst["y"] + 3 - src["y"] - src["height"] / 2) * i / 12
            page.mouse.move(src["x"] + src["width"] / 2, y)
            page.wait_for_timeout(20)
        page.mouse.up()
        expect(items.nth(0)).to_have_attribute("data-id", moved)
        assert live.call("GET", "/api/tasks")["queue"][0]["id"] == moved
    expect(items.nth(0)).to_have_attribute("data-id", third)

    # Stop the running task: the moved one starts next, the other keeps waiting at #1.
    page.locator(f"[data-testid=task-row][data-id={first}] [data-testid=action-stop]").click()
    page.click("[data-testid=confirm-ok]")  # the list asks before it stops a run
    expect(page.locator(f"[data-testid=task-row][data-id={third}]")).to_have_attribute("data-status", "running",
                                                                                      timeout=20_000)
    assert live.call("GET", f"/api/tasks/{second}")["task"]["status"] == "queued"
    expect(page.locator(f"[data-testid=task-row][data-id={second}] [data-testid=queue-place]")).to_have_text("#1 on GPU 0")
    expect(items).to_have_count(1)
    expect(panel.locator("[data-testid=queue-running]")).to_contain_text("Third")

    # The Chinese list says the same.
    page.select_option("[data-testid=lang-select]", "zh-CN")
    expect(page.locator(f"[data-testid=task-row][data-id={second}] [data-testid=queue-place]")).to_have_text("GPU 0 第 1 位")
    assert_no_raw_keys(page)
    shot(page, "training-zh-queue")
    assert not page.errors, page.errors
    page.context.close()
    for task_id in (second, third):
        live.call("POST", f"/api/tasks/{task_id}/stop")
    for task_id in (first, second, third):
        wait_for(lambda: live.call("GET", f"/api/tasks/{task_id}")["task"]["status"] in ("stopped", "draft"), timeout=20)


def test_task_page_shows_cache_counts_and_the_failure_in_both_languages(browser, tmp_path):
    """musubi's cache stages print a count without a total (`3it [00:01, 2.47it/s]`): with batches the
    app cannot foresee (batch size 2, bucketing on) the task page shows an indeterminate bar and the
    count. A trainer that fails shows why in the UI's language, with musubi's own error line."""
    # Each cached item takes longer than the bar's 0.1 s redraw interval, so the first one is drawn; then the
    # stand-in holds until the test has looked.
    release = tmp_path / "release-cache"
    env = {"LORA_WORKBENCH_GPU_PROVIDER": "none", "FAKE_MUSUBI_STEP_S": "0.05", "FAKE_MUSUBI_CACHE_S": "0.15",
           "FAKE_MUSUBI_CACHE_HOLD": str(release), "FAKE_MUSUBI_CRASH_AT_STEP": "2"}
    live = LiveApp(tmp_path / "data", env=env).wait_ready()
    try:
        skip_first_run(live)
        ds_id, models = setup_trainer(live, tmp_path)
        config = task_config(ds_id, models, name="Counting", epochs=2, repeats=1)
        config["dataset"]["batch_size"] = 2
        task = live.call("POST", "/api/tasks", config)["task"]
        live.call("POST", f"/api/tasks/{task['id']}/start")
        # Held after its first item, the stage sends no more events: the page, opened at once, must still show
        # the count, whichever comes first, its read of the task or its subscription (read again on the ack).

        page = open_page(browser, live, f"/tasks/{task['id']}")
        expect(page.locator("[data-testid=task-steps]")).to_have_text(
            re.compile(r"Caching (latents|text encoder outputs): [1-3] done"), timeout=15_000)
        expect(page.locator("[data-testid=task-progress-bar]")).to_have_class(re.compile("indeterminate"))
        zh = open_page(browser, live, f"/tasks/{task['id']}", locale="zh-CN")
        expect(zh.locator("[data-testid=task-steps]")).to_have_text(
            re.compile(r"(缓存潜变量|缓存文本编码)：已完成 [0-3] 项"), timeout=15_000)
        assert_no_raw_keys(zh)
        shot(zh, "training-zh-cache-count")
        release.touch()  # the stand-in's cache stages go on to training, which fails at step 2

        expect(zh.locator("[data-testid=task-error-text]")).to_have_text("训练退出，退出码 1。", timeout=30_000)
        expect(zh.locator("[data-testid=task-error-line]")).to_have_text(
            re.compile(r"^torch\.OutOfMemoryError: CUDA out of memory"))
        assert "CalledProcessError" not in zh.locator("[data-testid=task-error]").inner_text()
        assert_no_raw_keys(zh)
        shot(zh, "training-zh-failed")
        zh.select_option("[data-testid=lang-select]", "en")
        expect(zh.locator("[data-testid=task-error-text]")).to_have_text("Training exited with code 1.")
        expect(zh.locator("[data-testid=task-error]")).to_contain_text("musubi-tuner says:")
        assert not page.errors and not zh.errors, (page.errors, zh.errors)
        page.context.close()
        zh.context.close()
    finally:
        live.stop()


def test_a_refused_start_is_shown_in_the_users_language(browser, trainer_live, tmp_path):
    """A start the server refuses with a code shows its translated headline (err.<code>)."""
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    cfg = task_config(ds_id, models, name="调度")
    cfg["training"]["lr_scheduler"] = "cosine_with_min_lr"  # musubi crashes without the minimum LR ratio
    live.call("POST", "/api/tasks", cfg)
    page = open_page(browser, live, "/tasks", locale="zh-CN")
    page.locator("[data-testid=task-row] [data-testid=action-start]").click()
    banner = page.locator("[data-testid=error-banner][data-code=scheduler_needs_min_lr_ratio]")
    expect(banner).to_contain_text("cosine_with_min_lr 需要设置最小学习率比例")
    assert not page.errors, page.errors
    page.context.close()


def test_new_types_network_type_one_frame_indices_and_variant_defaults(browser, trainer_live, tmp_path):
    """LoHa/LoKr as a choice (LoRA+ hidden for them), one-frame indices from 0, and dataset settings that
    follow the variant (Wan FLF2V one-frame: control indices 0, 2)."""
    live = trainer_live
    page = open_page(browser, live, "/tasks/new")
    expect(page.locator("[data-testid=task-type]")).to_be_visible()
    network = page.locator("#f-training-network_type")
    expect(network.locator("option")).to_have_text(["LoRA", "LoHa (LyCORIS)", "LoKr (LyCORIS)"])
    expect(page.locator("#f-loraplus")).to_be_visible()
    network.select_option("lokr")
    expect(page.locator("#f-loraplus")).to_have_count(0)

    # Kandinsky 5 trains LoRA only: no choice to offer.
    page.select_option("[data-testid=task-type]", "kandinsky5-lora")
    expect(page.locator("#f-training-fp8_base")).to_be_attached()
    expect(page.locator("#f-training-network_type")).to_have_count(0)

    page.select_option("[data-testid=task-type]", "wan2.1-1f-lora")
    indices = page.locator("#f-dataset-fp_1f_clean_indices")
    expect(indices).to_have_value("0")
    page.select_option("#f-variant", "flf2v-14B")
    expect(indices).to_have_value("0, 2")
    page.fill("#f-dataset-fp_1f_target_index", "1")
    indices.fill("0, 10")
    expect(page.locator("[data-field='dataset.fp_1f_clean_indices'] [data-testid=field-error]")).to_have_count(0)
    page.click("[data-testid=add-prompt]")
    expect(page.locator("[data-field='samples.prompts.0.one_frame'] input")).to_be_visible()
    shot(page, "training-en-one-frame")


def test_create_without_a_trainer_saves_nothing_and_links_to_settings(browser, trainer_live, tmp_path):
    """No trainer: Create task says what is missing, saves no draft (however often it is pressed), and the
    banner's link opens the trainer section of Settings."""
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    empty = tmp_path / "no-trainer"
    empty.mkdir()
    live.call("PATCH", "/api/settings", {"musubi_dir": str(empty), "musubi_python": str(empty / "python.exe")})
    page = open_page(browser, live, "/tasks/new")
    page.fill("[data-testid=task-name]", "No trainer")
    for key, path in models.items():
        page.fill(f"[data-testid=model-{key}]", path)
    page.select_option("[data-testid=dataset-select]", ds_id)
    page.fill("[data-testid=duration-value]", "2")
    banner = page.locator("[data-testid=error-banner][data-code=trainer_not_ready]")
    for times in ("", "×2"):
        page.click("[data-testid=create-task]")
        expect(banner).to_contain_text("not created")
        expect(banner).to_contain_text(str(empty))
        if times:
            expect(banner).to_contain_text(times)
    expect(page.locator("[data-testid=create-task]")).to_be_enabled()
    assert live.call("GET", "/api/tasks")["tasks"] == []
    banner.locator("[data-testid=error-fix]").click()
    expect(page.locator("#settings-trainer")).to_be_in_viewport()
    assert page.evaluate("location.hash") == "#/settings?section=trainer"
    expect(banner).to_have_count(0)
    assert not page.errors, page.errors
    page.context.close()


def test_the_form_runs_the_model_librarys_checks_and_saves_no_broken_task(browser, trainer_live, tmp_path):
    """An fp8_scaled Qwen DiT and a truncated text encoder pass "file exists" but not the model library's
    check: the form shows the library's verdict under the field and creates nothing."""
    live = trainer_live
    ds_id, models = setup_trainer(live, tmp_path)
    fp8 = str(qwen_dit(tmp_path / "qwen_image_fp8_scaled.safetensors", fp8_scaled=True))
    cut = str(write_st(tmp_path / "te_cut.safetensors", {"model.embed_tokens.weight": ("BF16", [64, 64])}, cut=100))
    page = open_page(browser, live, "/tasks/new")
    page.fill("[data-testid=task-name]", "Broken models")
    page.fill("[data-testid=model-dit]", fp8)
    page.fill("[data-testid=model-vae]", models["vae"])
    page.fill("[data-testid=model-text_encoder]", cut)
    page.select_option("[data-testid=dataset-select]", ds_id)
    page.fill("[data-testid=duration-value]", "2")
    dit = page.locator("[data-field='models.dit']")
    te = page.locator("[data-field='models.text_encoder']")
    expect(dit.locator("[data-testid=model-problem][data-code=qwen_fp8_dit]")).to_have_attribute("data-severity", "error")
    expect(te.locator("[data-testid=model-problem][data-severity=error]")).to_have_count(1)
    expect(page.locator("[data-field='models.vae'] [data-testid=model-problem]")).to_have_count(0)
    page.click("[data-testid=create-task]")
    expect(dit.locator("[data-testid=field-error]")).to_contain_text("not created")
    page.fill("[data-testid=model-dit]", models["dit"])
    expect(dit.locator("[data-testid=model-problem]")).to_have_count(0)
    page.click("[data-testid=create-task]")
    expect(te.locator("[data-testid=field-error]")).to_contain_text("not created")
    assert live.call("GET", "/api/tasks")["tasks"] == []
    assert_no_raw_keys(page)
    assert not page.errors, page.errors
    page.context.close()
