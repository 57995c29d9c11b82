"""Settings: the first-run wizard, the model library's checks and the trainer environment's detection,
in headless Chromium against the real launcher."""

from __future__ import annotations

import sys

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import new_page, shot
from tests.live import LiveApp, wait_for
from tests.models.helpers import qwen_dit
from tests.runtime.fakes import make_checkout, make_env


@pytest.fixture
def live_gpu(tmp_path):
    """The app with a recorded NVIDIA driver (CUDA 12.8) instead of NVML."""
    app = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none",
                                          "LORA_WORKBENCH_NVIDIA_DRIVER": "572.16/12.8"}).wait_ready()
    yield app
    app.stop()


def test_first_run_wizard_on_a_fresh_data_dir(browser, live_gpu):
    page = new_page(browser, live_gpu)
    wizard = page.locator("[data-testid=first-run]")
    expect(wizard).to_be_visible()
    expect(wizard).to_have_attribute("data-step", "language")
    page.click("[data-testid=fr-lang-en]")
    expect(wizard).to_contain_text("Choose your language")
    page.click("[data-testid=fr-next]")
    expect(wizard).to_have_attribute("data-step", "data")
    expect(page.locator("[data-testid=fr-data-dir]")).to_have_text(str(live_gpu.data_dir))
    expect(wizard).to_contain_text("--data-dir")
    page.click("[data-testid=fr-next]")
    expect(wizard).to_have_attribute("data-step", "trainer")
    expect(wizard.locator("[data-testid=rt-problem][data-code=musubi_missing]")).to_be_visible()
    shot(page, "first-run-trainer")
    page.click("[data-testid=fr-next]")
    expect(wizard.locator("[data-testid=model-library]")).to_be_visible()
    page.click("[data-testid=fr-finish]")
    expect(wizard).to_have_count(0)
    assert live_gpu.call("GET", "/api/settings")["settings"]["first_run_done"] is True
    assert live_gpu.call("GET", "/api/settings")["settings"]["language"] == "en"
    page.reload()
    expect(page.locator("nav")).to_contain_text("Datasets")
    expect(page.locator("[data-testid=first-run]")).to_have_count(0)
    assert not page.errors, page.errors


def test_model_library_checks_typed_paths(page, live, tmp_path):
    good = qwen_dit(tmp_path / "qwen_image_bf16.safetensors")
    bad = qwen_dit(tmp_path / "qwen_image_fp8_e4m3fn_scaled.safetensors", fp8_scaled=True)
    live.call("PATCH", "/api/settings", {"language": "en"})
    page.goto(live.base + "/#/settings")
    page.reload()
    lib = page.locator("[data-testid=model-library]")
    page.click("[data-testid=model-tab-qwen-image-lora]")
    row = lib.locator('[data-testid="model-row-qwen-image-lora.dit"]')
    row.locator("[data-testid=model-path]").fill(str(good))
    row.locator("[data-testid=model-path]").press("Tab")
    expect(row).to_have_attribute("data-status", "ok")
    expect(row.locator("[data-testid=model-summary]")).to_contain_text("6 tensors · BF16")
    # the fp8_scaled DiT is flagged
    row.locator("[data-testid=model-path]").fill(str(bad))
    row.locator("[data-testid=model-path]").press("Tab")
    expect(row).to_have_attribute("data-status", "error")
    problem = row.locator("[data-testid=model-problem][data-code=qwen_fp8_dit]")
    expect(problem).to_contain_text("fp8 Qwen-Image DiT cannot be used")
    shot(page, "model-library-fp8")
    # a missing file
    vae = lib.locator('[data-testid="model-row-qwen-image-lora.vae"]')
    vae.locator("[data-testid=model-path]").fill(str(tmp_path / "nope.safetensors"))
    vae.locator("[data-testid=model-path]").press("Tab")
    expect(vae.locator("[data-testid=model-problem][data-code=not_found]")).to_be_visible()
    # the edit type's DiT is per variant
    page.click("[data-testid=model-tab-qwen-image-edit-lora]")
    expect(lib.locator('[data-testid="model-row-qwen-image-edit-lora@edit-2511.dit"]')).to_be_visible()
    page.select_option("[data-testid=model-variant]", "edit")
    expect(lib.locator('[data-testid="model-row-qwen-image-edit-lora@edit.dit"]')).to_be_visible()
    assert live.call("GET", "/api/models/defaults?task_type=qwen-image-lora")["models"]["dit"] == str(bad)
    assert not page.errors, page.errors


def test_trainer_environment_detects_a_fake_environment(page, live, tmp_path):
    checkout = make_checkout(tmp_path / "musubi-tuner")
    py = make_env(tmp_path / "env", musubi_src=checkout / "src")
    live.call("PATCH", "/api/settings", {"language": "en"})
    page.goto(live.base + "/#/settings")
    page.reload()
    env = page.locator("[data-testid=trainer-env]")
    expect(env.locator("[data-testid=rt-problem][data-code=musubi_missing]")).to_be_visible()
    expect(env.locator("[data-testid=rt-usable]")).to_have_attribute("data-usable", "false")
    env.locator("summary", has_text="Use my own").click()
    env.locator("[data-testid=setting-musubi_dir]").fill(str(checkout))
    env.locator("[data-testid=setting-musubi_dir]").press("Tab")
    env.locator("[data-testid=setting-musubi_python]").fill(str(py))
    env.locator("[data-testid=setting-musubi_python]").press("Tab")
    expect(env.locator("[data-testid=rt-torch]")).to_contain_text("2.7.1+cu128", timeout=30000)
    expect(env.locator("[data-testid=rt-torch]")).to_contain_text("CUDA 12.8")
    expect(env.locator("[data-testid=rt-gpu]")).to_contain_text("NVIDIA GeForce RTX 4090")
    expect(env.locator("[data-testid=rt-accelerate]")).to_contain_text("1.6.0")
    expect(env.locator("[data-testid=rt-version]")).to_contain_text("0.3.4")
    expect(env.locator("[data-testid=rt-python]")).to_contain_text("Python %d.%d" % sys.version_info[:2])
    expect(env.locator("[data-testid=rt-problem][data-code=musubi_missing]")).to_have_count(0)
    # this app runs without a GPU driver: that problem is explained with what to do
    no_gpu = env.locator("[data-testid=rt-problem][data-code=no_gpu]")
    expect(no_gpu).to_contain_text("NVIDIA driver")
    shot(page, "trainer-env-fake")
    settings = live.call("GET", "/api/settings")["settings"]
    assert settings["musubi_dir"] == str(checkout) and settings["musubi_python"] == str(py)
    assert not page.errors, page.errors


def test_model_library_variant_override(page, live, tmp_path):
    """A shared role gets a file for one variant only (FLUX.2 klein's text encoder), with the same checks."""
    shared = qwen_dit(tmp_path / "shared_te.safetensors")
    live.call("PATCH", "/api/settings", {"language": "en"})
    live.call("PATCH", "/api/models/library", {"flux2-lora.text_encoder": str(shared)})
    page.goto(live.base + "/#/settings")
    page.reload()
    lib = page.locator("[data-testid=model-library]")
    # a type with one variant has nothing to override
    page.click("[data-testid=model-tab-qwen-image-lora]")
    expect(lib.locator('[data-testid="model-row-qwen-image-lora.vae"]')).to_be_visible()
    expect(lib.locator("[data-testid=model-override]")).to_have_count(0)
    page.click("[data-testid=model-tab-flux2-lora]")
    page.select_option("[data-testid=model-variant]", "klein-4b")
    te = lib.locator('[data-testid="model-row-flux2-lora.text_encoder"]')
    expect(te.locator("[data-testid=model-path]")).to_have_value(str(shared))
    te.locator("[data-testid=model-override]").click()
    own = lib.locator('[data-testid="model-row-flux2-lora@klein-4b.text_encoder"]')
    expect(own).to_be_visible()
    expect(own).to_contain_text("only")
    own.locator("[data-testid=model-path]").fill(str(tmp_path / "qwen3_4b.safetensors"))
    own.locator("[data-testid=model-path]").press("Tab")
    expect(own.locator("[data-testid=model-problem][data-code=not_found]")).to_be_visible()
    expect(te.locator("[data-testid=model-overridden]")).to_be_visible()
    d = live.call("GET", "/api/models/defaults?task_type=flux2-lora&variant=klein-4b")
    assert d["models"]["text_encoder"] == str(tmp_path / "qwen3_4b.safetensors")
    assert live.call("GET", "/api/models/defaults?task_type=flux2-lora&variant=dev")["models"]["text_encoder"] == str(shared)
    shot(page, "model-library-override")
    # the dev variant still uses the shared file and offers its own override
    page.select_option("[data-testid=model-variant]", "dev")
    expect(lib.locator('[data-testid="model-row-flux2-lora@klein-4b.text_encoder"]')).to_have_count(0)
    expect(te.locator("[data-testid=model-override]")).to_be_visible()
    # back to klein: remove the override
    page.select_option("[data-testid=model-variant]", "klein-4b")
    own.locator("[data-testid=model-override-remove]").click()
    expect(own).to_have_count(0)
    d = live.call("GET", "/api/models/defaults?task_type=flux2-lora&variant=klein-4b")
    assert d["models"]["text_encoder"] == str(shared)
    assert not page.errors, page.errors


def test_trainer_environment_without_git(browser, tmp_path):
    """Git hidden (LORA_WORKBENCH_GIT=none): the problem says an archive will be downloaded instead."""
    app = LiveApp(tmp_path / "data", env={"LORA_WORKBENCH_GPU_PROVIDER": "none", "LORA_WORKBENCH_GIT": "none",
                                          "LORA_WORKBENCH_NVIDIA_DRIVER": "572.16/12.8"}).wait_ready()
    try:
        app.call("PATCH", "/api/settings", {"language": "en", "first_run_done": True})
        page = new_page(browser, app)
        page.goto(app.base + "/#/settings")
        page.reload()
        env = page.locator("[data-testid=trainer-env]")
        problem = env.locator("[data-testid=rt-problem][data-code=git_missing]")
        expect(problem).to_contain_text("downloaded as a zip archive")
        expect(problem).to_contain_text("still recommended")
        expect(env.locator("[data-testid=rt-git]")).to_contain_text("download a zip archive")
        env.locator("summary", has_text="Download sources").click()
        expect(env.locator("#set-musubi_archive_url")).to_have_value(
            "https://github.com/kohya-ss/musubi-tuner/archive/{commit}.zip")
        # where torch comes from: the PyTorch index by default; the package index is saved as the setting
        source = env.locator("[data-testid=setting-musubi_torch_source]")
        expect(source).to_have_value("pytorch")
        source.select_option("pypi")
        wait_for(lambda: app.call("GET", "/api/settings")["settings"]["musubi_torch_source"] == "pypi")
        page.select_option("[data-testid=lang-select]", "zh-CN")
        expect(problem).to_contain_text("zip 压缩包")
        expect(source.locator("option[value=pypi]")).to_have_text("软件包源（PyPI 或其镜像）")
        assert not page.errors, page.errors
    finally:
        app.stop()
